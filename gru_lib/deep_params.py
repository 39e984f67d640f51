"""``DeepGRUParams``: the parameters of a deep, optionally bidirectional GRU, one layer at a time.

It holds one single-layer ``GRUParams`` per layer and direction (reset-after, the form
``torch.nn.GRU`` computes) and converts from and to a ``torch.nn.GRU`` state dict. torch names a
tensor ``{weight,bias}_{ih,hh}_l{layer}`` plus ``_reverse`` for the reverse direction, so
``weight_ih_l1_reverse`` is the (3H, 2H) input weight of layer 1's reverse GRU. The gradients
that ``deep_gru_backward`` returns are a ``DeepGRUParams`` too, holding what ``gru_backward``
returns for each GRU, and their ``to_torch()`` gives torch's ``.grad`` of every tensor.
"""

import re
from collections.abc import Mapping, Sequence

from gru_lib.checks import FLOAT_DTYPES, check_finite, check_ndarray
from gru_lib.gru import GRUParams

TORCH_TENSORS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # one layer's, in torch's order
DIRECTION_SUFFIXES = ("", "_reverse")  # torch's suffix for direction 0 (forward) and 1
_TORCH_KEY = re.compile(r"(?:weight|bias)_(?:ih|hh)_l(\d+)(_reverse)?")


def layer_name(layer, direction):
    """torch's name of one GRU of the stack, e.g. ``l1_reverse`` for layer 1, direction 1."""
    return f"l{layer}{DIRECTION_SUFFIXES[direction]}"


class DeepGRUParams:
    """Parameters (or gradients) of a deep GRU: ``layers[layer][direction]``, each a GRUParams.

    Args:
        layers: a list of layers, each a list of one GRU per direction (1 or 2, the same for
            all layers), each reset-after with one dtype and one hidden size H. Layer 0 reads
            inputs of any size D; layer ``l > 0`` reads layer ``l - 1``'s output, so its input
            size must be ``num_directions * H``.
    """

    def __init__(self, layers):
        self.layers = _check_layers(layers)

    @property
    def num_layers(self):
        return len(self.layers)

    @property
    def num_directions(self):
        """1 (unidirectional) or 2 (bidirectional)."""
        return len(self.layers[0])

    @property
    def input_size(self):
        """D, the size of one input vector of layer 0."""
        return self.layers[0][0].input_size

    @property
    def hidden_size(self):
        """H, the size of every GRU's state."""
        return self.layers[0][0].hidden_size

    @property
    def dtype(self):
        return self.layers[0][0].dtype

    def named_layers(self):
        """``(name, params)`` for every GRU in torch's order (the order of ``h0`` and ``h_n``)."""
        return [(layer_name(layer, direction), params)
                for layer, directions in enumerate(self.layers)
                for direction, params in enumerate(directions)]

    def arrays(self):
        """Every array by name ``{layer name}.{array name}``, e.g. ``l0_reverse.W_xz``.

        The values are the arrays themselves, not copies: an optimiser may update them in place.
        """
        return {f"{name}.{array_name}": value for name, params in self.named_layers()
                for array_name, value in params.arrays().items()}

    def num_parameters(self):
        """Total number of scalars."""
        return sum(a.size for a in self.arrays().values())

    def copy(self):
        """A deep copy (new arrays, same values)."""
        return DeepGRUParams([[params.copy() for params in directions]
                              for directions in self.layers])

    def __repr__(self):
        return (f"DeepGRUParams(num_layers={self.num_layers}, "
                f"num_directions={self.num_directions}, input_size={self.input_size}, "
                f"hidden_size={self.hidden_size}, dtype={self.dtype})")

    def to_torch(self):
        """A dict torch name -> array, as ``torch.nn.GRU.state_dict()`` holds them.

        For parameters, a bias that is one parameter here but two in torch (``b_z``, ``b_r``) goes
        into ``bias_ih`` with zeros in ``bias_hh`` (the same function); for gradients, each slot
        gets the gradient, torch's ``.grad`` (see ``GRUParams.to_torch_layout``).
        """
        return {f"{tensor}_{name}": value for name, params in self.named_layers()
                for tensor, value in zip(TORCH_TENSORS, params.to_torch_layout(), strict=True)}

    @classmethod
    def from_torch(cls, state_dict):
        """Parameters from a dict torch name -> NumPy array, e.g. the arrays of
        ``{k: v.numpy() for k, v in torch.nn.GRU(...).state_dict().items()}``.

        The number of layers and directions is read from the names. Raises ValueError for a
        missing or unexpected name, a wrong shape (all shapes follow from ``weight_ih_l0``
        (3H, D) and ``weight_hh_l0`` (3H, H)) or a NaN; TypeError for a value that is not a
        float32 or float64 array, or for mixed dtypes. Every message names the key.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"state_dict must be a dict of torch names to arrays, "
                            f"got {type(state_dict).__name__}")
        num_layers, num_directions = _torch_structure(state_dict)
        kind = f"{num_layers}-layer {('', 'bidirectional ')[num_directions - 1]}GRU"
        expected = _torch_keys(num_layers, num_directions)
        missing = [key for key in expected if key not in state_dict]
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise ValueError(f"state_dict has no {missing[0]!r}{more}, which a {kind} needs "
                             f"(the number of layers and directions is read from the names)")
        extra = [key for key in state_dict if key not in expected]
        if extra:
            raise ValueError(f"state_dict has the unexpected key {extra[0]!r}; a {kind} has "
                             f"exactly {list(expected)}")
        _check_torch_arrays(state_dict, expected, num_directions)
        return cls([[GRUParams.from_torch_layout(
            *(state_dict[f"{tensor}_{layer_name(layer, direction)}"] for tensor in TORCH_TENSORS),
            reset_after=True) for direction in range(num_directions)]
            for layer in range(num_layers)])


def _torch_structure(state_dict):
    """``(num_layers, num_directions)`` from the torch names present in ``state_dict``."""
    found = [_TORCH_KEY.fullmatch(key) for key in state_dict if isinstance(key, str)]
    found = [match for match in found if match]
    if not found:
        raise ValueError(f"state_dict holds no torch.nn.GRU tensor (keys such as "
                         f"'weight_ih_l0'), got keys {list(state_dict)}")
    num_layers = 1 + max(int(match[1]) for match in found)
    return num_layers, 2 if any(match[2] for match in found) else 1


def _torch_keys(num_layers, num_directions):
    """Every torch name of the stack in torch's order, mapped to ``(tensor, layer)``."""
    return {f"{tensor}_{layer_name(layer, direction)}": (tensor, layer)
            for layer in range(num_layers) for direction in range(num_directions)
            for tensor in TORCH_TENSORS}


def _check_torch_arrays(state_dict, expected, num_directions):
    """Types, one dtype, shapes and finiteness of the arrays (``expected`` from _torch_keys)."""
    dtype = None
    for key in expected:
        value = check_ndarray(f"state_dict[{key!r}]", state_dict[key])
        if value.dtype not in FLOAT_DTYPES:
            raise TypeError(f"state_dict[{key!r}] must be float32 or float64, got {value.dtype}")
        if dtype is None:
            dtype = value.dtype
        if value.dtype != dtype:
            raise TypeError(f"state_dict[{key!r}] has dtype {value.dtype}, but "
                            f"'weight_ih_l0' has {dtype}; all tensors must share one dtype")
    w_ih, w_hh = state_dict["weight_ih_l0"], state_dict["weight_hh_l0"]
    if w_hh.ndim != 2 or w_hh.shape[0] != 3 * w_hh.shape[1] or w_hh.size == 0:
        raise ValueError(f"state_dict['weight_hh_l0'] must have shape (3H, H), got {w_hh.shape}")
    h = w_hh.shape[1]
    if w_ih.ndim != 2 or w_ih.shape[0] != 3 * h or w_ih.shape[1] == 0:
        raise ValueError(f"state_dict['weight_ih_l0'] must have shape (3H, D) = ({3 * h}, D) "
                         f"for H = {h} (from weight_hh_l0), got {w_ih.shape}")
    d = w_ih.shape[1]
    for key, (tensor, layer) in expected.items():
        inputs = d if layer == 0 else num_directions * h  # layer l > 0 reads [h_fwd; h_rev]
        shape = {"weight_ih": (3 * h, inputs), "weight_hh": (3 * h, h)}.get(tensor, (3 * h,))
        if state_dict[key].shape != shape:
            raise ValueError(f"state_dict[{key!r}] must have shape {shape} for D = {d}, H = {h} "
                             f"(from weight_ih_l0 and weight_hh_l0), got {state_dict[key].shape}")
        check_finite(f"state_dict[{key!r}]", state_dict[key])


def _check_layers(layers):
    """``layers`` as a tuple (layers) of tuples (directions) of GRUParams, after checking that
    they fit together; raises TypeError/ValueError naming ``layers[l][d]`` otherwise."""
    if not isinstance(layers, Sequence) or not layers:
        raise TypeError(f"layers must be a non-empty list of layers, each a list of GRUParams "
                        f"(one per direction), got {type(layers).__name__}")
    num_directions = None
    for layer, directions in enumerate(layers):
        if not isinstance(directions, Sequence) or not 1 <= len(directions) <= 2:
            raise TypeError(f"layers[{layer}] must be a list of 1 or 2 GRUParams (one per "
                            f"direction), got {type(directions).__name__}")
        num_directions = num_directions or len(directions)
        if len(directions) != num_directions:
            raise ValueError(f"layers[{layer}] has {len(directions)} directions, but layers[0] "
                             f"has {num_directions}: all layers need the same number")
    first = layers[0][0]
    for layer, directions in enumerate(layers):
        for direction, params in enumerate(directions):
            name = f"layers[{layer}][{direction}]"
            if not isinstance(params, GRUParams):
                raise TypeError(f"{name} must be GRUParams, got {type(params).__name__}")
            if type(params) is not type(first):  # parameters and gradients do not mix
                raise TypeError(f"{name} is a {type(params).__name__}, but layers[0][0] is a "
                                f"{type(first).__name__}")
            if not params.reset_after:
                raise ValueError(f"{name} must be reset_after=True, the form torch.nn.GRU "
                                 f"computes")
            if params.dtype != first.dtype:
                raise TypeError(f"{name} has dtype {params.dtype}, but layers[0][0] has "
                                f"{first.dtype}; all layers must share one dtype")
            if params.hidden_size != first.hidden_size:
                raise ValueError(f"{name} has hidden size {params.hidden_size}, but "
                                 f"layers[0][0] has {first.hidden_size}")
            inputs = first.input_size if layer == 0 else num_directions * first.hidden_size
            if params.input_size != inputs:
                raise ValueError(f"{name} has input size {params.input_size}, but must have "
                                 f"{inputs} (layer 0 reads xs, a later layer the "
                                 f"{num_directions} * H outputs of the layer below)")
    return tuple(tuple(directions) for directions in layers)

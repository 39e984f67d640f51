"""Parameter containers of the recurrent layers: plain named arrays, and their initialisation.

A container holds arrays and nothing else: no maths, no flags that change what a method returns.
``GRUParams`` and ``RNNParams`` share one base (``LayerParams``): its arrays by name, their sizes,
dtype, copies. Gradients come back from a backward pass in the same shape of container:
``GRUGradients`` for the GRU, a separate type because one PyTorch tensor's gradient is filled
differently from the tensor itself (see ``gru_lib.torch_layout``).
"""

from dataclasses import dataclass, fields

import numpy as np

from gru_lib.checks import (
    check_bool,
    check_choice,
    check_float_dtype,
    check_parameter_arrays,
    check_positive_int,
    check_real,
    make_rng,
)


@dataclass
class LayerParams:
    """Base of the layer containers: named float arrays, the first one the (D, H) input weights.

    Subclasses list their arrays as dataclass fields; fields that are not arrays (flags) are
    declared in ``SETTINGS`` so that ``arrays()`` leaves them out.
    """

    SETTINGS = ()

    def __post_init__(self):
        check_parameter_arrays(type(self).__name__, self.arrays(), self.shapes_for)

    def shapes_for(self, d, h):
        """The expected shape of every array for input size D and hidden size H."""
        raise NotImplementedError

    def arrays(self):
        """The arrays by name, in a fixed order (None entries left out).

        The values are the arrays themselves, not copies: an optimiser may update them in place.
        """
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name not in self.SETTINGS and value is not None:
                out[f.name] = value
        return out

    def settings(self):
        """The non-array fields (e.g. ``reset_after``) by name."""
        return {name: getattr(self, name) for name in self.SETTINGS}

    @property
    def input_size(self):
        """D, the size of one input vector."""
        return next(iter(self.arrays().values())).shape[0]

    @property
    def hidden_size(self):
        """H, the size of the hidden state."""
        return next(iter(self.arrays().values())).shape[1]

    @property
    def dtype(self):
        """The floating dtype shared by all arrays."""
        return next(iter(self.arrays().values())).dtype

    def num_parameters(self):
        """Total number of scalars."""
        return sum(a.size for a in self.arrays().values())

    def copy(self):
        """A deep copy: new arrays, same values and settings, same type."""
        return type(self)(**{n: a.copy() for n, a in self.arrays().items()}, **self.settings())


# -- the GRU ---------------------------------------------------------------------------------

GRU_INPUT_WEIGHTS = ("W_xz", "W_xr", "W_xh")
GRU_RECURRENT_WEIGHTS = ("W_hz", "W_hr", "W_hh")
GRU_BIASES = ("b_z", "b_r", "b_h")


@dataclass
class GRUParams(LayerParams):
    """Parameters of one GRU layer.

    Attributes:
        W_xz, W_xr, W_xh: (D, H) input-to-hidden weights of the update gate, reset gate and
            candidate state.
        W_hz, W_hr, W_hh: (H, H) hidden-to-hidden weights of the same three.
        b_z, b_r, b_h: (H,) biases.
        reset_after: False for the Cho et al. (2014) form, True for the PyTorch/cuDNN form.
        b_hn: (H,) the recurrent candidate bias inside ``r * (h W_hh + b_hn)``; required when
            ``reset_after`` is True and must be None otherwise (it would merge into ``b_h``).
    """

    W_xz: np.ndarray
    W_xr: np.ndarray
    W_xh: np.ndarray
    W_hz: np.ndarray
    W_hr: np.ndarray
    W_hh: np.ndarray
    b_z: np.ndarray
    b_r: np.ndarray
    b_h: np.ndarray
    reset_after: bool = False
    b_hn: np.ndarray | None = None

    SETTINGS = ("reset_after",)

    def __post_init__(self):
        self.reset_after = check_bool("reset_after", self.reset_after)
        if self.reset_after and self.b_hn is None:
            raise ValueError("reset_after=True needs the recurrent candidate bias b_hn (H,)")
        if not self.reset_after and self.b_hn is not None:
            raise ValueError("b_hn is only used with reset_after=True; with reset_after=False "
                             "it is part of b_h (b_h = b_in + b_hn)")
        super().__post_init__()

    def shapes_for(self, d, h):
        shapes = {name: (d, h) for name in GRU_INPUT_WEIGHTS}
        shapes.update({name: (h, h) for name in GRU_RECURRENT_WEIGHTS})
        shapes.update({name: (h,) for name in GRU_BIASES + ("b_hn",)[: int(self.reset_after)]})
        return shapes

    @classmethod
    def from_torch_layout(cls, weight_ih, weight_hh, bias_ih, bias_hh, *, reset_after):
        """Parameters from ``torch.nn.GRU``'s layer tensors; see ``torch_layout.from_torch``."""
        from gru_lib.torch_layout import from_torch

        return from_torch(weight_ih, weight_hh, bias_ih, bias_hh, reset_after=reset_after)

    def to_torch_layout(self):
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` as ``torch.nn.GRU`` stores them; see
        ``torch_layout.to_torch``."""
        from gru_lib.torch_layout import to_torch

        return to_torch(self)


@dataclass
class GRUGradients(GRUParams):
    """Gradients of a loss with respect to every array of a ``GRUParams`` (same names, shapes).

    What ``gru_backward`` returns. ``to_torch_layout`` gives the gradients of PyTorch's four
    tensors, which differ from the conversion of parameters in the bias slots.
    """

    @classmethod
    def from_torch_layout(cls, weight_ih, weight_hh, bias_ih, bias_hh, *, reset_after):
        """Gradients from the ``.grad`` of ``torch.nn.GRU``'s four tensors; see
        ``torch_layout.gradients_from_torch``."""
        from gru_lib.torch_layout import gradients_from_torch

        return gradients_from_torch(weight_ih, weight_hh, bias_ih, bias_hh,
                                    reset_after=reset_after)

    def to_torch_layout(self):
        """The gradients of ``(weight_ih, weight_hh, bias_ih, bias_hh)``; see
        ``torch_layout.gradients_to_torch``."""
        from gru_lib.torch_layout import gradients_to_torch

        return gradients_to_torch(self)


def _uniform_weights(rng, rows, hidden_size, dtype):
    bound = 1.0 / np.sqrt(hidden_size)
    return rng.uniform(-bound, bound, size=(rows, hidden_size)).astype(dtype)


def init_gru_params(input_size, hidden_size, *, reset_after=False, update_bias=0.0, rng=None,
                    dtype=np.float64):
    """Random GRU parameters: weights uniform in ``(-1/sqrt(H), 1/sqrt(H))``, biases zero.

    This is the scale ``torch.nn.GRU`` uses for its weights; zero biases make the gates start
    half open, a neutral place to start learning from.

    Args:
        input_size: D. hidden_size: H.
        reset_after: which variant (see ``gru_lib.gru``).
        update_bias: the initial value of every entry of ``b_z``. A positive value makes the
            update gate start mostly closed (z near 1 keeps the state), so memory reaches further
            at initialisation (the lesson of a positive forget-gate bias in LSTMs).
        rng: a ``numpy.random.Generator`` or an int seed; None means seed 0, so that a call
            without a generator is still reproducible.
        dtype: float64 (default) or float32.
    """
    dtype = check_float_dtype(dtype)
    input_size = check_positive_int("input_size", input_size)
    hidden_size = check_positive_int("hidden_size", hidden_size)
    reset_after = check_bool("reset_after", reset_after)
    update_bias = check_real("update_bias", update_bias)
    rng = make_rng(rng)
    arrays = {name: _uniform_weights(rng, input_size, hidden_size, dtype)
              for name in GRU_INPUT_WEIGHTS}
    arrays.update({name: _uniform_weights(rng, hidden_size, hidden_size, dtype)
                   for name in GRU_RECURRENT_WEIGHTS})
    arrays.update({name: np.zeros(hidden_size, dtype) for name in GRU_BIASES})
    arrays["b_z"] += update_bias
    if reset_after:
        arrays["b_hn"] = np.zeros(hidden_size, dtype)
    return GRUParams(**arrays, reset_after=reset_after)


# -- the plain RNN ---------------------------------------------------------------------------


@dataclass
class RNNParams(LayerParams):
    """Parameters of one tanh RNN layer (or gradients with respect to them: same arrays).

    Attributes:
        W_xh: (D, H) input-to-hidden weights.
        W_hh: (H, H) hidden-to-hidden (recurrent) weights.
        b_h: (H,) bias.
    """

    W_xh: np.ndarray
    W_hh: np.ndarray
    b_h: np.ndarray

    def shapes_for(self, d, h):
        return {"W_xh": (d, h), "W_hh": (h, h), "b_h": (h,)}


RNN_INITS = ("uniform", "orthogonal", "identity")


def init_rnn_params(input_size, hidden_size, *, recurrent_init="uniform", rng=None,
                    dtype=np.float64):
    """Random RNN parameters: input weights uniform in ``(-1/sqrt(H), 1/sqrt(H))``, bias zero.

    Args:
        input_size: D. hidden_size: H.
        recurrent_init: how ``W_hh`` starts. ``"uniform"``: like the input weights, the scale
            ``torch.nn.RNN`` uses (and ``init_gru_params``), so the two models start comparably.
            ``"orthogonal"``: a random orthogonal matrix, whose singular values are all 1, so a
            gradient passing back through ``W_hh^T`` keeps its norm (before the tanh's
            derivative shrinks it). ``"identity"``: the identity (the IRNN of Le et al. 2015,
            meant for ReLU; with tanh it starts as a leaky memory).
        rng: a ``numpy.random.Generator`` or an int seed; None means seed 0.
        dtype: float64 (default) or float32.
    """
    dtype = check_float_dtype(dtype)
    input_size = check_positive_int("input_size", input_size)
    hidden_size = check_positive_int("hidden_size", hidden_size)
    check_choice("recurrent_init", recurrent_init, RNN_INITS)
    rng = make_rng(rng)
    W_xh = _uniform_weights(rng, input_size, hidden_size, dtype)
    W_hh = _uniform_weights(rng, hidden_size, hidden_size, dtype)
    if recurrent_init == "orthogonal":
        # QR of a Gaussian matrix, signs fixed by R's diagonal: uniform over orthogonal matrices.
        q, r = np.linalg.qr(rng.standard_normal((hidden_size, hidden_size)))
        W_hh = (q * np.sign(np.diag(r))).astype(dtype)
    elif recurrent_init == "identity":
        W_hh = np.eye(hidden_size, dtype=dtype)
    return RNNParams(W_xh=W_xh, W_hh=W_hh, b_h=np.zeros(hidden_size, dtype))


def sum_gradients(local_grads):
    """The total gradient: the sum of a list of gradients of one layer (e.g. one per step),
    returned in the same container type."""
    first = local_grads[0]
    total = {name: np.sum([g.arrays()[name] for g in local_grads], axis=0)
             for name in first.arrays()}
    return type(first)(**total, **first.settings())

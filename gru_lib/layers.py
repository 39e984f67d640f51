"""The recurrent layers behind one small protocol, so that a model can use any of them.

A ``Layer`` is a layer's parameters with its pair of sequence functions::

    hs, cache = layer.forward(xs, h0, mask)        # xs (T, B, D), h0 (B, H) -> hs (T, B, H)
    dxs, dh0, grads = layer.backward(dhs, cache)   # grads: the same container as layer.params

``LAYER_KINDS`` lists the kinds: the GRU's reference path (``"gru"``), its fast path
(``"gru_fast"``: the same function, computed faster) and the plain tanh RNN (``"rnn"``).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gru_lib import fast, gru, rnn
from gru_lib.checks import check_choice
from gru_lib.params import GRUParams, LayerParams, RNNParams, init_gru_params, init_rnn_params


@dataclass(frozen=True)
class LayerKind:
    """One kind of recurrent layer: its name, parameter type, initialiser and functions.

    ``prefix`` names its arrays in a model's ``parameters()`` (``"gru."`` + ``"W_hh"``), the same
    for the two paths of the GRU, which have the same parameters.
    """

    name: str
    prefix: str
    params_type: type
    init: Callable
    forward: Callable
    backward: Callable


LAYER_KINDS = {
    "gru": LayerKind("gru", "gru.", GRUParams, init_gru_params, gru.gru_forward,
                     gru.gru_backward),
    "gru_fast": LayerKind("gru_fast", "gru.", GRUParams, init_gru_params, fast.gru_forward,
                          fast.gru_backward),
    "rnn": LayerKind("rnn", "rnn.", RNNParams, init_rnn_params, rnn.rnn_forward,
                     rnn.rnn_backward),
}


@dataclass
class Layer:
    """A recurrent layer: ``kind`` (a ``LayerKind``) and ``params`` (its ``LayerParams``)."""

    kind: LayerKind
    params: LayerParams

    def __post_init__(self):
        if not isinstance(self.kind, LayerKind):
            raise TypeError(f"kind must be a LayerKind, got {type(self.kind).__name__}")
        if not isinstance(self.params, self.kind.params_type):
            raise TypeError(f"a {self.kind.name!r} layer needs {self.kind.params_type.__name__}, "
                            f"got {type(self.params).__name__}")

    @classmethod
    def create(cls, kind, input_size, hidden_size, *, rng=None, dtype=np.float64, **options):
        """A freshly initialised layer of kind ``"gru"``, ``"gru_fast"`` or ``"rnn"``.

        ``options`` go to the kind's initialiser (``reset_after``, ``update_bias`` for the GRU;
        ``recurrent_init`` for the RNN).
        """
        kind = LAYER_KINDS[check_choice("kind", kind, tuple(LAYER_KINDS))]
        return cls(kind, kind.init(input_size, hidden_size, rng=rng, dtype=dtype, **options))

    @classmethod
    def of(cls, params, *, fast_path=False):
        """The layer for existing parameters: a GRU (reference or fast path) or an RNN."""
        if isinstance(params, GRUParams):
            return cls(LAYER_KINDS["gru_fast" if fast_path else "gru"], params)
        if isinstance(params, RNNParams):
            return cls(LAYER_KINDS["rnn"], params)
        raise TypeError(f"params must be GRUParams or RNNParams, got {type(params).__name__}")

    @property
    def input_size(self):
        """D."""
        return self.params.input_size

    @property
    def hidden_size(self):
        """H."""
        return self.params.hidden_size

    @property
    def dtype(self):
        """The parameters' dtype."""
        return self.params.dtype

    def forward(self, xs, h0, mask=None):
        """``(hs, cache)`` for inputs ``xs`` (T, B, D) from the state ``h0`` (B, H)."""
        return self.kind.forward(xs, h0, self.params, mask)

    def backward(self, dhs, cache):
        """``(dxs, dh0, grads)`` from dL/dhs (T, B, H) and the forward pass's cache."""
        return self.kind.backward(dhs, cache)


__all__ = ["LAYER_KINDS", "Layer", "LayerKind"]

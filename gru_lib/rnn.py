"""A vanilla (Elman) tanh RNN: one step and a whole sequence, forward and backward.

The baseline the GRU is compared with. Same layout as ``gru_lib.gru``: row vectors
(``x @ W``), time-major sequences ``(T, B, D)``, hidden state ``(B, H)``. One step computes

    h_new = tanh(x W_xh + h W_hh + b_h)

and nothing else: no gate decides how much of ``h`` to keep, so every step multiplies the
gradient flowing back in time by ``diag(1 - h_new**2)`` and ``W_hh^T``.

The functions are pure: they never change the parameters, and the backward pass only returns
gradients. As in ``gru_lib.gru``, the input projections of all time steps are one matrix
product before the loop, and the weight gradients are one matrix product over all time steps
after it.
"""

from dataclasses import dataclass

import numpy as np

from gru_lib.activations import tanh, tanh_grad_from_output
from gru_lib.checks import (
    check_array,
    check_float_dtype,
    check_layer_sizes,
    check_parameter_arrays,
    check_sequence_inputs,
    check_step_inputs,
)
from gru_lib.padding import carry_state_at_padding, split_gradient_at_padding

# Names of the parameter arrays, in the order used everywhere.
RNN_PARAMETER_NAMES = ("W_xh", "W_hh", "b_h")


@dataclass
class RNNParams:
    """Parameters of one tanh RNN layer (or gradients with respect to them).

    Attributes:
        W_xh: (D, H) input-to-hidden weights.
        W_hh: (H, H) hidden-to-hidden (recurrent) weights.
        b_h: (H,) bias.
    """

    W_xh: np.ndarray
    W_hh: np.ndarray
    b_h: np.ndarray

    def __post_init__(self):
        check_parameter_arrays(
            "RNNParams", self.arrays(), lambda d, h: {"W_xh": (d, h), "W_hh": (h, h), "b_h": (h,)})

    @property
    def input_size(self):
        """D, the size of one input vector."""
        return self.W_xh.shape[0]

    @property
    def hidden_size(self):
        """H, the size of the hidden state."""
        return self.W_xh.shape[1]

    @property
    def dtype(self):
        """The floating dtype shared by all arrays."""
        return self.W_xh.dtype

    def arrays(self):
        """The parameter arrays by name, in the order ``W_xh, W_hh, b_h``.

        The values are the arrays themselves, not copies: an optimiser may update them in place.
        """
        return {name: getattr(self, name) for name in RNN_PARAMETER_NAMES}

    def num_parameters(self):
        """Total number of scalars: DH + HH + H."""
        return sum(a.size for a in self.arrays().values())

    def copy(self):
        """A deep copy (new arrays, same values)."""
        return RNNParams(**{name: a.copy() for name, a in self.arrays().items()})


def init_rnn_params(input_size, hidden_size, *, rng=None, dtype=np.float64):
    """Random RNN parameters: weights uniform in ``(-1/sqrt(H), 1/sqrt(H))``, bias zero.

    The weight scale is the one ``torch.nn.RNN`` uses (and ``init_gru_params``), so the two
    models start from comparable recurrent weights.

    Args:
        input_size: D. hidden_size: H.
        rng: a ``numpy.random.Generator`` or an int seed; None means seed 0, so that a call
            without a generator is still reproducible.
        dtype: float64 (default) or float32.
    """
    dtype = check_float_dtype(dtype)
    check_layer_sizes(input_size, hidden_size)
    rng = np.random.default_rng(0 if rng is None else rng)
    bound = 1.0 / np.sqrt(hidden_size)
    W_xh = rng.uniform(-bound, bound, size=(input_size, hidden_size)).astype(dtype)
    W_hh = rng.uniform(-bound, bound, size=(hidden_size, hidden_size)).astype(dtype)
    return RNNParams(W_xh=W_xh, W_hh=W_hh, b_h=np.zeros(hidden_size, dtype))


# --------------------------------------------------------------------------------------------
# The cell. The equations live here once; the step and sequence functions share them.


def _cell_forward(x_proj, h_prev, params):
    """One step given the input projection ``x_proj = x W_xh + b_h`` (B, H): the new state."""
    return tanh(x_proj + h_prev @ params.W_hh)


def _cell_backward(dh_new, h_new, params):
    """Backward through one step, given dL/dh_new (B, H) and the step's output h_new (B, H).

    Returns ``(d_pre, dh_prev)``: the gradient (B, H) with respect to the pre-activation
    ``x W_xh + h_prev W_hh + b_h``, from which the weight, bias and input gradients follow by
    matrix products, and the gradient (B, H) with respect to h_prev,
    ``dh_prev = (dh_new * (1 - h_new**2)) W_hh^T``.
    """
    d_pre = dh_new * tanh_grad_from_output(h_new)
    return d_pre, d_pre @ params.W_hh.T


@dataclass
class RNNStepCache:
    """What one step's backward pass needs.

    Attributes: ``x`` (B, D) the input, ``h_prev`` (B, H) the previous state, ``h`` (B, H) the new
    state, and ``params``.
    """

    x: np.ndarray
    h_prev: np.ndarray
    h: np.ndarray
    params: RNNParams


def rnn_step_forward(x, h_prev, params):
    """One RNN step for a batch: ``h = tanh(x W_xh + h_prev W_hh + b_h)``.

    Args:
        x: (B, D) inputs. h_prev: (B, H) previous hidden state. params: RNNParams.

    Returns:
        ``(h, cache)``: the new state (B, H) and an ``RNNStepCache`` for ``rnn_step_backward``.
    """
    check_step_inputs(x, h_prev, params, RNNParams)
    h = _cell_forward(x @ params.W_xh + params.b_h, h_prev, params)
    return h, RNNStepCache(x, h_prev, h, params)


def rnn_step_backward(dh, cache):
    """Backward pass of one step.

    Args:
        dh: (B, H) gradient of the loss with respect to the step's output h.
        cache: the ``RNNStepCache`` returned by ``rnn_step_forward``.

    Returns:
        ``(dx, dh_prev, grads)``: (B, D), (B, H) and an RNNParams of gradients.
    """
    p = cache.params
    check_array("dh", dh, cache.h.shape, p.dtype)
    d_pre, dh_prev = _cell_backward(dh, cache.h, p)
    dx = d_pre @ p.W_xh.T
    grads = RNNParams(W_xh=cache.x.T @ d_pre, W_hh=cache.h_prev.T @ d_pre,
                      b_h=d_pre.sum(axis=0))
    return dx, dh_prev, grads


@dataclass
class RNNSequenceCache:
    """Everything ``rnn_backward`` needs: ``xs`` (T, B, D); ``h0`` (B, H); ``hs`` (T, B, H);
    ``mask`` (T, B, 1) or None; ``params``."""

    xs: np.ndarray
    h0: np.ndarray
    hs: np.ndarray
    mask: np.ndarray | None
    params: RNNParams

    def nbytes(self):
        """Bytes held by the cached arrays (what a forward pass keeps alive for the backward)."""
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))


def rnn_forward(xs, h0, params, mask=None):
    """Run the RNN over a batch of sequences.

    Args:
        xs: (T, B, D) inputs, time-major.
        h0: (B, H) initial hidden state.
        params: RNNParams (its dtype fixes the dtype of everything).
        mask: optional (T, B) of 0/1. Where ``mask[t, b] == 0`` (padding) the state of sequence b
            is carried over unchanged, so ``hs[-1]`` is each sequence's state after its last real
            step, and padded steps receive no gradient.

    Returns:
        ``(hs, cache)``: hidden states (T, B, H) after every step, and an ``RNNSequenceCache``.
    """
    mask3 = check_sequence_inputs(xs, h0, params, mask, RNNParams)
    t_steps, batch, d = xs.shape
    hs_ = params.hidden_size
    # One GEMM for the input projections of every step: (T*B, D) @ (D, H).
    x_proj = (xs.reshape(t_steps * batch, d) @ params.W_xh + params.b_h).reshape(
        t_steps, batch, hs_)
    hs = np.empty((t_steps, batch, hs_), params.dtype)
    h = h0
    for t in range(t_steps):
        hs[t] = _cell_forward(x_proj[t], h, params)
        carry_state_at_padding(hs[t], h, mask3, t)
        h = hs[t]
    return hs, RNNSequenceCache(xs, h0, hs, mask3, params)


def rnn_backward(dhs, cache):
    """Backpropagation through time.

    Args:
        dhs: (T, B, H) the upstream gradient of the loss with respect to every hidden state
            ``hs[t]`` (zeros where the loss does not read a state).
        cache: the ``RNNSequenceCache`` of ``rnn_forward``.

    Returns:
        ``(dxs, dh0, grads)``: (T, B, D), (B, H), and an RNNParams of gradients summed over all
        time steps and sequences. Pure: nothing is updated or clipped here.
    """
    params = cache.params
    t_steps, batch, d = cache.xs.shape
    hs_ = params.hidden_size
    check_array("dhs", dhs, (t_steps, batch, hs_), params.dtype)
    h_prevs = np.concatenate([cache.h0[None], cache.hs[:-1]], axis=0)  # (T, B, H)
    d_pre = np.empty((t_steps, batch, hs_), params.dtype)
    dh_next = np.zeros((batch, hs_), params.dtype)  # dL/dh_t through the steps after t
    for t in reversed(range(t_steps)):
        dh = dhs[t] + dh_next  # total gradient on hs[t]: read at t, and used by step t + 1
        dh_carried = split_gradient_at_padding(dh, cache.mask, t)
        # On a real step hs[t] is the tanh output; on a padded one dh is zero here, so the
        # carried state standing in hs[t] never reaches the result.
        d_pre[t], dh_next = _cell_backward(dh, cache.hs[t], params)
        if dh_carried is not None:
            dh_next += dh_carried
    # Weight gradients: one GEMM each over all T*B rows, instead of T small ones in the loop.
    d_pre_2d = d_pre.reshape(t_steps * batch, hs_)
    grads = RNNParams(
        W_xh=cache.xs.reshape(t_steps * batch, d).T @ d_pre_2d,
        W_hh=h_prevs.reshape(t_steps * batch, hs_).T @ d_pre_2d,
        b_h=d_pre_2d.sum(axis=0),
    )
    dxs = (d_pre_2d @ params.W_xh.T).reshape(t_steps, batch, d)
    return dxs, dh_next, grads


__all__ = ["RNNParams", "RNNSequenceCache", "RNNStepCache", "init_rnn_params", "rnn_backward",
           "rnn_forward", "rnn_step_backward", "rnn_step_forward"]

"""The GRU, fast path: the same functions as ``gru_lib.gru``, organised for speed.

``gru_forward`` and ``gru_backward`` here take the same arguments and return the same results
as the reference path (a test keeps them equal to 1e-12), but are written for speed, in ways
that do not change the maths:

- the input projections of all time steps are one matrix product before the loop;
- the gate products that share an operand are fused: ``h [W_hz | W_hr]`` is one product (with
  ``W_hh`` too when the reset comes after it);
- every step writes its gates and deltas straight into whole-sequence arrays allocated once
  (``FastSequenceCache.empty``, ``out=``), so the loop makes no copies;
- the weight gradients are one matrix product over all time steps after the loop
  (``_weight_gradients``), instead of T small ones.

Chapter 9 of the book explains and measures each of them. The returned ``hs`` is a read-only
view of the cache (no copy): copy it to edit it. The cache holds its own copies of ``xs``,
``h0`` and the parameters, so editing them after the forward pass changes no gradient.
"""

from dataclasses import dataclass

import numpy as np

from gru_lib.activations import sigmoid, sigmoid_grad_from_output, tanh, tanh_grad_from_output
from gru_lib.checks import check_array, check_cache, check_sequence_inputs, finite_outputs
from gru_lib.padding import carry_state_at_padding, split_gradient_at_padding
from gru_lib.params import GRUGradients, GRUParams

# --------------------------------------------------------------------------------------------
# Fused weights. Gates that multiply the same operand share one matmul: the input projection
# x [W_xz | W_xr | W_xh] and the recurrent h [W_hz | W_hr] (plus W_hh when reset comes after).


def _fused_input_weights(params):
    return np.concatenate([params.W_xz, params.W_xr, params.W_xh], axis=1)  # (D, 3H)


def _fused_bias(params):
    return np.concatenate([params.b_z, params.b_r, params.b_h])  # (3H,)


def _fused_gate_weights(params):
    return np.concatenate([params.W_hz, params.W_hr], axis=1)  # (H, 2H)


def _fused_recurrent_weights(params):
    if params.reset_after:
        return np.concatenate([params.W_hz, params.W_hr, params.W_hh], axis=1)  # (H, 3H)
    return _fused_gate_weights(params)  # (H, 2H)


class _GateViews:
    """The update and reset gates as views of the block ``z_and_r`` (..., 2H) that holds both:
    one sigmoid call computes them side by side."""

    @property
    def z(self):
        """The update gate (..., H), a view of ``z_and_r``."""
        return self.z_and_r[..., :self.params.hidden_size]

    @property
    def r(self):
        """The reset gate (..., H), a view of ``z_and_r``."""
        return self.z_and_r[..., self.params.hidden_size:]


@dataclass
class _StepCache(_GateViews):
    """What one step's backward pass needs; also a record of the gates for plots.

    Attributes (all (B, H) unless stated): ``x`` (B, D) the input, ``h_prev`` the previous state,
    ``z_and_r`` (B, 2H) the two gates side by side (``z`` and ``r`` are views of its halves),
    ``h_tilde`` the candidate, ``reset_h`` the reset state ``r * h_prev`` that ``W_hh``
    multiplies in the Cho form (None for reset-after), ``a_hh`` the term the reset
    gate multiplies in the reset-after form, ``h_prev W_hh + b_hn`` (None for the Cho form), and
    ``params``.
    """

    x: np.ndarray
    h_prev: np.ndarray
    z_and_r: np.ndarray
    h_tilde: np.ndarray
    reset_h: np.ndarray | None
    a_hh: np.ndarray | None
    params: GRUParams


def _cell_forward(x_proj, cell, w_rec, out):
    """One step given the input projection ``x_proj = x W_x + b`` (B, 3H), columns z | r | h.

    ``cell`` is a ``_StepCache`` with ``h_prev`` set; the gates, the candidate and ``reset_h`` or
    ``a_hh`` are written into its arrays, and h_new into ``out`` (B, H), which is
    returned. In ``gru_forward`` these arrays are slices of the sequence cache, so nothing is
    copied.     """
    p = cell.params
    H = p.hidden_size
    rec = cell.h_prev @ w_rec  # (B, 2H) or (B, 3H): h W_hz | h W_hr [| h W_hh]
    # Both gates are sigmoids of side-by-side columns: one call on (B, 2H) instead of two.
    np.add(x_proj[:, :2 * H], rec[:, :2 * H], out=cell.z_and_r)
    sigmoid(cell.z_and_r, out=cell.z_and_r)
    z, r = cell.z, cell.r
    if p.reset_after:
        a_hh = np.add(rec[:, 2 * H:], p.b_hn, out=cell.a_hh)
        pre_h = r * a_hh
    else:
        reset_h = np.multiply(r, cell.h_prev, out=cell.reset_h)
        pre_h = reset_h @ p.W_hh
    pre_h += x_proj[:, 2 * H:]
    h_tilde = tanh(pre_h, out=cell.h_tilde)
    # h_new = z * h_prev + (1 - z) * h_tilde; in this form z = 1 keeps h_prev exactly.
    h_new = np.multiply(z, cell.h_prev, out=out)
    h_new += (1.0 - z) * h_tilde
    return h_new


def _cell_backward(dh_new, cell, w_gates, d_pre, dh_prev, d_a_hh=None):
    """Backward through one step, given dL/dh_new (B, H) and the step's ``_StepCache``.

    ``w_gates`` is ``[W_hz | W_hr]`` (H, 2H). Writes into arrays given by the caller (in
    ``gru_backward``, slices of whole-sequence arrays): ``d_pre`` (B, 3H) the gradient with
    respect to the three pre-activations (columns z | r | h), from which the weight, bias and
    input gradients follow by matrix products; ``dh_prev`` (B, H) the gradient with respect to
    h_prev through every path; for reset-after, ``d_a_hh`` (B, H) the gradient with
    respect to ``a_hh``, from which those of ``W_hh`` and ``b_hn`` follow.
    """
    H = cell.params.hidden_size
    z, r, h_prev, h_tilde = cell.z, cell.r, cell.h_prev, cell.h_tilde
    d_pre_z, d_pre_r, d_pre_h = d_pre[:, :H], d_pre[:, H:2 * H], d_pre[:, 2 * H:]
    # h_new = z * h_prev + (1 - z) * h_tilde
    dz = dh_new * (h_prev - h_tilde)
    dh_tilde = dh_new * (1.0 - z)
    np.multiply(dh_new, z, out=dh_prev)  # the direct path from h_new back to h_prev
    np.multiply(dz, sigmoid_grad_from_output(z), out=d_pre_z)
    np.multiply(dh_tilde, tanh_grad_from_output(h_tilde), out=d_pre_h)
    if cell.params.reset_after:
        # pre_h = x W_xh + b_h + r * a_hh, a_hh = h_prev W_hh + b_hn
        dr = d_pre_h * cell.a_hh
        np.multiply(d_pre_h, r, out=d_a_hh)
        dh_prev += d_a_hh @ cell.params.W_hh.T  # the candidate path
    else:
        # pre_h = x W_xh + (r * h_prev) W_hh + b_h
        d_reset_h = d_pre_h @ cell.params.W_hh.T  # dL/d(r * h_prev)
        dr = d_reset_h * h_prev
        dh_prev += d_reset_h * r  # the reset path
    np.multiply(dr, sigmoid_grad_from_output(r), out=d_pre_r)
    dh_prev += d_pre[:, :2 * H] @ w_gates.T  # the z and r paths in one matmul


def _weight_gradients(xs, h_prevs, reset_h, d_pre, d_a_hh, params):
    """Input and parameter gradients from the deltas of N = B (one step) or T*B rows.

    Args: ``xs`` (N, D), ``h_prevs`` (N, H), ``reset_h`` (N, H) (Cho form, else None),
    ``d_pre`` (N, 3H), ``d_a_hh`` (N, H) (reset-after, else None).
    Each gradient is one matrix product over all N rows, a sum of outer products ``X^T dY``.

    Returns ``(dxs (N, D), grads)`` with ``grads`` a GRUParams of gradients.
    """
    H = params.hidden_size
    z, r, h = slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H)
    dxs = d_pre @ _fused_input_weights(params).T
    d_w_x = xs.T @ d_pre  # (D, 3H): dW_xz | dW_xr | dW_xh
    d_b = d_pre.sum(axis=0)
    d_w_gates = h_prevs.T @ d_pre[:, :2 * H]  # (H, 2H): dW_hz | dW_hr
    if params.reset_after:
        d_w_hh = h_prevs.T @ d_a_hh  # a_hh = h_prev W_hh + b_hn
        d_b_hn = d_a_hh.sum(axis=0)
    else:
        d_w_hh = reset_h.T @ d_pre[:, h]  # W_hh multiplies r * h_prev, not h_prev
        d_b_hn = None
    grads = GRUGradients(
        W_xz=np.ascontiguousarray(d_w_x[:, z]), W_xr=np.ascontiguousarray(d_w_x[:, r]),
        W_xh=np.ascontiguousarray(d_w_x[:, h]),
        W_hz=np.ascontiguousarray(d_w_gates[:, z]), W_hr=np.ascontiguousarray(d_w_gates[:, r]),
        W_hh=d_w_hh, b_z=d_b[z].copy(), b_r=d_b[r].copy(), b_h=d_b[h].copy(),
        reset_after=params.reset_after, b_hn=d_b_hn,
    )
    return dxs, grads


@dataclass
class FastSequenceCache(_GateViews):
    """Everything ``gru_backward`` needs, stored as whole-sequence arrays.

    Attributes: ``xs`` (T, B, D); ``states`` (T + 1, B, H), the initial state followed by the
    state after every step (``h0``, ``hs`` and ``h_prevs`` are views of it); ``z_and_r``
    (T, B, 2H), the gates (``z`` and ``r`` are views); ``h_tilde`` (T, B, H); ``reset_h``
    (T, B, H) for the Cho form and ``a_hh`` (T, B, H) for reset-after (the other is
    None); ``mask`` (T, B, 1) or None; ``params``. ``z``, ``r`` and ``h_tilde`` are what the book
    plots.
    """

    xs: np.ndarray
    states: np.ndarray
    z_and_r: np.ndarray
    h_tilde: np.ndarray
    reset_h: np.ndarray | None
    a_hh: np.ndarray | None
    mask: np.ndarray | None
    params: GRUParams

    @classmethod
    def empty(cls, xs, h0, mask, params):
        """A cache with ``h0`` in place and the other arrays allocated for ``gru_forward`` to
        fill, once per sequence instead of once per step."""
        t_steps, batch, _ = xs.shape

        def empty(columns=params.hidden_size, steps=t_steps):
            return np.empty((steps, batch, columns), params.dtype)

        states = empty(steps=t_steps + 1)
        states[0] = h0
        return cls(xs, states, empty(2 * params.hidden_size), empty(),
                   reset_h=None if params.reset_after else empty(),
                   a_hh=empty() if params.reset_after else None,
                   mask=mask, params=params)

    @property
    def h0(self):
        """The initial state (B, H)."""
        return self.states[0]

    @property
    def hs(self):
        """The states after every step (T, B, H): ``hs[t]`` is h after input ``t``."""
        return self.states[1:]

    @property
    def h_prevs(self):
        """The state before every step (T, B, H): ``h_prevs[t]`` is the h_prev of step ``t``."""
        return self.states[:-1]

    def at_time(self, t):
        """The ``_StepCache`` of time step ``t``: views into these arrays, no copies."""
        def at(a):
            return None if a is None else a[t]

        return _StepCache(self.xs[t], self.states[t], self.z_and_r[t], self.h_tilde[t],
                         at(self.reset_h), at(self.a_hh), self.params)

    def nbytes(self):
        """Bytes held by the cached arrays (what a forward pass keeps alive for the backward)."""
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))


@finite_outputs
def gru_forward(xs, h0, params, mask=None):
    """Run a GRU over a batch of sequences (same arguments and results as ``gru_lib.gru``).

    Args:
        xs: (T, B, D) inputs, time-major.
        h0: (B, H) initial hidden state.
        params: GRUParams (its dtype fixes the dtype of everything).
        mask: optional (T, B) of 0/1. Where ``mask[t, b] == 0`` (padding) the state of sequence b
            is carried over unchanged, so ``hs[-1]`` is each sequence's state after its last real
            step, and padded steps receive no gradient.

    Returns:
        ``(hs, cache)``: hidden states (T, B, H) after every step, a read-only view of the
        cache's storage, and a ``FastSequenceCache``.
    """
    mask3 = check_sequence_inputs(xs, h0, params, mask, GRUParams)
    t_steps, batch, d = xs.shape
    # One GEMM for the input projections of every step: (T*B, D) @ (D, 3H).
    x_proj = (xs.reshape(t_steps * batch, d) @ _fused_input_weights(params)).reshape(
        t_steps, batch, 3 * params.hidden_size)
    x_proj += _fused_bias(params)
    w_rec = _fused_recurrent_weights(params)
    # The cache keeps its own copies (h0 is copied into its states): later edits of the
    # caller's arrays cannot reach the backward pass.
    cache = FastSequenceCache.empty(xs.copy(), h0, mask3, params.copy())
    for t in range(t_steps):
        h_new = _cell_forward(x_proj[t], cache.at_time(t), w_rec, out=cache.states[t + 1])
        carry_state_at_padding(h_new, cache.states[t], mask3, t)
    hs = cache.hs.view()
    hs.flags.writeable = False  # the cache's own storage: read-only, so no edit can reach it
    return hs, cache


@finite_outputs
def gru_backward(dhs, cache):
    """Backpropagation through time (same arguments and results as ``gru_lib.gru``).

    Args:
        dhs: (T, B, H) the upstream gradient of the loss with respect to every hidden state
            ``hs[t]`` (zeros where the loss does not read a state, e.g. all but ``dhs[-1]`` for a
            classifier of the last state).
        cache: the ``FastSequenceCache`` of ``gru_forward``.

    Returns:
        ``(dxs, dh0, grads)``: (T, B, D), (B, H), and a ``GRUGradients`` summed over all
        time steps and sequences. Pure: nothing is updated or clipped here.
    """
    check_cache(cache, FastSequenceCache, "fast.gru_backward")
    params = cache.params
    t_steps, batch, d = cache.xs.shape
    H = params.hidden_size
    check_array("dhs", dhs, (t_steps, batch, H), params.dtype)
    w_gates = _fused_gate_weights(params)
    d_pre = np.empty((t_steps, batch, 3 * H), params.dtype)
    d_a_hh = np.empty((t_steps, batch, H), params.dtype) if params.reset_after else None
    dh = np.empty((batch, H), params.dtype)
    dh_next = np.zeros((batch, H), params.dtype)  # dL/dh_t through the steps after t
    for t in reversed(range(t_steps)):
        np.add(dhs[t], dh_next, out=dh)  # total gradient on hs[t]: read at t, used by step t + 1
        dh_carried = split_gradient_at_padding(dh, cache.mask, t)
        _cell_backward(dh, cache.at_time(t), w_gates, d_pre[t], dh_next,
                       None if d_a_hh is None else d_a_hh[t])
        if dh_carried is not None:
            dh_next += dh_carried
    # Weight gradients: one GEMM each over all T*B rows, instead of T small ones in the loop.
    def rows(a):
        return None if a is None else a.reshape(t_steps * batch, a.shape[-1])

    dxs, grads = _weight_gradients(rows(cache.xs), rows(cache.h_prevs), rows(cache.reset_h),
                                   rows(d_pre), rows(d_a_hh), params)
    return dxs.reshape(t_steps, batch, d), dh_next, grads


__all__ = ["FastSequenceCache", "gru_backward", "gru_forward"]

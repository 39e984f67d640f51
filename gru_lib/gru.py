"""The GRU cell: one step and a whole sequence, forward and backward, in both conventions.

Layout: row vectors (``x @ W``), time-major sequences ``(T, B, D)``, hidden state ``(B, H)``.
With ``sigma`` the sigmoid and ``*`` the elementwise product, one step computes

    z = sigma(x W_xz + h W_hz + b_z)                    update gate
    r = sigma(x W_xr + h W_hr + b_r)                    reset gate
    h_tilde = tanh(x W_xh + (r * h) W_hh + b_h)         reset before the matmul (Cho et al. 2014)
    h_tilde = tanh(x W_xh + b_h + r * (h W_hh + b_hn))  reset after it (PyTorch, cuDNN)
    h_new = z * h + (1 - z) * h_tilde

The variant is a property of the parameters (``GRUParams.reset_after``). The functions are pure:
they never change the parameters, and the backward pass only returns gradients.

Speed comes from things that do not change the maths: the input projections of all time steps
are one matrix product before the loop; the gate matmuls that share an operand are fused into
one; every step writes its gates and deltas straight into whole-sequence arrays allocated once
(``SequenceCache.empty``, ``out=``), so the loop makes no copies; and the weight gradients are
one matrix product over all time steps after the loop (``_weight_gradients``). Chapter 9 of the
book explains and measures them.
"""

from dataclasses import dataclass, field

import numpy as np

from gru_lib.activations import sigmoid, sigmoid_grad_from_output, tanh, tanh_grad_from_output
from gru_lib.checks import (
    check_array,
    check_float_dtype,
    check_layer_sizes,
    check_parameter_arrays,
    check_sequence_inputs,
    check_step_inputs,
)
from gru_lib.padding import carry_state_at_padding, split_gradient_at_padding

# Names of the parameter arrays, in the order used everywhere (fused columns are z | r | h).
INPUT_WEIGHTS = ("W_xz", "W_xr", "W_xh")
RECURRENT_WEIGHTS = ("W_hz", "W_hr", "W_hh")
BIASES = ("b_z", "b_r", "b_h")


@dataclass
class GRUParams:
    """Parameters of one GRU layer (or, with ``is_gradient=True``, gradients with respect to them).

    Attributes:
        W_xz, W_xr, W_xh: (D, H) input-to-hidden weights of the update gate, reset gate and
            candidate state.
        W_hz, W_hr, W_hh: (H, H) hidden-to-hidden weights of the same three.
        b_z, b_r, b_h: (H,) biases.
        reset_after: False for the Cho et al. (2014) form, True for the PyTorch/cuDNN form.
        b_hn: (H,) the recurrent candidate bias inside ``r * (h W_hh + b_hn)``; required when
            ``reset_after`` is True and must be None otherwise (it would merge into ``b_h``).
        is_gradient: True when the arrays hold gradients (set by the backward functions); it only
            changes how ``to_torch_layout`` fills PyTorch's two bias slots.
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
    is_gradient: bool = field(default=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.reset_after, bool | np.bool_):
            raise TypeError(f"reset_after must be a bool, got {type(self.reset_after).__name__}")
        self.reset_after = bool(self.reset_after)
        if self.reset_after and self.b_hn is None:
            raise ValueError("reset_after=True needs the recurrent candidate bias b_hn (H,)")
        if not self.reset_after and self.b_hn is not None:
            raise ValueError("b_hn is only used with reset_after=True; with reset_after=False "
                             "it is part of b_h (b_h = b_in + b_hn)")

        def shapes_for(d, h):
            shapes = {name: (d, h) for name in INPUT_WEIGHTS}
            shapes.update({name: (h, h) for name in RECURRENT_WEIGHTS})
            shapes.update({name: (h,) for name in self.arrays() if name.startswith("b_")})
            return shapes

        check_parameter_arrays("GRUParams", self.arrays(), shapes_for)

    @property
    def input_size(self):
        """D, the size of one input vector."""
        return self.W_xz.shape[0]

    @property
    def hidden_size(self):
        """H, the size of the hidden state."""
        return self.W_xz.shape[1]

    @property
    def dtype(self):
        """The floating dtype shared by all arrays."""
        return self.W_xz.dtype

    def arrays(self):
        """The parameter arrays by name (``b_hn`` only for reset-after), in a fixed order.

        The values are the arrays themselves, not copies: an optimiser may update them in place.
        """
        names = INPUT_WEIGHTS + RECURRENT_WEIGHTS + BIASES
        out = {name: getattr(self, name) for name in names}
        if self.reset_after:
            out["b_hn"] = self.b_hn
        return out

    def num_parameters(self):
        """Total number of scalars: 3(DH + HH + H), plus H for reset-after's extra bias."""
        return sum(a.size for a in self.arrays().values())

    def copy(self):
        """A deep copy (new arrays, same values and flags)."""
        copied = {name: a.copy() for name, a in self.arrays().items()}
        return GRUParams(**copied, reset_after=self.reset_after, is_gradient=self.is_gradient)

    @classmethod
    def from_torch_layout(cls, weight_ih, weight_hh, bias_ih, bias_hh, *, reset_after):
        """Build parameters from arrays shaped like ``torch.nn.GRU``'s layer-0 tensors.

        Args:
            weight_ih: (3H, D), rows ordered r | z | n, computing ``x @ weight_ih.T``.
            weight_hh: (3H, H), same row order.
            bias_ih, bias_hh: (3H,).
            reset_after: True reproduces ``torch.nn.GRU`` exactly. False gives the Cho form
                ``n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn)``, whose two candidate biases
                are one parameter ``b_h = b_in + b_hn``.

        ``b_r = b_ir + b_hr`` and ``b_z = b_iz + b_hz`` in both variants (they sit side by side
        inside the same sigmoid, so only their sum matters).
        """
        weight_ih, weight_hh = np.asarray(weight_ih), np.asarray(weight_hh)
        bias_ih, bias_hh = np.asarray(bias_ih), np.asarray(bias_hh)
        if weight_ih.ndim != 2 or weight_ih.shape[0] % 3 != 0:
            raise ValueError(f"weight_ih must have shape (3H, D), got {weight_ih.shape}")
        h = weight_ih.shape[0] // 3
        for name, arr, shape in (("weight_hh", weight_hh, (3 * h, h)),
                                 ("bias_ih", bias_ih, (3 * h,)), ("bias_hh", bias_hh, (3 * h,))):
            if arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape} for H={h}, got {arr.shape}")
        r, z, n = slice(0, h), slice(h, 2 * h), slice(2 * h, 3 * h)

        def t(a):
            return np.ascontiguousarray(a.T)

        common = dict(
            W_xz=t(weight_ih[z]), W_xr=t(weight_ih[r]), W_xh=t(weight_ih[n]),
            W_hz=t(weight_hh[z]), W_hr=t(weight_hh[r]), W_hh=t(weight_hh[n]),
            b_z=bias_ih[z] + bias_hh[z], b_r=bias_ih[r] + bias_hh[r],
        )
        if reset_after:
            return cls(**common, b_h=bias_ih[n].copy(), reset_after=True, b_hn=bias_hh[n].copy())
        return cls(**common, b_h=bias_ih[n] + bias_hh[n], reset_after=False)

    def to_torch_layout(self):
        """The four arrays ``(weight_ih (3H, D), weight_hh (3H, H), bias_ih, bias_hh (3H,))``.

        Rows are ordered r | z | n as in ``torch.nn.GRU``. Where one parameter here is two biases
        there (``b_z``, ``b_r``, and ``b_h`` of the Cho form), parameters go entirely into
        ``bias_ih`` with zeros in ``bias_hh`` (the same function), while gradients go into both
        slots, because d loss / d bias_ih = d loss / d bias_hh = d loss / d (their sum).
        """
        def stack(*arrays):
            return np.concatenate(arrays, axis=0)

        weight_ih = stack(self.W_xr.T, self.W_xz.T, self.W_xh.T)
        weight_hh = stack(self.W_hr.T, self.W_hz.T, self.W_hh.T)
        bias_ih = stack(self.b_r, self.b_z, self.b_h)
        if self.reset_after:
            hidden_r = self.b_r if self.is_gradient else np.zeros_like(self.b_r)
            hidden_z = self.b_z if self.is_gradient else np.zeros_like(self.b_z)
            bias_hh = stack(hidden_r, hidden_z, self.b_hn)
        else:
            bias_hh = bias_ih.copy() if self.is_gradient else np.zeros_like(bias_ih)
        return weight_ih, weight_hh, bias_ih, bias_hh


def init_gru_params(input_size, hidden_size, *, reset_after=False, rng=None, dtype=np.float64):
    """Random GRU parameters: weights uniform in ``(-1/sqrt(H), 1/sqrt(H))``, biases zero.

    This is the scale ``torch.nn.GRU`` uses for its weights; zero biases make the gates start
    half open, which is a neutral place to start learning from.

    Args:
        input_size: D. hidden_size: H.
        reset_after: which variant (see the module docstring).
        rng: a ``numpy.random.Generator`` or an int seed; None means seed 0, so that a call
            without a generator is still reproducible.
        dtype: float64 (default) or float32.
    """
    dtype = check_float_dtype(dtype)
    check_layer_sizes(input_size, hidden_size)
    rng = np.random.default_rng(0 if rng is None else rng)
    bound = 1.0 / np.sqrt(hidden_size)

    def weights(rows):
        return rng.uniform(-bound, bound, size=(rows, hidden_size)).astype(dtype)

    arrays = {name: weights(input_size) for name in INPUT_WEIGHTS}
    arrays.update({name: weights(hidden_size) for name in RECURRENT_WEIGHTS})
    arrays.update({name: np.zeros(hidden_size, dtype) for name in BIASES})
    if reset_after:
        arrays["b_hn"] = np.zeros(hidden_size, dtype)
    return GRUParams(**arrays, reset_after=reset_after)


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
class StepCache(_GateViews):
    """What one step's backward pass needs; also a record of the gates for plots.

    Attributes (all (B, H) unless stated): ``x`` (B, D) the input, ``h_prev`` the previous state,
    ``z_and_r`` (B, 2H) the two gates side by side (``z`` and ``r`` are views of its halves),
    ``h_tilde`` the candidate, ``reset_h`` the reset state ``r * h_prev`` that ``W_hh``
    multiplies in the Cho form (None for reset-after), ``hidden_candidate`` the term the reset
    gate multiplies in the reset-after form, ``h_prev W_hh + b_hn`` (None for the Cho form), and
    ``params``.
    """

    x: np.ndarray
    h_prev: np.ndarray
    z_and_r: np.ndarray
    h_tilde: np.ndarray
    reset_h: np.ndarray | None
    hidden_candidate: np.ndarray | None
    params: GRUParams


def _cell_forward(x_proj, step, w_rec, out):
    """One step given the input projection ``x_proj = x W_x + b`` (B, 3H), columns z | r | h.

    ``step`` is a ``StepCache`` with ``h_prev`` set; the gates, the candidate and ``reset_h`` or
    ``hidden_candidate`` are written into its arrays, and h_new into ``out`` (B, H), which is
    returned. In ``gru_forward`` these arrays are slices of the sequence cache, so nothing is
    copied. Shared by the step and sequence functions so the equations live in one place.
    """
    p = step.params
    hs = p.hidden_size
    rec = step.h_prev @ w_rec  # (B, 2H) or (B, 3H): h W_hz | h W_hr [| h W_hh]
    # Both gates are sigmoids of side-by-side columns: one call on (B, 2H) instead of two.
    np.add(x_proj[:, :2 * hs], rec[:, :2 * hs], out=step.z_and_r)
    sigmoid(step.z_and_r, out=step.z_and_r)
    z, r = step.z, step.r
    if p.reset_after:
        hidden_candidate = np.add(rec[:, 2 * hs:], p.b_hn, out=step.hidden_candidate)
        pre_h = r * hidden_candidate
    else:
        reset_h = np.multiply(r, step.h_prev, out=step.reset_h)
        pre_h = reset_h @ p.W_hh
    pre_h += x_proj[:, 2 * hs:]
    h_tilde = tanh(pre_h, out=step.h_tilde)
    # h_new = z * h_prev + (1 - z) * h_tilde; in this form z = 1 keeps h_prev exactly.
    h_new = np.multiply(z, step.h_prev, out=out)
    h_new += (1.0 - z) * h_tilde
    return h_new


def _cell_backward(dh_new, step, w_gates, d_pre, dh_prev, d_hidden_candidate=None):
    """Backward through one step, given dL/dh_new (B, H) and the step's ``StepCache``.

    ``w_gates`` is ``[W_hz | W_hr]`` (H, 2H). Writes into arrays given by the caller (in
    ``gru_backward``, slices of whole-sequence arrays): ``d_pre`` (B, 3H) the gradient with
    respect to the three pre-activations (columns z | r | h), from which the weight, bias and
    input gradients follow by matrix products; ``dh_prev`` (B, H) the gradient with respect to
    h_prev through every path; for reset-after, ``d_hidden_candidate`` (B, H) the gradient with
    respect to ``hidden_candidate``, from which those of ``W_hh`` and ``b_hn`` follow.
    """
    hs = step.params.hidden_size
    z, r, h_prev, h_tilde = step.z, step.r, step.h_prev, step.h_tilde
    d_pre_z, d_pre_r, d_pre_h = d_pre[:, :hs], d_pre[:, hs:2 * hs], d_pre[:, 2 * hs:]
    # h_new = z * h_prev + (1 - z) * h_tilde
    dz = dh_new * (h_prev - h_tilde)
    dh_tilde = dh_new * (1.0 - z)
    np.multiply(dh_new, z, out=dh_prev)  # the direct path from h_new back to h_prev
    np.multiply(dz, sigmoid_grad_from_output(z), out=d_pre_z)
    np.multiply(dh_tilde, tanh_grad_from_output(h_tilde), out=d_pre_h)
    if step.params.reset_after:
        # pre_h = x W_xh + b_h + r * hidden_candidate, hidden_candidate = h_prev W_hh + b_hn
        dr = d_pre_h * step.hidden_candidate
        np.multiply(d_pre_h, r, out=d_hidden_candidate)
        dh_prev += d_hidden_candidate @ step.params.W_hh.T  # the candidate path
    else:
        # pre_h = x W_xh + (r * h_prev) W_hh + b_h
        d_reset_h = d_pre_h @ step.params.W_hh.T  # dL/d(r * h_prev)
        dr = d_reset_h * h_prev
        dh_prev += d_reset_h * r  # the reset path
    np.multiply(dr, sigmoid_grad_from_output(r), out=d_pre_r)
    dh_prev += d_pre[:, :2 * hs] @ w_gates.T  # the z and r paths in one matmul


def _weight_gradients(xs, h_prevs, reset_h, d_pre, d_hidden_candidate, params):
    """Input and parameter gradients from the deltas of N = B (one step) or T*B rows.

    Args: ``xs`` (N, D), ``h_prevs`` (N, H), ``reset_h`` (N, H) (Cho form, else None),
    ``d_pre`` (N, 3H), ``d_hidden_candidate`` (N, H) (reset-after, else None).
    Each gradient is one matrix product over all N rows, a sum of outer products ``X^T dY``.

    Returns ``(dxs (N, D), grads)`` with ``grads`` a GRUParams of gradients.
    """
    hs = params.hidden_size
    z, r, h = slice(0, hs), slice(hs, 2 * hs), slice(2 * hs, 3 * hs)
    dxs = d_pre @ _fused_input_weights(params).T
    d_w_x = xs.T @ d_pre  # (D, 3H): dW_xz | dW_xr | dW_xh
    d_b = d_pre.sum(axis=0)
    d_w_gates = h_prevs.T @ d_pre[:, :2 * hs]  # (H, 2H): dW_hz | dW_hr
    if params.reset_after:
        d_w_hh = h_prevs.T @ d_hidden_candidate  # hidden_candidate = h_prev W_hh + b_hn
        d_b_hn = d_hidden_candidate.sum(axis=0)
    else:
        d_w_hh = reset_h.T @ d_pre[:, h]  # W_hh multiplies r * h_prev, not h_prev
        d_b_hn = None
    grads = GRUParams(
        W_xz=np.ascontiguousarray(d_w_x[:, z]), W_xr=np.ascontiguousarray(d_w_x[:, r]),
        W_xh=np.ascontiguousarray(d_w_x[:, h]),
        W_hz=np.ascontiguousarray(d_w_gates[:, z]), W_hr=np.ascontiguousarray(d_w_gates[:, r]),
        W_hh=d_w_hh, b_z=d_b[z].copy(), b_r=d_b[r].copy(), b_h=d_b[h].copy(),
        reset_after=params.reset_after, b_hn=d_b_hn, is_gradient=True,
    )
    return dxs, grads


def gru_step_forward(x, h_prev, params):
    """One GRU step for a batch.

    Args:
        x: (B, D) inputs. h_prev: (B, H) previous hidden state. params: GRUParams.

    Returns:
        ``(h, cache)``: the new state (B, H) and a ``StepCache`` for ``gru_step_backward``.
    """
    check_step_inputs(x, h_prev, params, GRUParams)
    x_proj = x @ _fused_input_weights(params) + _fused_bias(params)
    batch, hs = h_prev.shape

    def empty(columns=hs):
        return np.empty((batch, columns), params.dtype)

    cache = StepCache(x, h_prev, empty(2 * hs), empty(),
                      reset_h=None if params.reset_after else empty(),
                      hidden_candidate=empty() if params.reset_after else None, params=params)
    h = _cell_forward(x_proj, cache, _fused_recurrent_weights(params), out=empty())
    return h, cache


def gru_step_backward(dh, cache):
    """Backward pass of one step.

    Args:
        dh: (B, H) gradient of the loss with respect to the step's output h.
        cache: the ``StepCache`` returned by ``gru_step_forward``.

    Returns:
        ``(dx, dh_prev, grads)``: (B, D), (B, H) and a GRUParams of gradients.
    """
    p = cache.params
    check_array("dh", dh, cache.h_prev.shape, p.dtype)
    batch, hs = cache.h_prev.shape
    d_pre = np.empty((batch, 3 * hs), p.dtype)
    dh_prev = np.empty((batch, hs), p.dtype)
    d_hidden_candidate = np.empty((batch, hs), p.dtype) if p.reset_after else None
    _cell_backward(dh, cache, _fused_gate_weights(p), d_pre, dh_prev, d_hidden_candidate)
    dx, grads = _weight_gradients(cache.x, cache.h_prev, cache.reset_h, d_pre,
                                  d_hidden_candidate, p)
    return dx, dh_prev, grads


@dataclass
class SequenceCache(_GateViews):
    """Everything ``gru_backward`` needs, stored as whole-sequence arrays.

    Attributes: ``xs`` (T, B, D); ``states`` (T + 1, B, H), the initial state followed by the
    state after every step (``h0``, ``hs`` and ``h_prevs`` are views of it); ``z_and_r``
    (T, B, 2H), the gates (``z`` and ``r`` are views); ``h_tilde`` (T, B, H); ``reset_h``
    (T, B, H) for the Cho form and ``hidden_candidate`` (T, B, H) for reset-after (the other is
    None); ``mask`` (T, B, 1) or None; ``params``. ``z``, ``r`` and ``h_tilde`` are what the book
    plots.
    """

    xs: np.ndarray
    states: np.ndarray
    z_and_r: np.ndarray
    h_tilde: np.ndarray
    reset_h: np.ndarray | None
    hidden_candidate: np.ndarray | None
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
                   hidden_candidate=empty() if params.reset_after else None,
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

    def step(self, t):
        """The ``StepCache`` of step ``t``: views into these arrays, no copies."""
        def at(a):
            return None if a is None else a[t]

        return StepCache(self.xs[t], self.states[t], self.z_and_r[t], self.h_tilde[t],
                         at(self.reset_h), at(self.hidden_candidate), self.params)

    def nbytes(self):
        """Bytes held by the cached arrays (what a forward pass keeps alive for the backward)."""
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))


def gru_forward(xs, h0, params, mask=None):
    """Run a GRU over a batch of sequences.

    Args:
        xs: (T, B, D) inputs, time-major.
        h0: (B, H) initial hidden state.
        params: GRUParams (its dtype fixes the dtype of everything).
        mask: optional (T, B) of 0/1. Where ``mask[t, b] == 0`` (padding) the state of sequence b
            is carried over unchanged, so ``hs[-1]`` is each sequence's state after its last real
            step, and padded steps receive no gradient.

    Returns:
        ``(hs, cache)``: hidden states (T, B, H) after every step, and a ``SequenceCache``.
    """
    mask3 = check_sequence_inputs(xs, h0, params, mask, GRUParams)
    t_steps, batch, d = xs.shape
    # One GEMM for the input projections of every step: (T*B, D) @ (D, 3H).
    x_proj = (xs.reshape(t_steps * batch, d) @ _fused_input_weights(params)).reshape(
        t_steps, batch, 3 * params.hidden_size)
    x_proj += _fused_bias(params)
    w_rec = _fused_recurrent_weights(params)
    cache = SequenceCache.empty(xs, h0, mask3, params)
    for t in range(t_steps):
        h_new = _cell_forward(x_proj[t], cache.step(t), w_rec, out=cache.states[t + 1])
        carry_state_at_padding(h_new, cache.states[t], mask3, t)
    return cache.hs, cache


def gru_backward(dhs, cache):
    """Backpropagation through time.

    Args:
        dhs: (T, B, H) the upstream gradient of the loss with respect to every hidden state
            ``hs[t]`` (zeros where the loss does not read a state, e.g. all but ``dhs[-1]`` for a
            classifier of the last state).
        cache: the ``SequenceCache`` of ``gru_forward``.

    Returns:
        ``(dxs, dh0, grads)``: (T, B, D), (B, H), and a GRUParams of gradients summed over all
        time steps and sequences. Pure: nothing is updated or clipped here.
    """
    params = cache.params
    t_steps, batch, d = cache.xs.shape
    hs_ = params.hidden_size
    check_array("dhs", dhs, (t_steps, batch, hs_), params.dtype)
    w_gates = _fused_gate_weights(params)
    d_pre = np.empty((t_steps, batch, 3 * hs_), params.dtype)
    d_candidate = np.empty((t_steps, batch, hs_), params.dtype) if params.reset_after else None
    dh = np.empty((batch, hs_), params.dtype)
    dh_next = np.zeros((batch, hs_), params.dtype)  # dL/dh_t through the steps after t
    for t in reversed(range(t_steps)):
        np.add(dhs[t], dh_next, out=dh)  # total gradient on hs[t]: read at t, used by step t + 1
        dh_carried = split_gradient_at_padding(dh, cache.mask, t)
        _cell_backward(dh, cache.step(t), w_gates, d_pre[t], dh_next,
                       None if d_candidate is None else d_candidate[t])
        if dh_carried is not None:
            dh_next += dh_carried
    # Weight gradients: one GEMM each over all T*B rows, instead of T small ones in the loop.
    def rows(a):
        return None if a is None else a.reshape(t_steps * batch, a.shape[-1])

    dxs, grads = _weight_gradients(rows(cache.xs), rows(cache.h_prevs), rows(cache.reset_h),
                                   rows(d_pre), rows(d_candidate), params)
    return dxs.reshape(t_steps, batch, d), dh_next, grads

"""Gradient checking: compare an analytic gradient with central differences.

``check_gradients`` is generic (any scalar loss of any named arrays). ``check_layer_gradients``
applies it to any forward/backward pair (a step or a sequence, of the GRU, the RNN or a head)
with a random linear loss ``L = sum(out * G)``, whose gradient with respect to ``out`` is exactly
``G``; ``check_gru_gradients`` is that check for ``gru_forward``/``gru_backward``.
``state_jacobian`` gives the Jacobian of one step with respect to the previous state from a
step's backward function, to compare with a formula or with central differences.
"""

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gru_lib.checks import check_real, make_rng
from gru_lib.gru import gru_backward, gru_forward

# The denominator of the relative error never drops below this. Central differences carry a
# round-off error of about (machine epsilon) * |L| / eps, roughly 1e-10 in float64 with eps = 1e-6,
# so for a gradient whose norm is far below 1 a relative error mostly measures that noise: with
# the floor, such small gradients are judged by their absolute error divided by 0.01 instead.
RELATIVE_ERROR_FLOOR = 1e-2

# The step eps and the pass threshold when they are not given, by the dtype of the arrays.
# float64: eps = 1e-6 is near the best step u**(1/3) ~ 6e-6 (u the machine epsilon); a correct
# GRU gradient gives a relative error of about 1e-9, far below 1e-7, and real bugs 1e-2 or more.
# float32 (u ~ 1.2e-7): the round-off u |L| / eps is about 0.1 at eps = 1e-6, so such a check
# FAILS for correct gradients. Measured on 550 random float32 problems (both GRU forms and the
# RNN, T <= 10, B <= 3, D <= 5, H <= 10, weights uniform in +-0.5, 1 or 2, half of them masked),
# the worst relative error of correct gradients was 1.7e-2 at eps = 1e-3, 7e-3 at 3e-3, 5.4e-3
# at 1e-2 (median 1e-4), 6e-2 at 3e-2 and 0.3 at 1e-1; on 24 larger ones (T <= 24, H <= 16) it
# was 9e-3 at 1e-2. Hence eps = 1e-2 and a threshold of 5e-2, five times that worst case; the
# mistakes of the book's chapter on gradient checking still fail (relative errors 0.3 to 0.9),
# a subtle one may not: check in float64 to be sure. Exploding states (an RNN with weights up to
# 2 over 20 steps) are too ill-conditioned for any float32 check.
DEFAULTS = {np.dtype(np.float64): (1e-6, 1e-7), np.dtype(np.float32): (1e-2, 5e-2)}


def _defaults(arrays, eps, threshold):
    """``(eps, threshold)``: the given values, checked, or the defaults for the least precise
    floating dtype among ``arrays`` (an iterable of arrays)."""
    if eps is None or threshold is None:
        dtypes = {np.dtype(a.dtype) for a in arrays}
        least = max(dtypes, key=lambda d: np.finfo(d).eps)
        if least not in DEFAULTS:
            raise TypeError(f"there is no default eps or threshold for {least} arrays; pass "
                            f"both, or use float32 or float64")
        default_eps, default_threshold = DEFAULTS[least]
        eps = default_eps if eps is None else eps
        threshold = default_threshold if threshold is None else threshold
    return (check_real("eps", eps, positive=True),
            check_real("threshold", threshold, positive=True))


def relative_error(analytic, numerical, floor=RELATIVE_ERROR_FLOOR):
    """``||a - n|| / max(||a|| + ||n||, floor)`` with Euclidean norms over the whole array.

    A norm over the whole array, rather than the largest elementwise ratio, keeps tiny entries
    (where central differences are pure round-off) from dominating, and the floor does the same
    for whole arrays with a tiny gradient. 0 means identical, 1 means unrelated; with float64 and
    a correct gradient expect about 1e-9 or less.
    """
    floor = check_real("floor", floor, nonnegative=True)
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"gradients to compare have shapes {a.shape} and {n.shape}")
    return float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), floor))


def _scalar_loss(value, where):
    """The loss as a float; TypeError for a non-scalar, ValueError for NaN or infinity."""
    if isinstance(value, np.ndarray):
        real = value.ndim == 0 and value.dtype.kind in "iuf"
    else:
        real = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    if not real:
        raise TypeError(f"loss_fn must return a real scalar, got {type(value).__name__} "
                        f"{getattr(value, 'dtype', '')} of shape {np.shape(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"loss_fn returned {value} at {where}; central differences need a "
                         f"finite loss")
    return value


def numerical_gradient(loss_fn, x, eps=None):
    """Central-difference gradient of the scalar ``loss_fn()`` with respect to the array ``x``.

    ``x`` is changed in place, one entry at a time, to ``x + eps`` and ``x - eps`` (and restored,
    also when ``loss_fn`` raises), so ``loss_fn`` must read it afresh on every call. The error is
    O(eps**2) from truncation plus O(machine epsilon / eps) from round-off. ``eps`` None means
    the default for ``x``'s dtype (see ``DEFAULTS``: 1e-6 for float64, 1e-2 for float32).
    Returns a float64 array shaped like ``x``.

    Raises TypeError for a non-floating ``x`` or a ``loss_fn`` that does not return a real
    scalar; ValueError for a read-only ``x``, a loss that is NaN or infinite, or an ``eps`` so
    small against an entry that ``x + eps == x`` in its dtype (the difference would be 0).
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function of no arguments, got "
                        f"{type(loss_fn).__name__}")
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("numerical_gradient needs a floating-point NumPy array to perturb")
    if not x.flags.writeable:
        raise ValueError("numerical_gradient needs a writeable array (it perturbs it in place)")
    eps, _ = _defaults([x], eps, 1.0)
    grad = np.zeros(x.shape, dtype=np.float64)
    # Index x itself (not a flattened copy), so any strided view is perturbed where it lives.
    for index in np.ndindex(x.shape):
        original = x[index]
        plus, minus = original + eps, original - eps
        if plus == original or minus == original:
            raise ValueError(f"eps = {eps:g} is below the spacing of {x.dtype} at x{list(index)} "
                             f"= {original}: x + eps == x there; use a larger eps")
        try:
            x[index] = plus
            loss_plus = _scalar_loss(loss_fn(), f"x{list(index)} + eps")
            x[index] = minus
            loss_minus = _scalar_loss(loss_fn(), f"x{list(index)} - eps")
        finally:
            x[index] = original
        grad[index] = (loss_plus - loss_minus) / (2.0 * eps)
    return grad


@dataclass
class GradCheckRow:
    """One checked array: its name, shape, the largest absolute difference and relative error."""

    name: str
    shape: tuple
    max_abs_error: float
    relative_error: float
    passed: bool


@dataclass
class GradCheckReport:
    """The result of a gradient check: one row per array, and the threshold used."""

    rows: list
    threshold: float
    eps: float

    @property
    def max_relative_error(self):
        """The worst relative error over all arrays (NaN if any is NaN: Python's ``max`` could
        skip a NaN and report a pass)."""
        return float(np.max([row.relative_error for row in self.rows]))

    @property
    def passed(self):
        """True when every array's relative error is below the threshold."""
        return all(row.passed for row in self.rows)

    def failures(self):
        """Names of the arrays whose check failed."""
        return [row.name for row in self.rows if not row.passed]

    def __str__(self):
        header = f"{'array':<10} {'shape':<14} {'max abs err':>12} {'rel err':>10}  ok"
        lines = [header, "-" * len(header)]
        for row in self.rows:
            shape = "x".join(str(s) for s in row.shape) or "scalar"
            lines.append(f"{row.name:<10} {shape:<14} {row.max_abs_error:>12.2e} "
                         f"{row.relative_error:>10.2e}  {'yes' if row.passed else 'NO'}")
        verdict = "passed" if self.passed else f"FAILED for {', '.join(self.failures())}"
        lines.append(f"max relative error {self.max_relative_error:.2e} "
                     f"(threshold {self.threshold:.0e}, eps {self.eps:.0e}): {verdict}")
        return "\n".join(lines)

    def _repr_html_(self):
        return "<pre>" + str(self) + "</pre>"


def check_gradients(loss_fn, arrays, analytic, *, eps=None, threshold=None):
    """Check analytic gradients of a scalar loss against central differences.

    Args:
        loss_fn: a function of no arguments returning the scalar loss computed from the current
            contents of the arrays.
        arrays: dict name -> array that ``loss_fn`` reads; each is perturbed in place and restored.
        analytic: dict name -> the analytic gradient, for exactly the names in ``arrays``.
        eps: the finite-difference step. threshold: the largest relative error that passes.
            None (the default) for either means the value for the least precise dtype among
            ``arrays`` (see ``DEFAULTS``): eps 1e-6 and threshold 1e-7 in float64, eps 1e-2 and
            threshold 5e-2 in float32, where smaller steps drown in round-off.

    Returns:
        a ``GradCheckReport`` (print it for a table).
    """
    if not isinstance(arrays, Mapping) or not isinstance(analytic, Mapping):
        raise TypeError("arrays and analytic must be dicts name -> array, got "
                        f"{type(arrays).__name__} and {type(analytic).__name__}")
    if not arrays:
        raise ValueError("check_gradients needs at least one array to check")
    missing = set(arrays) - set(analytic)
    if missing:
        raise ValueError(f"no analytic gradient given for {sorted(missing)}")
    extra = set(analytic) - set(arrays)
    if extra:
        raise ValueError(f"analytic gradients given for {sorted(extra)}, which are not among "
                         f"the arrays to perturb (they would go unchecked)")
    for name, x in arrays.items():
        if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"arrays[{name!r}] must be a floating-point NumPy array")
        if np.shape(analytic[name]) != x.shape:
            raise ValueError(f"analytic gradient of {name} has shape {np.shape(analytic[name])}, "
                             f"but the array has shape {x.shape}")
    eps, threshold = _defaults(arrays.values(), eps, threshold)
    rows = []
    for name, x in arrays.items():
        a = np.asarray(analytic[name], dtype=np.float64)
        numerical = numerical_gradient(loss_fn, x, eps)
        rel = relative_error(a, numerical)
        abs_err = float(np.max(np.abs(a - numerical))) if a.size else 0.0
        rows.append(GradCheckRow(name, x.shape, abs_err, rel, rel < threshold))
    return GradCheckReport(rows, threshold, eps)


def check_layer_gradients(forward, backward, inputs, params, *, upstream=None, rng=None,
                          eps=None, threshold=None):
    """Gradient-check a layer's forward/backward pair for every parameter and every input.

    Args:
        forward: ``forward(*inputs.values(), params) -> (out, cache)``, e.g. ``gru_step_forward``
            or, for a sequence with a fixed mask, ``lambda xs, h0, p: gru_forward(xs, h0, p, m)``.
        backward: ``backward(dout, cache) -> (*input_grads, param_grads)``, one gradient per
            input in the order of ``inputs``, and the parameters' gradients as an object with
            ``.arrays()`` (a ``GRUParams``) or as a dict name -> array.
        inputs: dict name -> input array, e.g. ``{"xs": xs, "h0": h0}``.
        params: the parameters (an object with ``.arrays()``, e.g. ``GRUParams``).
        upstream: the ``G`` of the loss ``L = sum(out * G)``, whose gradient with respect to
            ``out`` is exactly ``G``; None draws it from a standard normal with ``rng`` (an int
            seed or a Generator; None means 0). A random ``G`` weighs every output differently,
            so a mix-up of outputs (of time steps, say) cannot cancel out.
        eps, threshold: as in ``check_gradients`` (None: the defaults for the arrays' dtype).

    The arrays are perturbed in place and restored, so pass copies if they are shared.
    Returns a ``GradCheckReport``.
    """
    if not isinstance(inputs, Mapping):
        raise TypeError(f"inputs must be a dict name -> array, got {type(inputs).__name__}")
    if not callable(getattr(params, "arrays", None)):
        raise TypeError(f"params must be parameters with an .arrays() method, got "
                        f"{type(params).__name__}")
    out, cache = forward(*inputs.values(), params)
    if upstream is None:
        upstream = make_rng(rng).standard_normal(out.shape)
    upstream = np.asarray(upstream)
    if upstream.shape != out.shape:
        raise ValueError(f"upstream must have the output's shape {out.shape}, got "
                         f"{upstream.shape}")
    if upstream.dtype.kind not in "iuf" or not np.all(np.isfinite(upstream)):
        raise ValueError("upstream must hold finite real numbers")
    upstream = upstream.astype(out.dtype)
    *input_grads, param_grads = backward(upstream, cache)
    if len(input_grads) != len(inputs):
        raise ValueError(f"backward returned {len(input_grads)} input gradient(s) before the "
                         f"parameters' gradients, but there are {len(inputs)} inputs "
                         f"({', '.join(inputs)})")
    if hasattr(param_grads, "arrays"):
        param_grads = param_grads.arrays()

    def loss():
        value, _ = forward(*inputs.values(), params)
        return np.sum(value.astype(np.float64) * upstream)

    arrays = dict(params.arrays(), **inputs)
    analytic = dict(param_grads, **dict(zip(inputs, input_grads, strict=True)))
    return check_gradients(loss, arrays, analytic, eps=eps, threshold=threshold)


def check_gru_gradients(xs, h0, params, mask=None, *, rng=None, eps=None, threshold=None):
    """Gradient-check ``gru_forward``/``gru_backward`` for every parameter, ``xs`` and ``h0``.

    ``check_layer_gradients`` with the loss ``L = sum(hs * G)`` for a random ``G`` (T, B, H)
    drawn from ``rng`` (an int seed or a Generator; None means 0). ``eps`` and ``threshold``
    None mean the defaults for the dtype (``DEFAULTS``: 1e-6 and 1e-7 in float64, 1e-2 and 5e-2
    in float32). Returns a ``GradCheckReport``.
    """
    return check_layer_gradients(lambda x, h, p: gru_forward(x, h, p, mask), gru_backward,
                                 {"xs": xs, "h0": h0}, params, rng=rng, eps=eps,
                                 threshold=threshold)


def state_jacobian(step_forward, step_backward, x, h_prev, params):
    """The Jacobian of one step's new state with respect to the previous one, for one example.

    Args:
        step_forward, step_backward: a layer's step functions (``gru_step_forward`` and
            ``gru_step_backward``, or the RNN's).
        x: (1, D) the input. h_prev: (1, H) the previous state. params: the layer's parameters.

    Returns:
        (H, H) ``J`` with ``J[i, j] = d h_new[i] / d h_prev[j]``: row i is what the backward step
        makes of the upstream gradient e_i, so in the row-vector layout a gradient ``g`` on
        ``h_new`` becomes ``g @ J`` on ``h_prev``. All H rows come from one backward call on a
        batch of H copies of the example.
    """
    if np.ndim(x) != 2 or np.ndim(h_prev) != 2 or len(x) != 1 or len(h_prev) != 1:
        raise ValueError("state_jacobian needs one example: x (1, D) and h_prev (1, H), got "
                         f"{np.shape(x)} and {np.shape(h_prev)}")
    hidden_size = h_prev.shape[1]
    _, cache = step_forward(np.repeat(x, hidden_size, axis=0),
                            np.repeat(h_prev, hidden_size, axis=0), params)
    return step_backward(np.eye(hidden_size, dtype=h_prev.dtype), cache)[1]


__all__ = ["DEFAULTS", "RELATIVE_ERROR_FLOOR", "GradCheckReport", "GradCheckRow", "check_gradients",
           "check_gru_gradients", "check_layer_gradients", "numerical_gradient", "relative_error",
           "state_jacobian"]

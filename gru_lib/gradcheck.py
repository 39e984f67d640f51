"""Gradient checking: compare an analytic gradient with central differences.

``check_gradients`` is generic (any scalar loss of any named arrays). ``check_layer_gradients``
applies it to any forward/backward pair (a step or a sequence, of the GRU, the RNN or a head)
with a random linear loss ``L = sum(out * G)``, whose gradient with respect to ``out`` is exactly
``G``; ``check_gru_gradients`` is that check for ``gru_forward``/``gru_backward``.
``state_jacobian`` gives the Jacobian of one step with respect to the previous state from a
step's backward function, to compare with a formula or with central differences.
"""

from dataclasses import dataclass

import numpy as np

from gru_lib.gru import gru_backward, gru_forward

# The denominator of the relative error never drops below this. Central differences carry a
# round-off error of about (machine epsilon) * |L| / eps, roughly 1e-10 in float64 with eps = 1e-6,
# so for a gradient whose norm is far below 1 a relative error mostly measures that noise: with
# the floor, such small gradients are judged by their absolute error divided by 0.01 instead.
RELATIVE_ERROR_FLOOR = 1e-2


def relative_error(analytic, numerical, floor=RELATIVE_ERROR_FLOOR):
    """``||a - n|| / max(||a|| + ||n||, floor)`` with Euclidean norms over the whole array.

    A norm over the whole array, rather than the largest elementwise ratio, keeps tiny entries
    (where central differences are pure round-off) from dominating, and the floor does the same
    for whole arrays with a tiny gradient. 0 means identical, 1 means unrelated; with float64 and
    a correct gradient expect about 1e-9 or less.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"gradients to compare have shapes {a.shape} and {n.shape}")
    return float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), floor))


def numerical_gradient(loss_fn, x, eps=1e-6):
    """Central-difference gradient of the scalar ``loss_fn()`` with respect to the array ``x``.

    ``x`` is changed in place, one entry at a time, to ``x + eps`` and ``x - eps`` (and restored),
    so ``loss_fn`` must read it afresh on every call. The error is O(eps**2) from truncation
    plus O(machine epsilon / eps) from round-off. Returns an array shaped like ``x``.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("numerical_gradient needs a floating-point NumPy array to perturb")
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writing to it changes x
    if flat.base is not x and flat.base is not x.base:
        raise ValueError("numerical_gradient needs a contiguous array (it perturbs it in place)")
    grad_flat = grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        loss_plus = float(loss_fn())
        flat[i] = original - eps
        loss_minus = float(loss_fn())
        flat[i] = original
        grad_flat[i] = (loss_plus - loss_minus) / (2.0 * eps)
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
        """The worst relative error over all arrays."""
        return max(row.relative_error for row in self.rows)

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


def check_gradients(loss_fn, arrays, analytic, *, eps=1e-6, threshold=1e-7):
    """Check analytic gradients of a scalar loss against central differences.

    Args:
        loss_fn: a function of no arguments returning the scalar loss computed from the current
            contents of the arrays.
        arrays: dict name -> array that ``loss_fn`` reads; each is perturbed in place and restored.
        analytic: dict name -> the analytic gradient for every name in ``arrays``.
        eps: the finite-difference step. threshold: the largest relative error that passes.

    Returns:
        a ``GradCheckReport`` (print it for a table).
    """
    missing = set(arrays) - set(analytic)
    if missing:
        raise ValueError(f"no analytic gradient given for {sorted(missing)}")
    rows = []
    for name, x in arrays.items():
        numerical = numerical_gradient(loss_fn, x, eps)
        a = np.asarray(analytic[name], dtype=np.float64)
        if a.shape != x.shape:
            raise ValueError(f"analytic gradient of {name} has shape {a.shape}, "
                             f"but the array has shape {x.shape}")
        rel = relative_error(a, numerical)
        abs_err = float(np.max(np.abs(a - numerical))) if a.size else 0.0
        rows.append(GradCheckRow(name, x.shape, abs_err, rel, rel < threshold))
    return GradCheckReport(rows, threshold, eps)


def check_layer_gradients(forward, backward, inputs, params, *, upstream=None, rng=None,
                          eps=1e-6, threshold=1e-7):
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

    The arrays are perturbed in place and restored, so pass copies if they are shared.
    Returns a ``GradCheckReport``.
    """
    out, cache = forward(*inputs.values(), params)
    if upstream is None:
        upstream = np.random.default_rng(0 if rng is None else rng).standard_normal(out.shape)
    upstream = np.asarray(upstream).astype(out.dtype)
    *input_grads, param_grads = backward(upstream, cache)
    if hasattr(param_grads, "arrays"):
        param_grads = param_grads.arrays()

    def loss():
        value, _ = forward(*inputs.values(), params)
        return np.sum(value.astype(np.float64) * upstream)

    arrays = dict(params.arrays(), **inputs)
    analytic = dict(param_grads, **dict(zip(inputs, input_grads, strict=True)))
    return check_gradients(loss, arrays, analytic, eps=eps, threshold=threshold)


def check_gru_gradients(xs, h0, params, mask=None, *, rng=None, eps=1e-6, threshold=1e-7):
    """Gradient-check ``gru_forward``/``gru_backward`` for every parameter, ``xs`` and ``h0``.

    ``check_layer_gradients`` with the loss ``L = sum(hs * G)`` for a random ``G`` (T, B, H)
    drawn from ``rng`` (an int seed or a Generator; None means 0). Returns a ``GradCheckReport``.
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


__all__ = ["RELATIVE_ERROR_FLOOR", "GradCheckReport", "GradCheckRow", "check_gradients",
           "check_gru_gradients", "check_layer_gradients", "numerical_gradient", "relative_error",
           "state_jacobian"]

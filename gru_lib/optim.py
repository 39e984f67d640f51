"""Optimisers and gradient clipping. They update named arrays in place; gradients stay untouched.

Keeping these outside the backward pass is deliberate: a backward pass that also clips and steps
(as the notebook this project grew from did) cannot be gradient-checked, and mixes two ideas.

A step either updates every array or none: all gradients are checked (names, shapes, dtypes,
finiteness) and all new values computed before the first array is written, so a bad gradient
or an overflow never leaves a model half-updated, or with a NaN in it.
"""

from collections.abc import Mapping

import numpy as np

from gru_lib.checks import check_finite, check_ndarray, check_real

# Below this largest |entry| the squares lose precision to underflow, above this they may
# overflow float64 (1e154 ** 2 is about the largest float64): there the norm is computed with
# the entries scaled by the largest one. Between the two, the plain sum of squares is exact
# enough and is what the book's stored results were computed with.
_PLAIN_NORM_RANGE = (1e-140, 1e140)


def _check_gradient_type(name, g):
    """A gradient is an ndarray, or a NumPy scalar (what ``np.sum`` gives for a 0-d one)."""
    if not isinstance(g, np.generic):
        check_ndarray(name, g)


def _check_gradients(grads, what="grads"):
    """Raise unless ``grads`` is a mapping name -> finite floating ndarray."""
    if not isinstance(grads, Mapping):
        raise TypeError(f"{what} must be a dict name -> array, got {type(grads).__name__}")
    for name, g in grads.items():
        _check_gradient_type(f"{what}[{name!r}]", g)
        if g.dtype.kind != "f":
            raise TypeError(f"{what}[{name!r}] must be a floating-point array, got {g.dtype}")
        check_finite(f"{what}[{name!r}]", g)
    return grads


def _max_abs(grads):
    """The largest |entry| over all arrays (0.0 for no entries)."""
    return max((float(np.max(np.abs(g))) for g in grads.values() if g.size), default=0.0)


def _scaled_norm(grads, scale):
    """``||grads|| / scale``, computed on the entries divided by ``scale`` (no overflow)."""
    return float(np.sqrt(sum(float(np.sum((g.astype(np.float64) / scale) ** 2))
                             for g in grads.values())))


def global_norm(grads):
    """The Euclidean norm of all gradient arrays together (a dict name -> array).

    Accurate for gradients of any finite magnitude: where the squares would overflow (entries
    beyond about 1e154) or underflow, the entries are first divided by the largest one. The
    result is ``inf`` only when the norm itself exceeds the largest float64 (about 1.8e308).
    Raises ValueError, naming the array, for a gradient holding NaN or infinity.
    """
    _check_gradients(grads)
    biggest = _max_abs(grads)
    if biggest == 0.0:
        return 0.0
    if _PLAIN_NORM_RANGE[0] <= biggest <= _PLAIN_NORM_RANGE[1]:
        return float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2))
                                 for g in grads.values())))
    # A Python float product: a norm beyond float64 becomes inf (documented), with no warning.
    return biggest * _scaled_norm(grads, biggest)


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients by one factor so that their global norm is at most ``max_norm``.

    Unlike clipping each entry to [-c, c], one common factor keeps the gradient's direction.
    Returns ``(clipped, norm)``: a new dict (the input is unchanged) and the norm before clipping
    (see ``global_norm``; clipping is correct even when that norm overflows to ``inf``).
    Raises ValueError, naming the array, for a gradient holding NaN or infinity.
    """
    max_norm = check_real("max_norm", max_norm, positive=True)
    norm = global_norm(grads)
    if np.isinf(norm):
        # The norm is beyond float64, its ratio to the largest entry is not: scale in two steps.
        biggest = _max_abs(grads)
        factor = max_norm / _scaled_norm(grads, biggest)
        return {name: (g / biggest) * factor for name, g in grads.items()}, norm
    # The same factor as min(1, max_norm / norm), without dividing by a tiny norm.
    scale = 1.0 if norm <= max_norm else max_norm / norm
    return {name: g * scale for name, g in grads.items()}, norm


def _check_step(owner, params, grads, state):
    """Validate ``params`` and ``grads`` for one step of ``owner`` (an optimiser's class name).

    ``state`` holds the optimiser's per-array buffers (dicts name -> array): an existing buffer
    must match its parameter, or the optimiser is being reused for another model.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict name -> array, got {type(params).__name__}")
    if not params:
        raise ValueError(f"{owner}.step got no parameters to update")
    if not isinstance(grads, Mapping):
        raise TypeError(f"grads must be a dict name -> array, got {type(grads).__name__}")
    missing = [name for name in params if name not in grads]
    extra = [name for name in grads if name not in params]
    if missing or extra:
        raise ValueError(f"grads must have exactly the names of params; missing "
                         f"{missing or 'none'}, unexpected {extra or 'none'}")
    for name, p in params.items():
        check_ndarray(f"params[{name!r}]", p)
        if p.dtype.kind != "f":
            raise TypeError(f"params[{name!r}] must be a floating-point array, got {p.dtype}")
        if not p.flags.writeable:
            raise ValueError(f"params[{name!r}] is read-only; the optimiser updates it in place")
        check_finite(f"params[{name!r}]", p)
        g = grads[name]
        _check_gradient_type(f"grads[{name!r}]", g)
        if g.dtype != p.dtype:
            raise TypeError(f"grads[{name!r}] has dtype {g.dtype}, but the parameter has "
                            f"{p.dtype}; convert it with .astype(np.{p.dtype.name})")
        if g.shape != p.shape:
            raise ValueError(f"grads[{name!r}] has shape {g.shape}, but the parameter has "
                             f"shape {p.shape}")
        check_finite(f"grads[{name!r}]", g)
        for buffers in state:
            b = buffers.get(name)
            if b is not None and (b.shape != p.shape or b.dtype != p.dtype):
                raise ValueError(f"this {owner} holds state for {name!r} of shape {b.shape} and "
                                 f"dtype {b.dtype}, but the parameter is {p.shape} {p.dtype}; "
                                 f"use a new optimiser for another model")
    # Each array is updated from its old value, so two names for one array would lose an update.
    arrays = list(params.items())
    for i, (name, p) in enumerate(arrays):
        for other, q in arrays[:i]:
            if np.may_share_memory(p, q) and np.shares_memory(p, q):
                raise ValueError(f"params[{other!r}] and params[{name!r}] share memory; each "
                                 f"array must appear once")


def _commit(owner, params, updates):
    """Write ``updates`` once every new value is finite: nothing is written otherwise.

    ``updates`` maps a name to ``(new value, [(buffers dict, new buffer), ...])``.
    """
    for name, (value, buffers) in updates.items():
        for new in (value, *(b for _, b in buffers)):
            if not np.all(np.isfinite(new)):
                raise ValueError(f"{owner} step for {name!r} overflowed to infinity or NaN "
                                 f"(the gradient is too large for this learning rate: clip it "
                                 f"or lower lr); no parameter was changed")
    for name, (value, buffers) in updates.items():
        params[name][...] = value
        for store, new in buffers:
            store[name] = new


class SGD:
    """Stochastic gradient descent, optionally with momentum: ``v = mu v - lr g; p += v``.

    ``lr`` must be a finite real > 0 and ``momentum`` a real in [0, 1).
    """

    def __init__(self, lr=0.1, momentum=0.0):
        self.lr = check_real("lr", lr, positive=True)
        self.momentum = check_real("momentum", momentum, nonnegative=True, below=1)
        self.velocity = {}

    def step(self, params, grads):
        """Update every array of ``params`` (dict name -> array) in place from ``grads``.

        ``grads`` must have exactly the names of ``params``, each gradient finite and of its
        parameter's shape and dtype (TypeError/ValueError naming it otherwise). A refused step,
        or one that would overflow, changes nothing. The new values are computed with the same
        formulas in the same order as a plain in-place update, so they are bit-identical to it.
        """
        _check_step("SGD", params, grads, [self.velocity])
        updates = {}
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported by _commit
            for name, p in params.items():
                g = grads[name]
                if self.momentum:
                    v = self.velocity.get(name)
                    v = np.zeros_like(p) if v is None else v.copy()
                    v *= self.momentum
                    v -= self.lr * g
                    updates[name] = (p + v, [(self.velocity, v)])
                else:
                    updates[name] = (p - self.lr * g, [])
        _commit("SGD", params, updates)


class Adam:
    """Adam (Kingma & Ba, 2015): per-parameter steps scaled by running gradient moments.

    ``lr`` must be a finite real > 0, ``beta1`` and ``beta2`` reals in [0, 1) and ``eps`` a
    finite real > 0 (it keeps the step finite where the second moment is 0; a negative ``eps``
    could divide by zero or flip the step's sign).
    """

    def __init__(self, lr=0.02, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = check_real("lr", lr, positive=True)
        self.beta1 = check_real("beta1", beta1, nonnegative=True, below=1)
        self.beta2 = check_real("beta2", beta2, nonnegative=True, below=1)
        self.eps = check_real("eps", eps, positive=True)
        self.m, self.v = {}, {}
        self.t = 0

    def step(self, params, grads):
        """Update every array of ``params`` (dict name -> array) in place from ``grads``.

        Checked as in ``SGD.step``; a refused step changes nothing, not even the step count.
        """
        _check_step("Adam", params, grads, [self.m, self.v])
        t = self.t + 1
        # Bias correction: the moments start at zero, so early averages are scaled back up.
        correction1 = 1 - self.beta1 ** t
        correction2 = 1 - self.beta2 ** t
        updates = {}
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported by _commit
            for name, p in params.items():
                g = grads[name]
                m, v = self.m.get(name), self.v.get(name)
                m = np.zeros_like(p) if m is None else m.copy()
                v = np.zeros_like(p) if v is None else v.copy()
                m *= self.beta1
                m += (1 - self.beta1) * g
                v *= self.beta2
                v += (1 - self.beta2) * g * g
                new = p - self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)
                updates[name] = (new, [(self.m, m), (self.v, v)])
        _commit("Adam", params, updates)
        self.t = t

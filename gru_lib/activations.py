"""Activation functions, their derivatives and the logistic loss.

Every function here works on arrays of any shape and keeps the input's floating dtype. All of them
are numerically stable: no overflow warning and the correct limit for inputs of any magnitude.
"""

import numpy as np


def sigmoid(x, out=None):
    """Logistic function ``1 / (1 + exp(-x))``, elementwise; any shape in, same shape out.

    The textbook form overflows in ``exp(-x)`` for large negative ``x``. Writing it with
    ``e = exp(-|x|)``, which is always in (0, 1], gives ``1 / (1 + e)`` for ``x >= 0`` and
    ``e / (1 + e)`` for ``x < 0``: no overflow, and full relative precision in both tails.
    ``out``, optional, is an array to write the result into (it may be ``x`` itself).
    """
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    # The numerator is 1 where x >= 0 and e where x < 0. As e <= 1, that is max(e, x >= 0):
    # one pass with no branch per element (np.where's branch on arrays of mixed signs was the
    # slowest part of the whole GRU forward pass).
    numerator = np.maximum(e, x >= 0)
    e += 1.0
    return np.divide(numerator, e, out=out)


def sigmoid_grad_from_output(s):
    """Derivative of the sigmoid from its output ``s = sigmoid(x)``: ``s * (1 - s)``."""
    return s * (1.0 - s)


def sigmoid_grad(x):
    """Derivative of the sigmoid at the pre-activation ``x``; same shape as ``x``."""
    return sigmoid_grad_from_output(sigmoid(x))


def tanh(x, out=None):
    """Hyperbolic tangent, elementwise (NumPy's ``tanh`` is already stable at any magnitude).

    ``out``, optional, is an array to write the result into.
    """
    return np.tanh(x, out=out)


def tanh_grad_from_output(t):
    """Derivative of tanh written with its output: ``1 - t**2`` where ``t = tanh(x)``."""
    return 1.0 - t * t


def tanh_grad(x):
    """Derivative of tanh at the pre-activation ``x``; same shape as ``x``."""
    return tanh_grad_from_output(np.tanh(x))


def log_sigmoid(x):
    """``log(sigmoid(x))`` computed as ``-log(1 + exp(-x))`` without overflow or ``log(0)``.

    ``np.logaddexp(0, -x)`` evaluates ``log(exp(0) + exp(-x))`` stably, so a logit of -1e4 gives
    -1e4 (the exact limit) rather than ``log(0) = -inf``.
    """
    return -np.logaddexp(0.0, -np.asarray(x))


def binary_cross_entropy_with_logits(logits, targets):
    """Mean binary cross-entropy of logits against 0/1 targets, and its gradient.

    Args:
        logits: (N,) finite real scores (a floating-point array, or a list of floats); the
            model's probability of class 1 is ``sigmoid(logits)``.
        targets: (N,) values in [0, 1]: 0/1 labels (bool is fine) or soft targets.

    Returns:
        ``(loss, dlogits)``: the scalar mean loss
        ``-mean(y * log sigmoid(a) + (1 - y) * log sigmoid(-a))`` and its gradient (N,) with
        respect to the logits, ``(sigmoid(a) - y) / N``. Both are finite for finite logits of
        any magnitude.

    Raises:
        TypeError for logits that are not floating-point numbers or targets that are not
        numbers; ValueError for mismatched shapes, no examples, a NaN or infinite logit, or a
        target outside [0, 1] (a label of 2 or -1 would give a meaningless, even negative,
        loss).
    """
    logits = np.asarray(logits)
    if logits.dtype.kind != "f":
        # Integer logits would also turn soft targets into integers below (0.5 -> 0).
        raise TypeError(f"logits must be a floating-point array, got dtype {logits.dtype}")
    raw_targets = np.asarray(targets)
    if raw_targets.dtype.kind not in "biuf":
        raise TypeError(f"targets must be numbers in [0, 1] (or bools), got dtype "
                        f"{raw_targets.dtype}")
    if logits.shape != raw_targets.shape or logits.ndim != 1:
        raise ValueError(f"logits and targets must both have shape (N,), got {logits.shape} "
                         f"and {raw_targets.shape}")
    if logits.size == 0:
        raise ValueError("binary_cross_entropy_with_logits needs at least one example")
    if not np.all(np.isfinite(logits)):
        raise ValueError("logits contains NaN or infinity")
    in_range = (raw_targets >= 0) & (raw_targets <= 1)  # False for NaN too
    if not np.all(in_range):
        i = int(np.flatnonzero(~in_range)[0])
        raise ValueError(f"targets must be in [0, 1], got targets[{i}] = "
                         f"{raw_targets[i].item()!r}")
    targets = np.asarray(targets, dtype=logits.dtype)
    n = logits.shape[0]
    terms = targets * log_sigmoid(logits) + (1.0 - targets) * log_sigmoid(-logits)
    with np.errstate(over="ignore"):
        loss = -np.mean(terms)
    if not np.isfinite(loss):
        # Each term is finite (|term| <= |logit| + log 2), but their sum can overflow for logits
        # near the largest float; dividing first cannot, as the mean is at most the largest term.
        loss = -np.sum(terms / n)
    dlogits = (sigmoid(logits) - targets) / n
    return float(loss), dlogits

"""A linear read-out of the last hidden state, ``y = h_T w + b``: a layer like the others.

The head of the sentiment classifier (a logit) and of the adding-problem regressor (a number).
With masks, ``hs[-1]`` is each sequence's state after its last real step, because padding
carries the state; so reading ``hs[-1]`` is reading the last real state.
"""

from dataclasses import dataclass

import numpy as np

from gru_lib.checks import check_array, check_cache, check_ndarray


@dataclass
class HeadCache:
    """What ``head_backward`` needs: copies of the last state ``h_last`` (B, H) and of ``w``
    (H,), and the number of steps T of the states read."""

    h_last: np.ndarray
    w: np.ndarray
    num_steps: int


def head_forward(hs, w, b):
    """Outputs ``y = hs[-1] @ w + b`` (B,) from the states ``hs`` (T, B, H), ``w`` (H,), ``b`` (1,).

    Returns ``(y, cache)``, the cache a ``HeadCache`` for ``head_backward``.
    """
    check_ndarray("hs", hs)
    if hs.ndim != 3:
        raise ValueError(f"hs must be a 3-D array (T, B, H), got shape {hs.shape}")
    check_array("w", w, (hs.shape[2],), hs.dtype)
    check_array("b", b, (1,), hs.dtype)
    h_last = hs[-1]
    return h_last @ w + b[0], HeadCache(h_last.copy(), w.copy(), len(hs))


def head_backward(dy, cache):
    """Gradients from ``dy`` = dL/dy (B,) and the ``HeadCache`` of ``head_forward``.

    Returns ``(dhs, dw, db)``: dL/dhs (T, B, H), zero except at the last step, where it is
    ``outer(dy, w)`` (the head reads nothing else); dL/dw (H,) and dL/db (1,), summed over the
    batch.
    """
    check_cache(cache, HeadCache, "head_backward")
    check_array("dy", dy, (len(cache.h_last),), cache.h_last.dtype)
    dhs = np.zeros((cache.num_steps, *cache.h_last.shape), cache.h_last.dtype)
    dhs[-1] = np.outer(dy, cache.w)
    return dhs, cache.h_last.T @ dy, np.array([dy.sum()], dtype=dy.dtype)

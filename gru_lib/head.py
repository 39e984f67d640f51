"""A linear read-out of the last hidden state, ``y = h_T w + b``, forward and backward.

The head of the sentiment classifier (a logit) and of the adding-problem regressor (a number).
With masks, ``hs[-1]`` is each sequence's state after its last real step, because padding
carries the state; so reading ``hs[-1]`` is reading the last real state.
"""

import numpy as np


def head_forward(hs, w, b):
    """Outputs ``y`` (B,) from the hidden states ``hs`` (T, B, H), ``w`` (H,) and ``b`` (1,).

    Returns ``(y, h_last)``, where ``h_last = hs[-1]`` (B, H) is what the backward pass needs.
    """
    h_last = hs[-1]
    return h_last @ w + b[0], h_last


def head_backward(dy, h_last, w, num_steps):
    """Gradients from ``dy`` = dL/dy (B,).

    Returns ``(dhs, dw, db)``: dL/dhs (num_steps, B, H), zero except at the last step, where it is
    ``outer(dy, w)`` (the head reads nothing else); dL/dw (H,) and dL/db (1,), summed over the
    batch.
    """
    dhs = np.zeros((num_steps, *h_last.shape), h_last.dtype)
    dhs[-1] = np.outer(dy, w)
    return dhs, h_last.T @ dy, np.array([dy.sum()])

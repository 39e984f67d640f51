"""The slow baseline: one sequence at a time, one step at a time, matrix-vector products.

This is the algorithm of the notebook the book grew from (a Python loop over examples, and in it a
loop over time steps, with a vector-matrix product for every gate), written anew in the book's
conventions: row vectors (``x @ W``), the update ``h = z * h_prev + (1 - z) * h_tilde``, both
GRU variants. Its backward pass is correct: the direct path from ``h_t`` to ``h_{t-1}`` carries
``dh * z`` (the seed's version carried the wrong factor), and the gradients are returned, not
clipped and applied. ``bench_gru.py`` checks that they equal ``gru_lib``'s to 1e-10.

It exists only to be timed against ``gru_lib``'s two paths; use those for anything else.
"""

import numpy as np

from gru_lib.activations import sigmoid, tanh
from gru_lib.params import GRUParams


def loop_forward_backward(xs, h0, params, dhs):
    """Forward and backward pass over ``xs`` (T, B, D), one example and one step at a time.

    Args:
        xs: (T, B, D) inputs. h0: (B, H) initial states. params: a ``GRUParams``.
        dhs: (T, B, H) gradient of the loss with respect to every hidden state.

    Returns:
        ``(hs, dxs, dh0, grads)`` like ``gru_forward`` + ``gru_backward``: hidden states
        (T, B, H), input gradients (T, B, D), (B, H), and a dict of parameter gradients keyed
        like ``params.arrays()``, summed over the examples.
    """
    p = params
    t_steps, batch, _ = xs.shape
    hs = np.empty((t_steps, batch) + h0.shape[1:], p.dtype)
    dxs = np.empty_like(xs)
    dh0 = np.empty_like(h0)
    grads = {name: np.zeros_like(a) for name, a in p.arrays().items()}
    for b in range(batch):
        # Forward: keep what the backward pass needs, step by step, in a list.
        h = h0[b]
        steps = []
        for t in range(t_steps):
            x = xs[t, b]
            z = sigmoid(x @ p.W_xz + h @ p.W_hz + p.b_z)
            r = sigmoid(x @ p.W_xr + h @ p.W_hr + p.b_r)
            if p.reset_after:
                candidate = h @ p.W_hh + p.b_hn
                h_tilde = tanh(x @ p.W_xh + p.b_h + r * candidate)
            else:
                candidate = None
                h_tilde = tanh(x @ p.W_xh + (r * h) @ p.W_hh + p.b_h)
            steps.append((x, h, z, r, h_tilde, candidate))
            h = z * h + (1.0 - z) * h_tilde
            hs[t, b] = h
        # Backward through time for this example.
        dh_next = np.zeros_like(h)
        for t in reversed(range(t_steps)):
            x, h_prev, z, r, h_tilde, candidate = steps[t]
            dh = dhs[t, b] + dh_next
            d_pre_z = dh * (h_prev - h_tilde) * z * (1.0 - z)
            d_pre_h = dh * (1.0 - z) * (1.0 - h_tilde * h_tilde)
            dh_prev = dh * z  # the direct path: h = z * h_prev + ...
            if p.reset_after:
                d_pre_r = d_pre_h * candidate * r * (1.0 - r)
                d_candidate = d_pre_h * r
                grads["W_hh"] += np.outer(h_prev, d_candidate)
                grads["b_hn"] += d_candidate
                dh_prev += p.W_hh @ d_candidate
            else:
                d_reset_h = p.W_hh @ d_pre_h  # dL/d(r * h_prev)
                d_pre_r = d_reset_h * h_prev * r * (1.0 - r)
                grads["W_hh"] += np.outer(r * h_prev, d_pre_h)
                dh_prev += d_reset_h * r
            dh_prev += p.W_hz @ d_pre_z + p.W_hr @ d_pre_r
            for gate, d_pre in (("z", d_pre_z), ("r", d_pre_r), ("h", d_pre_h)):
                grads["W_x" + gate] += np.outer(x, d_pre)
                grads["b_" + gate] += d_pre
            grads["W_hz"] += np.outer(h_prev, d_pre_z)
            grads["W_hr"] += np.outer(h_prev, d_pre_r)
            dxs[t, b] = p.W_xz @ d_pre_z + p.W_xr @ d_pre_r + p.W_xh @ d_pre_h
            dh_next = dh_prev
        dh0[b] = dh_next
    return hs, dxs, dh0, grads


def max_gradient_difference(xs, h0, params, dhs):
    """Largest relative difference between this loop's results and ``gru_lib``'s.

    Compares the hidden states, the input and initial-state gradients and every parameter
    gradient, each as ``max|a - b| / max(max|b|, 1e-30)``. Returns a float.
    """
    from gru_lib.gru import gru_backward, gru_forward

    if not isinstance(params, GRUParams):
        raise TypeError("params must be a GRUParams")
    hs, dxs, dh0, grads = loop_forward_backward(xs, h0, params, dhs)
    ref_hs, cache = gru_forward(xs, h0, params)
    ref_dxs, ref_dh0, ref_grads = gru_backward(dhs, cache)
    pairs = [(hs, ref_hs), (dxs, ref_dxs), (dh0, ref_dh0)]
    pairs += [(grads[name], ref) for name, ref in ref_grads.arrays().items()]
    return max(float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30)) for a, b in pairs)

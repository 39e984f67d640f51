"""A vanilla (Elman) tanh RNN: one step and a whole sequence, forward and backward.

The baseline the GRU is compared with. Same layout as ``gru_lib.gru``: row vectors
(``x @ W``), time-major sequences ``(T, B, D)``, hidden state ``(B, H)``. One step computes

    h_new = tanh(x W_xh + h W_hh + b_h)

and nothing else: no gate decides how much of ``h`` to keep, so every step multiplies the
gradient flowing back in time by ``diag(1 - h_new**2)`` and ``W_hh^T``.

As in ``gru_lib.gru``, a sequence is a loop of steps, the functions are pure, and the caches
hold their own copies of what they read.
"""

from dataclasses import dataclass

import numpy as np

from gru_lib.activations import tanh, tanh_grad_from_output
from gru_lib.checks import (
    check_array,
    check_cache,
    check_sequence_inputs,
    check_step_inputs,
    finite_outputs,
)
from gru_lib.params import RNNParams, init_rnn_params
from gru_lib.sequence import SequenceCache, unroll_backward, unroll_forward


@dataclass
class RNNStepCache:
    """What one step's backward pass needs: copies of the input ``x`` (B, D), the previous
    state ``h_prev`` (B, H) and the new state ``h`` (B, H), and of the parameters."""

    x: np.ndarray
    h_prev: np.ndarray
    h: np.ndarray
    params: RNNParams


@finite_outputs
def rnn_step_forward(x, h_prev, params):
    """One RNN step for a batch: ``h = tanh(x W_xh + h_prev W_hh + b_h)``.

    Args:
        x: (B, D) inputs. h_prev: (B, H) previous hidden state. params: RNNParams.

    Returns:
        ``(h, cache)``: the new state (B, H) and an ``RNNStepCache`` for ``rnn_step_backward``.
    """
    check_step_inputs(x, h_prev, params, RNNParams)
    h = tanh(x @ params.W_xh + h_prev @ params.W_hh + params.b_h)
    return h, RNNStepCache(x.copy(), h_prev.copy(), h.copy(), params.copy())


@finite_outputs
def rnn_step_backward(dh, cache):
    """Backward pass of one step.

    Args:
        dh: (B, H) gradient of the loss with respect to the step's output h.
        cache: the ``RNNStepCache`` returned by ``rnn_step_forward``.

    Returns:
        ``(dx, dh_prev, grads)``: (B, D), (B, H) and an RNNParams of this step's gradients.
    """
    check_cache(cache, RNNStepCache, "rnn_step_backward")
    c, p = cache, cache.params
    check_array("dh", dh, c.h.shape, p.dtype)
    da = dh * tanh_grad_from_output(c.h)  # through h = tanh(a)
    grads = RNNParams(W_xh=c.x.T @ da, W_hh=c.h_prev.T @ da, b_h=da.sum(axis=0))
    return da @ p.W_xh.T, da @ p.W_hh.T, grads


class RNNSequenceCache(SequenceCache):
    """Everything ``rnn_backward`` needs: ``steps`` (T ``RNNStepCache``), ``mask`` (T, B, 1) or
    None, ``hs`` (T, B, H)."""


def rnn_forward(xs, h0, params, mask=None):
    """Run the RNN over a batch of sequences: ``rnn_step_forward`` at every step.

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
    mask = check_sequence_inputs(xs, h0, params, mask, RNNParams)
    return unroll_forward(rnn_step_forward, xs, h0, params, mask, RNNSequenceCache)


def rnn_backward(dhs, cache):
    """Backpropagation through time: ``rnn_step_backward`` from the last step to the first.

    Args:
        dhs: (T, B, H) the upstream gradient of the loss with respect to every hidden state
            ``hs[t]`` (zeros where the loss does not read a state).
        cache: the ``RNNSequenceCache`` of ``rnn_forward``.

    Returns:
        ``(dxs, dh0, grads)``: (T, B, D), (B, H), and an RNNParams of gradients summed over all
        time steps and sequences. Pure: nothing is updated or clipped here.
    """
    check_cache(cache, RNNSequenceCache, "rnn_backward")
    return unroll_backward(rnn_step_backward, dhs, cache)


__all__ = ["RNNParams", "RNNSequenceCache", "RNNStepCache", "init_rnn_params", "rnn_backward",
           "rnn_forward", "rnn_step_backward", "rnn_step_forward"]

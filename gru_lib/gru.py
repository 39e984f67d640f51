"""The GRU, reference path: one step and a whole sequence, forward and backward, readably.

Layout: row vectors (``x @ W``), time-major sequences ``(T, B, D)``, hidden state ``(B, H)``.
With ``sigma`` the sigmoid and ``*`` the elementwise product, one step computes

    z = sigma(x W_xz + h W_hz + b_z)                    update gate
    r = sigma(x W_xr + h W_hr + b_r)                    reset gate
    h_tilde = tanh(x W_xh + (r * h) W_hh + b_h)         reset before the matmul (Cho et al. 2014)
    h_tilde = tanh(x W_xh + b_h + r * (h W_hh + b_hn))  reset after it (PyTorch, cuDNN)
    h_new = z * h + (1 - z) * h_tilde

Each equation is one line below, vectorised over the batch. The variant is a property of the
parameters (``GRUParams.reset_after``). A sequence is a loop of steps; its backward pass is the
loop run backwards, summing each step's local gradients into the total. The functions are pure:
they never change their arguments, and the caches hold their own copies of what they read, so
editing an input or output after the forward pass cannot change a gradient.

``gru_lib.fast`` computes the same functions faster (chapter 9 of the book); a test keeps the
two equal.
"""

from dataclasses import dataclass

import numpy as np

from gru_lib.activations import sigmoid, sigmoid_grad_from_output, tanh, tanh_grad_from_output
from gru_lib.checks import (
    check_array,
    check_cache,
    check_sequence_inputs,
    check_step_inputs,
    finite_outputs,
)
from gru_lib.params import GRUGradients, GRUParams, init_gru_params
from gru_lib.sequence import SequenceCache, unroll_backward, unroll_forward


@dataclass
class GRUStepCache:
    """What one step's backward pass needs, all (B, H) unless stated; also the gates for plots.

    ``x`` (B, D) and ``h_prev``: copies of the step's inputs. ``z``, ``r``: the gates.
    ``h_tilde``: the candidate. ``a_hh``: reset-after only, ``h_prev W_hh + b_hn``, the term the
    reset gate multiplies (None for the Cho form). ``params``: a copy of the parameters.
    """

    x: np.ndarray
    h_prev: np.ndarray
    z: np.ndarray
    r: np.ndarray
    h_tilde: np.ndarray
    a_hh: np.ndarray | None
    params: GRUParams


@finite_outputs
def gru_step_forward(x, h_prev, params):
    """One GRU step for a batch.

    Args:
        x: (B, D) inputs. h_prev: (B, H) previous hidden state. params: GRUParams.

    Returns:
        ``(h, cache)``: the new state (B, H) and a ``GRUStepCache`` for ``gru_step_backward``.
    """
    check_step_inputs(x, h_prev, params, GRUParams)
    p = params
    z = sigmoid(x @ p.W_xz + h_prev @ p.W_hz + p.b_z)           # update gate
    r = sigmoid(x @ p.W_xr + h_prev @ p.W_hr + p.b_r)           # reset gate
    if p.reset_after:
        a_hh = h_prev @ p.W_hh + p.b_hn                          # reset after the product
        h_tilde = tanh(x @ p.W_xh + p.b_h + r * a_hh)
    else:
        a_hh = None
        h_tilde = tanh(x @ p.W_xh + (r * h_prev) @ p.W_hh + p.b_h)  # reset before it
    h = z * h_prev + (1 - z) * h_tilde                          # keep where z = 1
    return h, GRUStepCache(x.copy(), h_prev.copy(), z, r, h_tilde, a_hh, p.copy())


@finite_outputs
def gru_step_backward(dh, cache):
    """Backward pass of one step: the local gradients of one step, given dL/dh.

    The gradient reaches ``h_prev`` along four paths: directly (through ``z * h_prev``),
    through the update gate, through the reset gate, and through the candidate.

    Args:
        dh: (B, H) gradient of the loss with respect to the step's output h.
        cache: the ``GRUStepCache`` returned by ``gru_step_forward``.

    Returns:
        ``(dx, dh_prev, grads)``: (B, D), (B, H) and a ``GRUGradients`` of this step alone.
    """
    check_cache(cache, GRUStepCache, "gru_step_backward")
    c, p = cache, cache.params
    check_array("dh", dh, c.h_prev.shape, p.dtype)
    # h = z * h_prev + (1 - z) * h_tilde
    dz = dh * (c.h_prev - c.h_tilde)
    dh_tilde = dh * (1 - c.z)
    da_z = dz * sigmoid_grad_from_output(c.z)                   # through z = sigma(a_z)
    da_h = dh_tilde * tanh_grad_from_output(c.h_tilde)          # through h_tilde = tanh(a_h)
    if p.reset_after:
        # a_h = x W_xh + b_h + r * a_hh, with a_hh = h_prev W_hh + b_hn
        dr = da_h * c.a_hh
        da_hh = da_h * c.r
        dh_candidate = da_hh @ p.W_hh.T
        dW_hh, db_hn = c.h_prev.T @ da_hh, da_hh.sum(axis=0)
    else:
        # a_h = x W_xh + (r * h_prev) W_hh + b_h
        d_reset_h = da_h @ p.W_hh.T                              # dL/d(r * h_prev)
        dr = d_reset_h * c.h_prev
        dh_candidate = d_reset_h * c.r
        dW_hh, db_hn = (c.r * c.h_prev).T @ da_h, None
    da_r = dr * sigmoid_grad_from_output(c.r)                   # through r = sigma(a_r)
    dh_prev = (dh * c.z                                         # direct
               + da_z @ p.W_hz.T                                # through the update gate
               + da_r @ p.W_hr.T                                # through the reset gate
               + dh_candidate)                                  # through the candidate
    dx = da_z @ p.W_xz.T + da_r @ p.W_xr.T + da_h @ p.W_xh.T
    grads = GRUGradients(
        W_xz=c.x.T @ da_z, W_xr=c.x.T @ da_r, W_xh=c.x.T @ da_h,
        W_hz=c.h_prev.T @ da_z, W_hr=c.h_prev.T @ da_r, W_hh=dW_hh,
        b_z=da_z.sum(axis=0), b_r=da_r.sum(axis=0), b_h=da_h.sum(axis=0),
        reset_after=p.reset_after, b_hn=db_hn,
    )
    return dx, dh_prev, grads


class GRUSequenceCache(SequenceCache):
    """Everything ``gru_backward`` needs: ``steps`` (T ``GRUStepCache``), ``mask`` (T, B, 1) or
    None, ``hs`` (T, B, H). ``z``, ``r`` and ``h_tilde`` give the whole sequence as (T, B, H)
    arrays (what the book plots)."""

    @property
    def z(self):
        """The update gate of every step (T, B, H)."""
        return self.stacked("z")

    @property
    def r(self):
        """The reset gate of every step (T, B, H)."""
        return self.stacked("r")

    @property
    def h_tilde(self):
        """The candidate of every step (T, B, H)."""
        return self.stacked("h_tilde")


def gru_forward(xs, h0, params, mask=None):
    """Run a GRU over a batch of sequences: ``gru_step_forward`` at every step.

    Args:
        xs: (T, B, D) inputs, time-major.
        h0: (B, H) initial hidden state.
        params: GRUParams (its dtype fixes the dtype of everything).
        mask: optional (T, B) of 0/1. Where ``mask[t, b] == 0`` (padding) the state of sequence b
            is carried over unchanged, so ``hs[-1]`` is each sequence's state after its last real
            step, and padded steps receive no gradient.

    Returns:
        ``(hs, cache)``: hidden states (T, B, H) after every step, and a ``GRUSequenceCache``.
    """
    mask = check_sequence_inputs(xs, h0, params, mask, GRUParams)
    return unroll_forward(gru_step_forward, xs, h0, params, mask, GRUSequenceCache)


def gru_backward(dhs, cache):
    """Backpropagation through time: ``gru_step_backward`` from the last step to the first.

    Args:
        dhs: (T, B, H) the upstream gradient of the loss with respect to every hidden state
            ``hs[t]`` (zeros where the loss does not read a state, e.g. all but ``dhs[-1]`` for a
            classifier of the last state).
        cache: the ``GRUSequenceCache`` of ``gru_forward``.

    Returns:
        ``(dxs, dh0, grads)``: (T, B, D), (B, H), and a ``GRUGradients``, the total gradient
        summed over all time steps and sequences. Pure: nothing is updated or clipped here.
    """
    check_cache(cache, GRUSequenceCache, "gru_backward")
    return unroll_backward(gru_step_backward, dhs, cache)


__all__ = ["GRUGradients", "GRUParams", "GRUSequenceCache", "GRUStepCache", "gru_backward",
           "gru_forward", "gru_step_backward", "gru_step_forward", "init_gru_params"]

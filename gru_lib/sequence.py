"""Unrolling a recurrent step over a sequence, forward and backward (BPTT), for any layer.

A layer's sequence functions are its step functions in a loop, the same for the GRU and the
RNN: forward from the first step to the last, carrying the state over padded steps; backward
from the last step to the first, adding to each state's gradient the part that flows back from
the step after it, and summing every step's *local* parameter gradients into the *total*.
"""

from dataclasses import dataclass

import numpy as np

from gru_lib.checks import check_array
from gru_lib.padding import carry_state_at_padding, split_gradient_at_padding
from gru_lib.params import sum_gradients


@dataclass
class SequenceCache:
    """Everything a sequence's backward pass needs: ``steps``, the T step caches (each holds
    copies of its inputs and parameters); ``mask`` (T, B, 1) or None; ``hs`` (T, B, H), a copy
    of the states the forward pass returned."""

    steps: list
    mask: np.ndarray | None
    hs: np.ndarray

    @property
    def params(self):
        """The parameters of the forward pass (a copy, taken then)."""
        return self.steps[0].params

    @property
    def xs(self):
        """The inputs (T, B, D)."""
        return self.stacked("x")

    @property
    def h0(self):
        """The initial state (B, H)."""
        return self.steps[0].h_prev

    def stacked(self, name):
        """The step caches' array ``name`` for every step, as one (T, ...) array."""
        return np.stack([getattr(step, name) for step in self.steps])

    def nbytes(self):
        """Bytes held by the cached arrays (what a forward pass keeps alive for the backward)."""
        return self.hs.nbytes + sum(value.nbytes for step in self.steps
                                    for value in vars(step).values()
                                    if isinstance(value, np.ndarray))


def unroll_forward(step_forward, xs, h0, params, mask, cache_type=SequenceCache):
    """Apply ``step_forward(x, h_prev, params) -> (h, step_cache)`` at every step of ``xs``.

    Args: ``xs`` (T, B, D), ``h0`` (B, H), ``mask`` (T, B, 1) or None, checked by the caller.
    Returns ``(hs, cache)``: the states (T, B, H) and a ``cache_type`` (a ``SequenceCache``).
    """
    h, hs, steps = h0, [], []
    for t in range(len(xs)):
        h_new, step = step_forward(xs[t], h, params)
        h = carry_state_at_padding(h_new, h, mask, t)  # a padded step keeps the state
        hs.append(h)
        steps.append(step)
    hs = np.stack(hs)
    return hs, cache_type(steps, mask, hs.copy())


def unroll_backward(step_backward, dhs, cache):
    """Backpropagation through time with ``step_backward(dh, step_cache) -> (dx, dh_prev, g)``.

    Args: ``dhs`` (T, B, H), the gradient of the loss with respect to every state ``hs[t]``;
    ``cache``, the ``SequenceCache`` of the forward pass.
    Returns ``(dxs (T, B, D), dh0 (B, H), grads)``, grads the sum of the steps' gradients.
    """
    check_array("dhs", dhs, cache.hs.shape, cache.params.dtype)
    dxs, local_grads = [], []
    dh_next = np.zeros_like(cache.h0)  # dL/dh_t through the steps after t
    for t in reversed(range(len(cache.steps))):
        dh = dhs[t] + dh_next  # the total gradient on hs[t]: read at t, and used by step t + 1
        dh_carried = split_gradient_at_padding(dh, cache.mask, t)
        dx, dh_next, grads = step_backward(dh, cache.steps[t])
        if dh_carried is not None:
            dh_next += dh_carried
        dxs.append(dx)
        local_grads.append(grads)
    return np.stack(dxs[::-1]), dh_next, sum_gradients(local_grads)

"""Deep and bidirectional GRUs: single-layer GRUs stacked and run both ways, as torch.nn.GRU does.

Layer 0 reads the inputs ``xs`` (T, B, D). Every layer has a forward direction and, when
bidirectional, a reverse one: a second single-layer GRU, with its own parameters, run over each
sequence reversed, whose states are reversed back so that step ``t`` of both lines up with
``x_t``. A layer's output is the forward states, then the reverse ones, side by side:
``[h_fwd; h_rev]`` (T, B, num_directions * H), which is the input of the next layer and, for
the last layer, ``out``. The final states ``h_n`` are stacked in torch's order, index
``k = layer * num_directions + direction`` (layer 0 forward, layer 0 reverse, layer 1 forward,
...); ``h0`` uses the same order. ``gru_lib.diagrams.plot_deep_gru`` draws all of this.

With a mask (right padding), a sequence of length L is reversed within its own L steps, so the
reverse direction starts at the sequence's last real step, and ``out`` is 0 at padded steps:
exactly what torch computes on ``pack_padded_sequence(..., enforce_sorted=False)``.

Nothing here is GRU maths: every layer is ``gru_lib.gru``'s ``gru_forward``/``gru_backward``
(or ``gru_lib.fast``'s), and this module only routes arrays between them, always in the
reset-after form, the one torch computes. The parameters are a ``DeepGRUParams``
(``deep_params.py``).
"""

from dataclasses import dataclass

import numpy as np

from gru_lib.checks import (
    check_array,
    check_bool,
    check_cache,
    check_ndarray,
    check_params,
    check_sequence_inputs,
)
from gru_lib.deep_params import DeepGRUParams
from gru_lib.gru import GRUParams, gru_backward, gru_forward


def _layer_functions(fast):
    """The single-layer ``(gru_forward, gru_backward)`` pair: the reference or the fast path."""
    if not fast:
        return gru_forward, gru_backward
    # Imported only when asked for, so that the reference path never depends on the fast one.
    from gru_lib.fast import gru_backward as fast_backward
    from gru_lib.fast import gru_forward as fast_forward

    return fast_forward, fast_backward


def _sequence_lengths(mask, steps, batch):
    """The real length (B,) of every sequence: from a (T, B, 1) 0/1 mask, or ``steps`` for all
    sequences without one (None).

    Raises ValueError unless each mask column is 1 for its first ``length >= 1`` steps and 0
    after: reversing a sequence within its length only makes sense for padding at the end.
    """
    if mask is None:
        return np.full(batch, steps, dtype=np.intp)
    real = mask[:, :, 0]
    late = np.nonzero(real[1:] > real[:-1])
    if late[0].size:
        t, b = late[0][0] + 1, late[1][0]
        raise ValueError(f"mask must be right-padded (1 for a sequence's real steps, then 0), "
                         f"but mask[{t}, {b}] is 1 after a 0")
    empty = np.flatnonzero(real[0] == 0)
    if empty.size:
        raise ValueError(f"mask: every sequence needs at least one real step, but column(s) "
                         f"{empty.tolist()} are all 0")
    return real.sum(axis=0).astype(np.intp)


def _reverse_index(lengths, steps):
    """(T, B) time indices that reverse each sequence within its own length.

    Step ``t`` of reversed sequence ``b`` is step ``lengths[b] - 1 - t`` of the original; padded
    steps stay where they are. This permutation is its own inverse, so the same index also
    reverses back.
    """
    t = np.arange(steps)[:, None]
    return np.where(t < lengths, lengths - 1 - t, t)


def _reverse(sequences, index):
    """``sequences`` (T, B, F) with each sequence reversed by ``_reverse_index``'s ``index``."""
    return np.take_along_axis(sequences, index[:, :, None], axis=0)


@dataclass
class DeepGRUCache:
    """What ``deep_gru_backward`` needs from ``deep_gru_forward``.

    ``layer_caches[layer][direction]``: the single-layer cache of every GRU; ``mask`` (T, B, 1)
    or None; ``reverse_index`` (T, B) from ``_reverse_index``; ``params``; and
    ``layer_backward``, the single-layer backward of the path (reference or fast) whose caches
    these are.
    """

    layer_caches: tuple
    mask: np.ndarray | None
    reverse_index: np.ndarray
    params: DeepGRUParams
    layer_backward: object


def _check_forward_inputs(xs, h0, params, mask):
    """Validate a call of ``deep_gru_forward``; return ``(h0, mask (T, B, 1) or None)``."""
    check_params(params, DeepGRUParams)
    check_ndarray("xs", xs)
    first = params.layers[0][0]
    # check_sequence_inputs holds the rules for xs (3-D, T and B >= 1, size D, dtype, finite)
    # and for the mask. It also checks a (B, H) state: a stand-in here, h0 is checked below.
    stand_in = np.zeros((xs.shape[1] if xs.ndim == 3 else 0, first.hidden_size), first.dtype)
    mask = check_sequence_inputs(xs, stand_in, first, mask, GRUParams)
    state_shape = (params.num_layers * params.num_directions, xs.shape[1], params.hidden_size)
    if h0 is None:
        h0 = np.zeros(state_shape, params.dtype)
    return check_array("h0", h0, state_shape, params.dtype), mask


def deep_gru_forward(xs, h0, params, mask=None, *, fast=False):
    """Run a deep, optionally bidirectional GRU over a batch of sequences, as torch.nn.GRU.

    Args:
        xs: (T, B, D) inputs, time-major.
        h0: (num_layers * num_directions, B, H) initial states in torch's order (see the module
            docstring), or None for zeros.
        params: a ``DeepGRUParams``; its dtype fixes the dtype of everything.
        mask: optional (T, B) of 0/1, right-padded: column ``b`` is 1 for the first
            ``length_b >= 1`` steps, then 0.
        fast: True runs every layer with ``gru_lib.fast`` (same results, faster).

    Returns:
        ``(out, h_n, cache)``: ``out`` (T, B, num_directions * H), the last layer's states with
        the forward direction first and 0 at padded steps; ``h_n`` (num_layers *
        num_directions, B, H), each GRU's state after each sequence's last real step, in
        torch's order; and a ``DeepGRUCache`` for ``deep_gru_backward``.
    """
    layer_forward, layer_backward = _layer_functions(check_bool("fast", fast))
    h0, mask3 = _check_forward_inputs(xs, h0, params, mask)
    steps, batch = xs.shape[:2]
    index = _reverse_index(_sequence_lengths(mask3, steps, batch), steps)
    h_n = np.empty_like(h0)
    layer_input, layer_caches = xs, []
    for layer, directions in enumerate(params.layers):
        outputs, caches = [], []
        for direction, layer_params in enumerate(directions):
            k = layer * params.num_directions + direction
            reverse = direction == 1
            seq = _reverse(layer_input, index) if reverse else layer_input
            hs, cache = layer_forward(seq, h0[k], layer_params, mask)
            # A padded step carries the state, so hs[-1] is the state after the last real step.
            h_n[k] = hs[-1]
            # torch's out is 0 at padding, where our hs repeats the last real state.
            states = hs if mask3 is None else hs * mask3
            outputs.append(_reverse(states, index) if reverse else states)
            caches.append(cache)
        layer_input = np.concatenate(outputs, axis=-1)  # [h_fwd; h_rev], a new array
        layer_caches.append(tuple(caches))
    cache = DeepGRUCache(tuple(layer_caches), mask3, index, params, layer_backward)
    return layer_input, h_n, cache


def deep_gru_backward(dout, dh_n, cache):
    """Backpropagation through time through every layer and direction of ``deep_gru_forward``.

    Args:
        dout: (T, B, num_directions * H) the gradient of the loss with respect to ``out``, or
            None if the loss does not read it (zeros).
        dh_n: (num_layers * num_directions, B, H) the gradient with respect to ``h_n``, or None
            (zeros).
        cache: the ``DeepGRUCache`` of ``deep_gru_forward``.

    Returns:
        ``(dxs, dh0, grads)``: (T, B, D), (num_layers * num_directions, B, H), and a
        ``DeepGRUParams`` of gradients (``grads.to_torch()`` gives torch's ``.grad`` of every
        tensor). Pure: nothing is updated or clipped here.
    """
    check_cache(cache, DeepGRUCache, "deep_gru_backward")
    params, mask, index = cache.params, cache.mask, cache.reverse_index
    steps, batch = index.shape
    hidden, dtype = params.hidden_size, params.dtype
    out_shape = (steps, batch, params.num_directions * hidden)
    state_shape = (params.num_layers * params.num_directions, batch, hidden)
    dout = np.zeros(out_shape, dtype) if dout is None else check_array("dout", dout, out_shape,
                                                                         dtype)
    dh_n = np.zeros(state_shape, dtype) if dh_n is None else check_array("dh_n", dh_n,
                                                                          state_shape, dtype)
    dh0 = np.empty_like(dh_n)
    grads = [[None] * params.num_directions for _ in range(params.num_layers)]
    d_output = dout  # dL/d(the output of the layer being processed), (T, B, num_directions * H)
    for layer in reversed(range(params.num_layers)):
        d_input = np.zeros((steps, batch, params.layers[layer][0].input_size), dtype)
        for direction in range(params.num_directions):
            k = layer * params.num_directions + direction
            reverse = direction == 1
            d_states = d_output[..., direction * hidden:(direction + 1) * hidden]
            if reverse:
                d_states = _reverse(d_states, index)
            # out = hs * mask, and h_n = hs[-1]: a new array, since dh_n is added in place.
            dhs = d_states.copy() if mask is None else d_states * mask
            dhs[-1] += dh_n[k]
            dseq, dh0[k], grads[layer][direction] = cache.layer_backward(
                dhs, cache.layer_caches[layer][direction])
            # Both directions read the same input, so their gradients add up.
            d_input += _reverse(dseq, index) if reverse else dseq
        d_output = d_input
    return d_output, dh0, DeepGRUParams(grads)


__all__ = ["DeepGRUCache", "DeepGRUParams", "deep_gru_backward", "deep_gru_forward"]

"""Small builders and reference checks shared by the tests of the recurrent layers."""

from functools import cache
from typing import NamedTuple

import numpy as np
import pytest

from gru_lib import fast, gru, rnn
from gru_lib.params import GRUParams, RNNParams, init_gru_params, init_rnn_params
from gru_lib.train import train_sentiment

# The two GRU forms, for @pytest.mark.parametrize("reset_after", VARIANTS).
VARIANTS = [pytest.param(False, id="reset_before"), pytest.param(True, id="reset_after")]

# The two paths of the GRU (layer kinds of gru_lib.layers), for
# @pytest.mark.parametrize("path", GRU_PATHS): the readable reference and the fast path.
GRU_PATHS = [pytest.param("gru", id="reference"), pytest.param("gru_fast", id="fast")]

# The sequence functions of each path, named explicitly (not read from gru_lib.layers, so that
# a test of the layer registry can check the registry against them).
GRU_SEQUENCE_FUNCTIONS = {
    "gru": (gru.gru_forward, gru.gru_backward),
    "gru_fast": (fast.gru_forward, fast.gru_backward),
}


def gru_functions(path):
    """``(forward, backward)`` of the GRU path ``"gru"`` (reference) or ``"gru_fast"``."""
    return GRU_SEQUENCE_FUNCTIONS[path]


class LayerCase(NamedTuple):
    """A recurrent layer's public functions, for tests that hold for every layer.

    ``step_forward`` and ``step_backward`` are None for the GRU's fast path, which has sequence
    functions only (its steps are the reference path's).
    """

    kind: str
    init: object
    params_class: type
    forward: object
    backward: object
    step_forward: object
    step_backward: object


LAYER_CASES = {
    "gru": LayerCase("gru", init_gru_params, GRUParams, gru.gru_forward, gru.gru_backward,
                     gru.gru_step_forward, gru.gru_step_backward),
    "gru_fast": LayerCase("gru_fast", init_gru_params, GRUParams, fast.gru_forward,
                          fast.gru_backward, None, None),
    "rnn": LayerCase("rnn", init_rnn_params, RNNParams, rnn.rnn_forward, rnn.rnn_backward,
                     rnn.rnn_step_forward, rnn.rnn_step_backward),
}

# Every layer (sequence functions), and the layers that have step functions.
LAYERS = [pytest.param(case, id=kind) for kind, case in LAYER_CASES.items()]
STEP_LAYERS = [pytest.param(case, id=kind) for kind, case in LAYER_CASES.items()
               if case.step_forward is not None]


def random_problem(t, b, d, h, *, init=init_gru_params, seed=0, dtype=np.float64, scale=0.5,
                   **init_options):
    """Parameters with non-zero biases (so every path matters), inputs and an initial state.

    ``init`` makes the layer's parameters (``init_gru_params`` with e.g. ``reset_after=True``
    in ``init_options``, or ``init_rnn_params``); their values are then redrawn uniformly.
    """
    rng = np.random.default_rng(seed)
    params = init(d, h, rng=rng, dtype=dtype, **init_options)
    for value in params.arrays().values():
        value[...] = rng.uniform(-scale, scale, value.shape)
    xs = rng.standard_normal((t, b, d)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((b, h))).astype(dtype)
    return params, xs, h0


def random_mask(t, b, seed=0):
    """A (T, B) mask of real steps followed by padding, every sequence at least one step long."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, t + 1, size=b)
    return (np.arange(t)[:, None] < lengths[None, :]).astype(np.float64)


def loop_forward_backward(step_forward, step_backward, xs, h0, params, dhs):
    """Per-sequence, per-step reference built only from a layer's step functions.

    Returns ``(hs, dxs, dh0, grads)`` for the upstream gradient ``dhs`` (T, B, H), with
    ``grads`` a dict of parameter gradients summed over sequences and steps.
    """
    t_steps, batch, _ = xs.shape
    hs = np.zeros((t_steps, batch, params.hidden_size))
    dxs, dh0 = np.zeros_like(xs), np.zeros_like(h0)
    totals = {name: np.zeros_like(a) for name, a in params.arrays().items()}
    for b in range(batch):
        h, caches = h0[b:b + 1], []
        for t in range(t_steps):
            h, cache = step_forward(xs[t, b:b + 1], h, params)
            hs[t, b] = h[0]
            caches.append(cache)
        dh = np.zeros((1, params.hidden_size))
        for t in reversed(range(t_steps)):
            dx, dh, grads = step_backward(dhs[t, b:b + 1] + dh, caches[t])
            dxs[t, b] = dx[0]
            for name, g in grads.arrays().items():
                totals[name] += g
        dh0[b] = dh[0]
    return hs, dxs, dh0, totals


def assert_sequence_equals_step_loop(forward, backward, step_forward, step_backward, xs, h0,
                                     params, dhs):
    """The vectorised sequence functions equal ``loop_forward_backward`` of the steps."""
    hs, cache = forward(xs, h0, params)
    dxs, dh0, grads = backward(dhs, cache)
    ref_hs, ref_dxs, ref_dh0, ref_grads = loop_forward_backward(step_forward, step_backward, xs,
                                                                h0, params, dhs)
    np.testing.assert_allclose(hs, ref_hs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dxs, ref_dxs, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(dh0, ref_dh0, rtol=1e-11, atol=1e-13)
    assert set(grads.arrays()) == set(ref_grads)
    for name, g in grads.arrays().items():
        np.testing.assert_allclose(g, ref_grads[name], rtol=1e-11, atol=1e-13, err_msg=name)


def assert_padded_batch_equals_one_by_one(forward, backward, xs, h0, params, mask, dhs):
    """A padded, masked batch gives each sequence's own states and gradients.

    ``dhs`` (T, B, H) is the upstream gradient at real steps (it is masked here). After a
    sequence's last real step its state is carried unchanged and its inputs get no gradient.
    """
    lengths = mask.sum(axis=0).astype(int)
    hs, cache = forward(xs, h0, params, mask)
    dxs, dh0, grads = backward(dhs * mask[:, :, None], cache)
    totals = {name: np.zeros_like(a) for name, a in params.arrays().items()}
    for b, n in enumerate(lengths):
        one_hs, one_cache = forward(xs[:n, b:b + 1], h0[b:b + 1], params)
        one_dxs, one_dh0, one_grads = backward(dhs[:n, b:b + 1], one_cache)
        np.testing.assert_allclose(hs[:n, b], one_hs[:, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(hs[n:, b], np.broadcast_to(hs[n - 1, b], hs[n:, b].shape))
        np.testing.assert_allclose(dxs[:n, b], one_dxs[:, 0], rtol=1e-11, atol=1e-13)
        assert np.all(dxs[n:, b] == 0)
        np.testing.assert_allclose(dh0[b], one_dh0[0], rtol=1e-11, atol=1e-13)
        for name, g in one_grads.arrays().items():
            totals[name] += g
    for name, g in grads.arrays().items():
        np.testing.assert_allclose(g, totals[name], rtol=1e-11, atol=1e-13, err_msg=name)


def to_dtype(params, dtype):
    """A copy of ``params`` (GRUParams, GRUGradients or RNNParams) with arrays of ``dtype``."""
    return type(params)(**{n: a.astype(dtype) for n, a in params.arrays().items()},
                        **params.settings())


def all_outputs(forward, backward, xs, h0, params, dhs, mask=None):
    """Everything a sequence pair computes, by name: ``hs``, ``dxs``, ``dh0`` and every
    parameter gradient (``grad.<name>``); also returns the gradients' container."""
    hs, cache = forward(xs, h0, params, mask)
    dxs, dh0, grads = backward(dhs, cache)
    out = {"hs": hs, "dxs": dxs, "dh0": dh0}
    out.update({f"grad.{name}": g for name, g in grads.arrays().items()})
    return out, grads


@cache
def default_sentiment_run(fast_path=False):
    """``train_sentiment(fast_path=fast_path)``: the book's default run, trained once per test
    process and shared by the modules that read it. Read it, never change it."""
    return train_sentiment(fast_path=fast_path)

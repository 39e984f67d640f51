"""The vectorised sequence functions equal a plain loop of steps; masks equal unpadded runs."""

import numpy as np
import pytest
from helpers import random_mask, random_problem

from gru_lib.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward

VARIANTS = [pytest.param(False, id="reset_before"), pytest.param(True, id="reset_after")]


def loop_forward_backward(xs, h0, params, dhs):
    """Per-sequence, per-step reference built only from gru_step_forward/backward."""
    t_steps, batch, _ = xs.shape
    hs = np.zeros((t_steps, batch, params.hidden_size))
    dxs, dh0 = np.zeros_like(xs), np.zeros_like(h0)
    totals = {name: np.zeros_like(a) for name, a in params.arrays().items()}
    for b in range(batch):
        h, caches = h0[b:b + 1], []
        for t in range(t_steps):
            h, cache = gru_step_forward(xs[t, b:b + 1], h, params)
            hs[t, b] = h[0]
            caches.append(cache)
        dh = np.zeros((1, params.hidden_size))
        for t in reversed(range(t_steps)):
            dx, dh, grads = gru_step_backward(dhs[t, b:b + 1] + dh, caches[t])
            dxs[t, b] = dx[0]
            for name, g in grads.arrays().items():
                totals[name] += g
        dh0[b] = dh[0]
    return hs, dxs, dh0, totals


@pytest.mark.parametrize("reset_after", VARIANTS)
def test_batched_equals_step_loop(reset_after):
    params, xs, h0 = random_problem(7, 4, 3, 5, reset_after=reset_after, seed=10)
    dhs = np.random.default_rng(11).standard_normal((7, 4, 5))
    hs, cache = gru_forward(xs, h0, params)
    dxs, dh0, grads = gru_backward(dhs, cache)
    ref_hs, ref_dxs, ref_dh0, ref_grads = loop_forward_backward(xs, h0, params, dhs)
    np.testing.assert_allclose(hs, ref_hs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dxs, ref_dxs, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(dh0, ref_dh0, rtol=1e-11, atol=1e-13)
    for name, g in grads.arrays().items():
        np.testing.assert_allclose(g, ref_grads[name], rtol=1e-11, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("reset_after", VARIANTS)
def test_padded_batch_equals_sequences_one_by_one(reset_after):
    t_steps, batch = 6, 4
    params, xs, h0 = random_problem(t_steps, batch, 3, 5, reset_after=reset_after, seed=12)
    mask = random_mask(t_steps, batch, seed=13)
    lengths = mask.sum(axis=0).astype(int)
    dhs = np.random.default_rng(14).standard_normal((t_steps, batch, 5))
    hs, cache = gru_forward(xs, h0, params, mask)
    dxs, dh0, grads = gru_backward(dhs * mask[:, :, None], cache)
    totals = {name: np.zeros_like(a) for name, a in params.arrays().items()}
    for b in range(batch):
        n = lengths[b]
        one_hs, one_cache = gru_forward(xs[:n, b:b + 1], h0[b:b + 1], params)
        one_dxs, one_dh0, one_grads = gru_backward(dhs[:n, b:b + 1], one_cache)
        np.testing.assert_allclose(hs[:n, b], one_hs[:, 0], rtol=1e-12, atol=1e-14)
        # After the last real step the state is carried unchanged to the end.
        np.testing.assert_array_equal(hs[n:, b], np.broadcast_to(hs[n - 1, b], hs[n:, b].shape))
        np.testing.assert_allclose(dxs[:n, b], one_dxs[:, 0], rtol=1e-11, atol=1e-13)
        assert np.all(dxs[n:, b] == 0)
        np.testing.assert_allclose(dh0[b], one_dh0[0], rtol=1e-11, atol=1e-13)
        for name, g in one_grads.arrays().items():
            totals[name] += g
    for name, g in grads.arrays().items():
        np.testing.assert_allclose(g, totals[name], rtol=1e-11, atol=1e-13, err_msg=name)


def test_all_ones_mask_equals_no_mask():
    params, xs, h0 = random_problem(5, 3, 2, 4, reset_after=False, seed=15)
    hs, _ = gru_forward(xs, h0, params)
    hs_masked, _ = gru_forward(xs, h0, params, np.ones((5, 3)))
    np.testing.assert_array_equal(hs, hs_masked)


@pytest.mark.parametrize("reset_after", VARIANTS)
def test_float32_runs_in_float32_and_is_close_to_float64(reset_after):
    params, xs, h0 = random_problem(5, 3, 4, 6, reset_after=reset_after, seed=16)
    params32 = type(params)(**{k: v.astype(np.float32) for k, v in params.arrays().items()},
                            reset_after=reset_after)
    hs32, cache32 = gru_forward(xs.astype(np.float32), h0.astype(np.float32), params32)
    dxs32, dh032, grads32 = gru_backward(np.ones_like(hs32), cache32)
    hs64, cache64 = gru_forward(xs, h0, params)
    dxs64, _, grads64 = gru_backward(np.ones_like(hs64), cache64)
    assert hs32.dtype == dxs32.dtype == dh032.dtype == grads32.W_hh.dtype == np.float32
    np.testing.assert_allclose(hs32, hs64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dxs32, dxs64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads32.W_hh, grads64.W_hh, rtol=1e-4, atol=1e-5)

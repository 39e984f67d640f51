"""The vectorised sequence functions equal a plain loop of steps; masks equal unpadded runs."""

import numpy as np
import pytest
from helpers import (
    VARIANTS,
    assert_padded_batch_equals_one_by_one,
    assert_sequence_equals_step_loop,
    random_mask,
    random_problem,
)

from gru_lib.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward


@pytest.mark.parametrize("reset_after", VARIANTS)
def test_batched_equals_step_loop(reset_after):
    params, xs, h0 = random_problem(7, 4, 3, 5, reset_after=reset_after, seed=10)
    dhs = np.random.default_rng(11).standard_normal((7, 4, 5))
    assert_sequence_equals_step_loop(gru_forward, gru_backward, gru_step_forward,
                                     gru_step_backward, xs, h0, params, dhs)


@pytest.mark.parametrize("reset_after", VARIANTS)
def test_padded_batch_equals_sequences_one_by_one(reset_after):
    t_steps, batch = 6, 4
    params, xs, h0 = random_problem(t_steps, batch, 3, 5, reset_after=reset_after, seed=12)
    mask = random_mask(t_steps, batch, seed=13)
    dhs = np.random.default_rng(14).standard_normal((t_steps, batch, 5))
    assert_padded_batch_equals_one_by_one(gru_forward, gru_backward, xs, h0, params, mask, dhs)


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


@pytest.mark.parametrize("reset_after", VARIANTS)
def test_update_gate_of_one_carries_the_state_exactly(reset_after):
    # z = 1 must give h_new == h_prev bit for bit (the gradient highway of chapter 6); a form
    # like h_tilde + z * (h_prev - h_tilde) would only be close.
    params, xs, h0 = random_problem(6, 3, 2, 4, reset_after=reset_after, seed=17)
    params.b_z[...] = 1e4
    hs, cache = gru_forward(xs, h0, params)
    assert np.all(cache.z == 1.0)
    np.testing.assert_array_equal(hs, np.broadcast_to(h0, hs.shape))


@pytest.mark.parametrize("reset_after", VARIANTS)
def test_sequence_cache_views_share_memory_with_its_arrays(reset_after):
    params, xs, h0 = random_problem(5, 3, 2, 4, reset_after=reset_after, seed=18)
    hs, cache = gru_forward(xs, h0, params)
    # States, gates and step caches are views of the arrays allocated once for the sequence.
    assert np.shares_memory(hs, cache.states) and np.shares_memory(cache.h_prevs, cache.states)
    np.testing.assert_array_equal(cache.h0, h0)
    np.testing.assert_array_equal(cache.h_prevs[1:], hs[:-1])
    assert np.shares_memory(cache.z, cache.z_and_r) and np.shares_memory(cache.r, cache.z_and_r)
    # The step cache of step t holds exactly what gru_step_forward computes for that step.
    for t in range(xs.shape[0]):
        step = cache.step(t)
        assert np.shares_memory(step.h_tilde, cache.h_tilde)
        h_step, fresh = gru_step_forward(xs[t], cache.h_prevs[t], params)
        np.testing.assert_allclose(h_step, hs[t], rtol=1e-13, atol=1e-15)
        for name in ("z", "r", "h_tilde", "reset_h", "hidden_candidate"):
            expected = getattr(fresh, name)
            if expected is None:
                assert getattr(step, name) is None
            else:
                np.testing.assert_allclose(getattr(step, name), expected, rtol=1e-13, atol=1e-15)
    other = "reset_h" if reset_after else "hidden_candidate"
    assert getattr(cache, other) is None
    expected_bytes = sum(a.nbytes for a in (cache.xs, cache.states, cache.z_and_r, cache.h_tilde,
                                            cache.reset_h if cache.reset_h is not None
                                            else cache.hidden_candidate))
    assert cache.nbytes() == expected_bytes

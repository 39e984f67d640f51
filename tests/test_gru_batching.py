"""The sequence functions of both GRU paths equal a plain loop of reference steps; masks equal
unpadded runs; the caches hold what the backward pass and the book's plots read."""

import numpy as np
import pytest
from helpers import (
    GRU_PATHS,
    VARIANTS,
    assert_padded_batch_equals_one_by_one,
    assert_sequence_equals_step_loop,
    gru_functions,
    random_mask,
    random_problem,
    to_dtype,
)

from gru_lib import fast
from gru_lib.gru import (
    GRUSequenceCache,
    GRUStepCache,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
)


@pytest.mark.parametrize("path", GRU_PATHS)
@pytest.mark.parametrize("reset_after", VARIANTS)
def test_batched_equals_step_loop(path, reset_after):
    forward, backward = gru_functions(path)
    params, xs, h0 = random_problem(7, 4, 3, 5, reset_after=reset_after, seed=10)
    dhs = np.random.default_rng(11).standard_normal((7, 4, 5))
    assert_sequence_equals_step_loop(forward, backward, gru_step_forward, gru_step_backward, xs,
                                     h0, params, dhs)


@pytest.mark.parametrize("path", GRU_PATHS)
@pytest.mark.parametrize("reset_after", VARIANTS)
def test_padded_batch_equals_sequences_one_by_one(path, reset_after):
    forward, backward = gru_functions(path)
    t_steps, batch = 6, 4
    params, xs, h0 = random_problem(t_steps, batch, 3, 5, reset_after=reset_after, seed=12)
    mask = random_mask(t_steps, batch, seed=13)
    dhs = np.random.default_rng(14).standard_normal((t_steps, batch, 5))
    assert_padded_batch_equals_one_by_one(forward, backward, xs, h0, params, mask, dhs)


@pytest.mark.parametrize("path", GRU_PATHS)
def test_all_ones_mask_equals_no_mask(path):
    forward, _ = gru_functions(path)
    params, xs, h0 = random_problem(5, 3, 2, 4, reset_after=False, seed=15)
    hs, _ = forward(xs, h0, params)
    hs_masked, _ = forward(xs, h0, params, np.ones((5, 3)))
    np.testing.assert_array_equal(hs, hs_masked)


@pytest.mark.parametrize("path", GRU_PATHS)
@pytest.mark.parametrize("reset_after", VARIANTS)
def test_float32_runs_in_float32_and_is_close_to_float64(path, reset_after):
    forward, backward = gru_functions(path)
    params, xs, h0 = random_problem(5, 3, 4, 6, reset_after=reset_after, seed=16)
    params32 = to_dtype(params, np.float32)
    hs32, cache32 = forward(xs.astype(np.float32), h0.astype(np.float32), params32)
    dxs32, dh032, grads32 = backward(np.ones_like(hs32), cache32)
    hs64, cache64 = forward(xs, h0, params)
    dxs64, _, grads64 = backward(np.ones_like(hs64), cache64)
    assert hs32.dtype == dxs32.dtype == dh032.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads32.arrays().values())
    np.testing.assert_allclose(hs32, hs64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dxs32, dxs64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grads32.W_hh, grads64.W_hh, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("path", GRU_PATHS)
@pytest.mark.parametrize("reset_after", VARIANTS)
def test_update_gate_of_one_carries_the_state_exactly(path, reset_after):
    # z = 1 must give h_new == h_prev bit for bit (the gradient highway of chapter 6); a form
    # like h_tilde + z * (h_prev - h_tilde) would only be close.
    forward, _ = gru_functions(path)
    params, xs, h0 = random_problem(6, 3, 2, 4, reset_after=reset_after, seed=17)
    params.b_z[...] = 1e4
    hs, cache = forward(xs, h0, params)
    assert np.all(cache.z == 1.0)
    np.testing.assert_array_equal(hs, np.broadcast_to(h0, hs.shape))


@pytest.mark.parametrize("reset_after", VARIANTS)
def test_fast_cache_views_share_memory_with_its_arrays(reset_after):
    params, xs, h0 = random_problem(5, 3, 2, 4, reset_after=reset_after, seed=18)
    hs, cache = fast.gru_forward(xs, h0, params)
    assert isinstance(cache, fast.FastSequenceCache)
    # States, gates and step caches are views of the arrays allocated once for the sequence.
    assert np.shares_memory(hs, cache.states) and np.shares_memory(cache.h_prevs, cache.states)
    assert np.shares_memory(cache.hs, cache.states)
    np.testing.assert_array_equal(cache.hs, hs)
    np.testing.assert_array_equal(cache.h0, h0)
    np.testing.assert_array_equal(cache.h_prevs[1:], hs[:-1])
    assert np.shares_memory(cache.z, cache.z_and_r) and np.shares_memory(cache.r, cache.z_and_r)
    # The step cache of step t holds exactly what the reference step computes for that step.
    for t in range(xs.shape[0]):
        step = cache.at_time(t)
        assert np.shares_memory(step.h_tilde, cache.h_tilde)
        assert np.shares_memory(step.z, cache.z_and_r)
        h_step, fresh = gru_step_forward(xs[t], cache.h_prevs[t], params)
        np.testing.assert_allclose(h_step, hs[t], rtol=1e-13, atol=1e-15)
        for name in ("z", "r", "h_tilde", "a_hh"):
            expected = getattr(fresh, name)
            if expected is None:
                assert getattr(step, name) is None
            else:
                np.testing.assert_allclose(getattr(step, name), expected, rtol=1e-13, atol=1e-15)
        if reset_after:
            assert step.reset_h is None
        else:  # the Cho form's reset state r * h_prev, what W_hh multiplies
            np.testing.assert_allclose(step.reset_h, fresh.r * cache.h_prevs[t], rtol=1e-15)
    other = "reset_h" if reset_after else "a_hh"
    assert getattr(cache, other) is None
    expected_bytes = sum(a.nbytes for a in (cache.xs, cache.states, cache.z_and_r, cache.h_tilde,
                                            cache.reset_h if cache.reset_h is not None
                                            else cache.a_hh))
    assert cache.nbytes() == expected_bytes


@pytest.mark.parametrize("reset_after", VARIANTS)
def test_reference_cache_holds_the_steps_and_their_gates(reset_after):
    params, xs, h0 = random_problem(5, 3, 2, 4, reset_after=reset_after, seed=18)
    mask = random_mask(5, 3, seed=19)
    hs, cache = gru_forward(xs, h0, params, mask)
    assert isinstance(cache, GRUSequenceCache)
    assert len(cache.steps) == 5 and all(isinstance(s, GRUStepCache) for s in cache.steps)
    np.testing.assert_array_equal(cache.hs, hs)
    np.testing.assert_array_equal(cache.xs, xs)
    np.testing.assert_array_equal(cache.h0, h0)
    np.testing.assert_array_equal(cache.mask, mask[:, :, None])
    for name, value in params.arrays().items():
        np.testing.assert_array_equal(cache.params.arrays()[name], value, err_msg=name)
    assert cache.params.reset_after == reset_after
    for name in ("z", "r", "h_tilde"):
        stacked = getattr(cache, name)
        assert stacked.shape == hs.shape
        for t, step in enumerate(cache.steps):
            np.testing.assert_array_equal(stacked[t], getattr(step, name))
    assert np.all((cache.z > 0) & (cache.z < 1)) and np.all(np.abs(cache.h_tilde) < 1)
    # Each step's h_prev is the state the step before it returned (carried at padding).
    for t in range(1, 5):
        np.testing.assert_array_equal(cache.steps[t].h_prev, hs[t - 1])
    arrays = [cache.hs] + [v for s in cache.steps for v in vars(s).values()
                           if isinstance(v, np.ndarray)]
    assert cache.nbytes() == sum(a.nbytes for a in arrays)

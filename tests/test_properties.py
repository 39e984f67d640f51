"""Property tests over random sizes, lengths and masks (hypothesis), for both GRU paths."""

import numpy as np
from helpers import gru_functions, random_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from gru_lib.gradcheck import check_gru_gradients, check_layer_gradients

sizes = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4))


@st.composite
def problems(draw):
    t, b, d, h = draw(sizes)
    reset_after = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    lengths = draw(st.lists(st.integers(1, t), min_size=b, max_size=b))
    mask = (np.arange(t)[:, None] < np.array(lengths)[None, :]).astype(np.float64)
    use_mask = draw(st.booleans())
    path = draw(st.sampled_from(["gru", "gru_fast"]))
    return (t, b, d, h), reset_after, seed, (mask if use_mask else None), path


@settings(max_examples=40, deadline=None)
@given(problems())
def test_gradient_check_passes_for_any_shape_and_mask(problem):
    """On the fast path (a central-difference check is a few hundred forward passes, which the
    reference path takes twice as long to run); for the reference path, this and
    ``test_fast_path_equals_reference_for_any_shape_and_mask`` together say the same, and
    test_gru_gradients.py checks it directly."""
    (t, b, d, h), reset_after, seed, mask, _ = problem
    params, xs, h0 = random_problem(t, b, d, h, reset_after=reset_after, seed=seed)
    forward, backward = gru_functions("gru_fast")
    report = check_layer_gradients(lambda x, h_, p: forward(x, h_, p, mask), backward,
                                   {"xs": xs, "h0": h0}, params, rng=seed)
    assert report.max_relative_error < 1e-7, str(report)


@settings(max_examples=6, deadline=None)
@given(problems())
def test_gradient_check_of_the_reference_path_for_any_shape_and_mask(problem):
    (t, b, d, h), reset_after, seed, mask, _ = problem
    params, xs, h0 = random_problem(t, b, d, h, reset_after=reset_after, seed=seed)
    report = check_gru_gradients(xs, h0, params, mask, rng=seed)
    assert report.max_relative_error < 1e-7, str(report)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_batch_equals_each_sequence_alone(problem):
    (t, b, d, h), reset_after, seed, mask, path = problem
    forward, backward = gru_functions(path)
    params, xs, h0 = random_problem(t, b, d, h, reset_after=reset_after, seed=seed)
    if mask is None:
        mask = np.ones((t, b))
    dhs = np.random.default_rng(seed).standard_normal((t, b, h)) * mask[:, :, None]
    hs, cache = forward(xs, h0, params, mask)
    dxs, dh0, _ = backward(dhs, cache)
    for i in range(b):
        n = int(mask[:, i].sum())
        one_hs, one_cache = forward(xs[:n, i:i + 1], h0[i:i + 1], params)
        one_dxs, one_dh0, _ = backward(dhs[:n, i:i + 1], one_cache)
        np.testing.assert_allclose(hs[n - 1, i], one_hs[-1, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(hs[-1, i], one_hs[-1, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(dxs[:n, i], one_dxs[:, 0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dh0[i], one_dh0[0], rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(problems(), st.integers(0, 2**16))
def test_fast_path_equals_reference_for_any_shape_and_mask(problem, mask_seed):
    """Any 0/1 mask (also holes and all-padding sequences, not just padded ends)."""
    (t, b, d, h), reset_after, seed, mask, _ = problem
    params, xs, h0 = random_problem(t, b, d, h, reset_after=reset_after, seed=seed)
    if mask is not None:
        mask = np.random.default_rng(mask_seed).integers(0, 2, size=(t, b)).astype(np.float64)
    dhs = np.random.default_rng(seed).standard_normal((t, b, h))
    results = {}
    for path in ("gru", "gru_fast"):
        forward, backward = gru_functions(path)
        hs, cache = forward(xs, h0, params, mask)
        dxs, dh0, grads = backward(dhs, cache)
        results[path] = dict(hs=hs, dxs=dxs, dh0=dh0, **grads.arrays())
    for name, ref in results["gru"].items():
        np.testing.assert_allclose(results["gru_fast"][name], ref, rtol=1e-12,
                                   atol=1e-12 * max(np.max(np.abs(ref)), 1e-300), err_msg=name)

"""Property tests over random sizes, lengths and masks (hypothesis)."""

import numpy as np
from helpers import random_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from gru_lib.gradcheck import check_gru_gradients
from gru_lib.gru import gru_backward, gru_forward

sizes = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4))


@st.composite
def problems(draw):
    t, b, d, h = draw(sizes)
    reset_after = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    lengths = draw(st.lists(st.integers(1, t), min_size=b, max_size=b))
    mask = (np.arange(t)[:, None] < np.array(lengths)[None, :]).astype(np.float64)
    use_mask = draw(st.booleans())
    return (t, b, d, h), reset_after, seed, (mask if use_mask else None)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_gradient_check_passes_for_any_shape_and_mask(problem):
    (t, b, d, h), reset_after, seed, mask = problem
    params, xs, h0 = random_problem(t, b, d, h, reset_after=reset_after, seed=seed)
    report = check_gru_gradients(xs, h0, params, mask, rng=seed)
    assert report.max_relative_error < 1e-7, str(report)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_batch_equals_each_sequence_alone(problem):
    (t, b, d, h), reset_after, seed, mask = problem
    params, xs, h0 = random_problem(t, b, d, h, reset_after=reset_after, seed=seed)
    if mask is None:
        mask = np.ones((t, b))
    dhs = np.random.default_rng(seed).standard_normal((t, b, h)) * mask[:, :, None]
    hs, cache = gru_forward(xs, h0, params, mask)
    dxs, dh0, _ = gru_backward(dhs, cache)
    for i in range(b):
        n = int(mask[:, i].sum())
        one_hs, one_cache = gru_forward(xs[:n, i:i + 1], h0[i:i + 1], params)
        one_dxs, one_dh0, _ = gru_backward(dhs[:n, i:i + 1], one_cache)
        np.testing.assert_allclose(hs[n - 1, i], one_hs[-1, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(hs[-1, i], one_hs[-1, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(dxs[:n, i], one_dxs[:, 0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dh0[i], one_dh0[0], rtol=1e-10, atol=1e-12)

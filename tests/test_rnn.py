"""The vanilla tanh RNN: gradient checks, step loop versus sequence, masks, bad parameters,
float32 (the checks of its input arrays are in test_bad_input.py, shared with the GRU)."""

import numpy as np
import pytest
from helpers import (
    assert_padded_batch_equals_one_by_one,
    assert_sequence_equals_step_loop,
    random_mask,
    random_problem,
)

from gru_lib.gradcheck import check_layer_gradients
from gru_lib.rnn import (
    RNNParams,
    init_rnn_params,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)


def random_rnn_problem(t, b, d, h, **options):
    """``helpers.random_problem`` for the RNN."""
    return random_problem(t, b, d, h, init=init_rnn_params, **options)


def check_rnn_gradients(xs, h0, params, mask=None, *, rng=0):
    """Gradient check of every parameter, xs and h0 with the linear loss ``sum(hs * G)``."""
    return check_layer_gradients(lambda x, h, p: rnn_forward(x, h, p, mask), rnn_backward,
                                 {"xs": xs, "h0": h0}, params, rng=rng)


@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
def test_sequence_gradients(masked):
    params, xs, h0 = random_rnn_problem(6, 3, 4, 5, seed=1)
    mask = random_mask(6, 3, seed=2) if masked else None
    report = check_rnn_gradients(xs, h0, params, mask, rng=3)
    assert {row.name for row in report.rows} == {"W_xh", "W_hh", "b_h", "xs", "h0"}
    assert report.passed, str(report)
    assert report.max_relative_error < 1e-7


def test_step_gradients():
    params, xs, h0 = random_rnn_problem(1, 3, 4, 5, seed=4)
    report = check_layer_gradients(rnn_step_forward, rnn_step_backward,
                                   {"x": xs[0], "h_prev": h0}, params, rng=5)
    assert report.passed, str(report)
    assert report.max_relative_error < 1e-7


def test_step_is_the_formula():
    params, xs, h0 = random_rnn_problem(1, 2, 3, 4, seed=6)
    h, _ = rnn_step_forward(xs[0], h0, params)
    np.testing.assert_allclose(h, np.tanh(xs[0] @ params.W_xh + h0 @ params.W_hh + params.b_h),
                               rtol=1e-15, atol=0)


def test_sequence_equals_step_loop():
    params, xs, h0 = random_rnn_problem(7, 4, 3, 5, seed=10)
    dhs = np.random.default_rng(11).standard_normal((7, 4, 5))
    assert_sequence_equals_step_loop(rnn_forward, rnn_backward, rnn_step_forward,
                                     rnn_step_backward, xs, h0, params, dhs)


def test_padded_batch_equals_sequences_one_by_one():
    t_steps, batch = 6, 4
    params, xs, h0 = random_rnn_problem(t_steps, batch, 3, 5, seed=12)
    mask = random_mask(t_steps, batch, seed=13)
    dhs = np.random.default_rng(14).standard_normal((t_steps, batch, 5))
    assert_padded_batch_equals_one_by_one(rnn_forward, rnn_backward, xs, h0, params, mask, dhs)


def test_gradient_reaching_padding_is_carried():
    """A loss on the last (padded) state reaches the last real step through the padding."""
    params, xs, h0 = random_rnn_problem(5, 2, 3, 4, seed=16)
    mask = np.ones((5, 2))
    mask[2:, 1] = 0  # the second sequence has 2 real steps
    dhs = np.zeros((5, 2, 4))
    dhs[-1] = np.random.default_rng(17).standard_normal((2, 4))
    _, cache = rnn_forward(xs, h0, params, mask)
    dxs, dh0, _ = rnn_backward(dhs, cache)
    _, short_cache = rnn_forward(xs[:2, 1:], h0[1:], params)
    short_dhs = np.zeros((2, 1, 4))
    short_dhs[-1] = dhs[-1, 1:]
    short_dxs, short_dh0, _ = rnn_backward(short_dhs, short_cache)
    np.testing.assert_allclose(dxs[:2, 1:], short_dxs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dh0[1:], short_dh0, rtol=1e-12, atol=1e-14)


def test_all_ones_mask_equals_no_mask():
    params, xs, h0 = random_rnn_problem(5, 3, 2, 4, seed=15)
    hs, _ = rnn_forward(xs, h0, params)
    hs_masked, _ = rnn_forward(xs, h0, params, np.ones((5, 3)))
    np.testing.assert_array_equal(hs, hs_masked)


def test_backward_is_pure():
    params, xs, h0 = random_rnn_problem(4, 2, 3, 4, seed=18)
    before = params.copy()
    _, cache = rnn_forward(xs, h0, params)
    rnn_backward(np.ones((4, 2, 4)), cache)
    for name, a in params.arrays().items():
        np.testing.assert_array_equal(a, before.arrays()[name])


def test_init_and_params_api():
    params = init_rnn_params(3, 8, rng=1)
    assert params.input_size == 3 and params.hidden_size == 8 and params.dtype == np.float64
    assert params.num_parameters() == 3 * 8 + 8 * 8 + 8
    assert list(params.arrays()) == ["W_xh", "W_hh", "b_h"]
    assert params.arrays()["W_hh"] is params.W_hh  # the arrays themselves
    bound = 1 / np.sqrt(8)
    assert np.all(np.abs(params.W_hh) < bound) and np.all(params.b_h == 0)
    copied = params.copy()
    copied.W_hh[0, 0] += 1.0
    assert copied.W_hh[0, 0] != params.W_hh[0, 0]
    again = init_rnn_params(3, 8, rng=1)
    np.testing.assert_array_equal(again.W_hh, params.W_hh)  # seeded: reproducible
    np.testing.assert_array_equal(init_rnn_params(3, 8).W_xh, init_rnn_params(3, 8).W_xh)


def test_float32_works():
    params64, xs64, h064 = random_rnn_problem(6, 3, 4, 5, seed=19)
    params32 = RNNParams(**{n: a.astype(np.float32) for n, a in params64.arrays().items()})
    assert init_rnn_params(4, 5, dtype=np.float32).dtype == np.float32
    xs32, h032 = xs64.astype(np.float32), h064.astype(np.float32)
    hs32, cache32 = rnn_forward(xs32, h032, params32)
    hs64, cache64 = rnn_forward(xs64, h064, params64)
    assert hs32.dtype == np.float32
    np.testing.assert_allclose(hs32, hs64, rtol=1e-5, atol=1e-5)
    dhs = np.random.default_rng(20).standard_normal(hs64.shape)
    dxs32, dh032, grads32 = rnn_backward(dhs.astype(np.float32), cache32)
    dxs64, dh064, grads64 = rnn_backward(dhs, cache64)
    assert dxs32.dtype == dh032.dtype == np.float32
    np.testing.assert_allclose(dxs32, dxs64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dh032, dh064, rtol=1e-4, atol=1e-4)
    for name, g in grads32.arrays().items():
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, grads64.arrays()[name], rtol=1e-4, atol=1e-4)
    h, _ = rnn_step_forward(xs32[0], h032, params32)
    assert h.dtype == np.float32


def test_bad_params():
    arrays = init_rnn_params(2, 3).arrays()
    arrays["W_hh"] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"W_hh must have shape \(3, 3\)"):
        RNNParams(**arrays)
    arrays = init_rnn_params(2, 3).arrays()
    arrays["b_h"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"b_h must have shape \(3,\)"):
        RNNParams(**arrays)
    with pytest.raises(ValueError, match=r"W_xh must be 2-D"):
        RNNParams(W_xh=np.zeros(3), W_hh=np.zeros((3, 3)), b_h=np.zeros(3))
    with pytest.raises(ValueError, match="input_size must be >= 1"):
        init_rnn_params(0, 3)
    with pytest.raises(TypeError, match="hidden_size must be an integer"):
        init_rnn_params(2, 2.5)
    with pytest.raises(ValueError, match="recurrent_init must be one of"):
        init_rnn_params(2, 3, recurrent_init="xavier")


@pytest.mark.parametrize("bad", [pytest.param(3, id="int"), pytest.param(["uniform"], id="list")])
def test_recurrent_init_of_the_wrong_type_is_a_type_error(bad):
    # The library's rule (gru_lib.checks): a value of the wrong type is a TypeError, as for
    # every other choice (check_choice: loss, kind, optimizer).
    with pytest.raises(TypeError, match="recurrent_init"):
        init_rnn_params(2, 3, recurrent_init=bad)


@pytest.mark.parametrize("recurrent_init", ["uniform", "orthogonal", "identity"])
def test_recurrent_inits(recurrent_init):
    params = init_rnn_params(3, 6, recurrent_init=recurrent_init, rng=2)
    again = init_rnn_params(3, 6, recurrent_init=recurrent_init, rng=2)
    np.testing.assert_array_equal(again.W_hh, params.W_hh)  # seeded: reproducible
    np.testing.assert_array_equal(params.b_h, 0.0)
    assert np.all(np.abs(params.W_xh) < 1 / np.sqrt(6))
    if recurrent_init == "uniform":
        assert np.all(np.abs(params.W_hh) < 1 / np.sqrt(6))
    elif recurrent_init == "orthogonal":
        # Every singular value is 1: a gradient through W_hh^T keeps its norm.
        np.testing.assert_allclose(params.W_hh.T @ params.W_hh, np.eye(6), atol=1e-12)
        np.testing.assert_allclose(np.linalg.svd(params.W_hh, compute_uv=False), 1.0, rtol=1e-12)
    else:
        np.testing.assert_array_equal(params.W_hh, np.eye(6))
    assert init_rnn_params(3, 6, recurrent_init=recurrent_init, dtype=np.float32).W_hh.dtype \
        == np.float32

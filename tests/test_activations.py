"""Activations: values, derivatives, and stability at extreme inputs in float32 and float64."""

import warnings

import numpy as np
import pytest

from gru_lib.activations import (
    binary_cross_entropy_with_logits,
    log_sigmoid,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_warnings_and_correct_limits_at_large_inputs(dtype):
    x = np.array([-1e4, -1e3, -100.0, 0.0, 100.0, 1e3, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Underflow to 0 is the correct limit (exp(-1e4) is 0 in floating point), so only
        # overflow, division by zero and invalid operations count as instability.
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            s, t, ls = sigmoid(x), tanh(x), log_sigmoid(x)
            sg, tg = sigmoid_grad(x), tanh_grad(x)
            loss, grad = binary_cross_entropy_with_logits(x, (x > 0).astype(dtype))
            loss_wrong, _ = binary_cross_entropy_with_logits(x, (x < 0).astype(dtype))
    for value in (s, t, ls, sg, tg):
        assert value.dtype == dtype
        assert np.all(np.isfinite(value))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert np.all(s >= 0) and np.all(s <= 1)
    np.testing.assert_array_equal(t[[0, -1]], [-1.0, 1.0])
    np.testing.assert_allclose(ls[0], -1e4)  # log sigmoid(-1e4) = -1e4, not -inf
    assert ls[-1] == 0.0
    np.testing.assert_array_equal(sg[[0, -1]], [0.0, 0.0])
    # Only the logit 0 contributes: log(2) / 7. The wrong labels cost about mean(|x|).
    assert loss == pytest.approx(np.log(2) / 7, rel=1e-6)
    wrong_cost = np.mean(np.abs(x.astype(np.float64))) + np.log(2) / 7
    assert loss_wrong == pytest.approx(wrong_cost, rel=1e-6)
    assert np.all(np.isfinite(grad))


def test_sigmoid_keeps_relative_precision_in_the_left_tail():
    x = np.array([-30.0, -700.0])
    expected = np.exp(x) / (1 + np.exp(x))
    np.testing.assert_allclose(sigmoid(x), expected, rtol=1e-14)


def test_values_and_symmetry():
    x = np.linspace(-8, 8, 33)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), atol=1e-15)
    np.testing.assert_allclose(log_sigmoid(x), np.log(1 / (1 + np.exp(-x))), rtol=1e-12)
    np.testing.assert_allclose(tanh(x), 2 * sigmoid(2 * x) - 1, atol=1e-15)


@pytest.mark.parametrize("fn, grad", [(sigmoid, sigmoid_grad), (tanh, tanh_grad)])
def test_derivatives_match_central_differences(fn, grad):
    x = np.linspace(-5, 5, 41)
    eps = 1e-6
    np.testing.assert_allclose(grad(x), (fn(x + eps) - fn(x - eps)) / (2 * eps), atol=1e-9)


def test_bce_gradient_sign_and_value():
    logits = np.array([2.0, -1.0, 0.5])
    targets = np.array([1.0, 0.0, 0.0])
    loss, grad = binary_cross_entropy_with_logits(logits, targets)
    expected = -np.mean(targets * np.log(sigmoid(logits))
                        + (1 - targets) * np.log(1 - sigmoid(logits)))
    assert loss == pytest.approx(expected, rel=1e-12)
    eps = 1e-6
    numeric = []
    for i in range(3):
        up, down = logits.copy(), logits.copy()
        up[i] += eps
        down[i] -= eps
        numeric.append((binary_cross_entropy_with_logits(up, targets)[0]
                        - binary_cross_entropy_with_logits(down, targets)[0]) / (2 * eps))
    np.testing.assert_allclose(grad, numeric, atol=1e-9)
    assert grad[0] < 0 < grad[2]  # raise the logit of a positive example, lower a negative one


def test_bce_rejects_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        binary_cross_entropy_with_logits(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="at least one"):
        binary_cross_entropy_with_logits(np.zeros(0), np.zeros(0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_argument_writes_in_place_with_the_same_values(dtype):
    x = np.linspace(-50, 50, 101, dtype=dtype).reshape(101, 1)
    for fn in (sigmoid, tanh):
        expected = fn(x)
        out = np.empty_like(x)
        assert fn(x, out=out) is out
        np.testing.assert_array_equal(out, expected)
        in_place = x.copy()
        fn(in_place, out=in_place)  # out may be the input itself
        np.testing.assert_array_equal(in_place, expected)

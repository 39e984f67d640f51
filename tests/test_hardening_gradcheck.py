"""Gradient checking: float32 defaults that pass correct gradients, and no silent wrong verdict."""

import numpy as np
import pytest
from helpers import random_problem

from gru_lib.gradcheck import (
    DEFAULTS,
    check_gradients,
    check_gru_gradients,
    check_layer_gradients,
    numerical_gradient,
    relative_error,
)
from gru_lib.gru import gru_backward, gru_forward
from gru_lib.rnn import init_rnn_params, rnn_backward, rnn_forward


class Boom(Exception):
    pass


@pytest.mark.parametrize("fail_at", [1, 2, 5], ids=["first-plus", "first-minus", "third-entry"])
def test_x_is_restored_when_the_loss_raises(fail_at):
    x = np.array([0.5, -1.0, 2.0])
    calls = []

    def loss():
        calls.append(1)
        if len(calls) == fail_at:
            raise Boom
        return float(np.sum(x**2))

    with pytest.raises(Boom):
        numerical_gradient(loss, x)
    np.testing.assert_array_equal(x, [0.5, -1.0, 2.0])


def test_a_strided_view_is_perturbed_where_it_lives():
    base = np.arange(12.0).reshape(3, 4) / 10
    view = base[:, ::2]  # not contiguous
    grad = numerical_gradient(lambda: float(np.sum(np.sin(base))), view)
    np.testing.assert_allclose(grad, np.cos(view), atol=1e-8)
    np.testing.assert_array_equal(base, np.arange(12.0).reshape(3, 4) / 10)


def read_only():
    x = np.ones(2)
    x.flags.writeable = False
    return x


@pytest.mark.parametrize("loss, x, kwargs, error, message", [
    pytest.param(lambda: 1.0, np.ones(2), {"eps": 0}, ValueError, "eps must be > 0", id="eps-0"),
    pytest.param(lambda: 1.0, np.ones(2), {"eps": -1e-6}, ValueError, "eps", id="eps-negative"),
    pytest.param(lambda: 1.0, np.ones(2), {"eps": np.nan}, ValueError, "eps", id="eps-nan"),
    pytest.param(lambda: 1.0, np.ones(2), {"eps": True}, TypeError, "eps", id="eps-bool"),
    pytest.param(lambda: 1.0, np.ones(2), {"eps": "1e-6"}, TypeError, "eps", id="eps-str"),
    pytest.param(lambda: 1.0, np.full(2, 1e12), {}, ValueError, "x \\+ eps == x",
                 id="step-lost-float64"),
    pytest.param(lambda: 1.0, np.full(2, 1e3, np.float32), {"eps": 1e-6}, ValueError,
                 "below the spacing of float32", id="step-lost-float32"),
    pytest.param(lambda: np.nan, np.ones(2), {}, ValueError, "returned nan", id="nan-loss"),
    pytest.param(lambda: np.ones(2), np.ones(2), {}, TypeError, "real scalar", id="array-loss"),
    pytest.param(lambda: 1j, np.ones(2), {}, TypeError, "real scalar", id="complex-loss"),
    pytest.param(lambda: "1.0", np.ones(2), {}, TypeError, "real scalar", id="str-loss"),
    pytest.param(1.0, np.ones(2), {}, TypeError, "loss_fn must be a function", id="not-callable"),
    pytest.param(lambda: 1.0, read_only(), {}, ValueError, "writeable", id="read-only"),
    pytest.param(lambda: 1.0, np.ones(2, np.int64), {}, TypeError, "floating", id="int-array"),
    pytest.param(lambda: 1.0, np.ones(2, np.float16), {}, TypeError, "no default eps",
                 id="float16-no-default"),
])
def test_numerical_gradient_refuses(loss, x, kwargs, error, message):
    with pytest.raises(error, match=message):
        numerical_gradient(loss, x, **kwargs)


def float32_problem(reset_after=False, init=None, seed=0):
    options = {"init": init} if init else {"reset_after": reset_after}
    return random_problem(4, 2, 2, 3, seed=seed, dtype=np.float32, **options)


@pytest.mark.parametrize("reset_after", [False, True], ids=["reset_before", "reset_after"])
def test_float32_gru_check_passes_correct_gradients_with_the_defaults(reset_after):
    params, xs, h0 = float32_problem(reset_after)
    report = check_gru_gradients(xs, h0, params, rng=1)
    assert report.passed, str(report)
    assert (report.eps, report.threshold) == DEFAULTS[np.dtype(np.float32)] == (1e-2, 5e-2)
    assert "threshold 5e-02, eps 1e-02" in str(report)
    if not reset_after:  # the float64 defaults drown in float32 round-off: why new ones
        assert not check_gru_gradients(xs, h0, params, rng=1, eps=1e-6, threshold=1e-7).passed


def test_float32_rnn_check_passes_and_a_wrong_backward_still_fails():
    params, xs, h0 = float32_problem(init=init_rnn_params)
    report = check_layer_gradients(rnn_forward, rnn_backward, {"xs": xs, "h0": h0}, params,
                                   rng=2)
    assert report.passed, str(report)

    def time_reversed(dhs, cache):
        return gru_backward(np.ascontiguousarray(dhs[::-1]), cache)

    params, xs, h0 = float32_problem()
    wrong = check_layer_gradients(gru_forward, time_reversed, {"xs": xs, "h0": h0}, params,
                                  rng=2)
    assert not wrong.passed and wrong.max_relative_error > 0.1


def test_float64_defaults_are_unchanged():
    params, xs, h0 = random_problem(2, 1, 2, 3, seed=3)
    report = check_gru_gradients(xs, h0, params, rng=3)
    assert (report.eps, report.threshold) == (1e-6, 1e-7) and report.passed
    assert "threshold 1e-07, eps 1e-06" in str(report)
    explicit = check_gru_gradients(xs, h0, params, rng=3, eps=1e-6, threshold=1e-7)
    assert str(explicit) == str(report)


def test_a_nan_relative_error_is_never_hidden_by_max():
    x, y = np.array([1.0, 2.0]), np.array([0.5])

    def loss():
        return float(np.sum(x**2) + np.sum(y**2))

    for order in (("x", "y"), ("y", "x")):
        arrays = {name: {"x": x, "y": y}[name] for name in order}
        report = check_gradients(loss, arrays, {"x": 2 * x, "y": np.array([np.nan])})
        assert np.isnan(report.max_relative_error) and report.failures() == ["y"]
        assert not report.max_relative_error < 1e-7


X = np.ones(3)


@pytest.mark.parametrize("arrays, analytic, kwargs, error, message", [
    pytest.param({"x": X}, {"x": np.ones(2)}, {}, ValueError, "shape", id="shape"),
    pytest.param({"x": X}, {}, {}, ValueError, "no analytic gradient", id="missing"),
    pytest.param({"x": X}, {"x": X, "typo": X}, {}, ValueError, "unchecked", id="extra"),
    pytest.param({}, {}, {}, ValueError, "at least one", id="nothing-to-check"),
    pytest.param([X], {"x": X}, {}, TypeError, "dicts", id="list"),
    pytest.param({"x": [1.0, 2.0]}, {"x": np.ones(2)}, {}, TypeError,
                 "floating-point NumPy array", id="list-array"),
    pytest.param({"x": X}, {"x": X}, {"threshold": 0}, ValueError, "threshold must be > 0",
                 id="threshold-0"),
    pytest.param({"x": X}, {"x": X}, {"eps": np.inf}, ValueError, "eps must be finite",
                 id="eps-inf"),
])
def test_check_gradients_refuses_before_perturbing(arrays, analytic, kwargs, error, message):
    calls = []

    def loss():
        calls.append(1)
        return 0.0

    with pytest.raises(error, match=message):
        check_gradients(loss, arrays, analytic, **kwargs)
    assert calls == []


def two_steps():
    params, xs, h0 = random_problem(2, 1, 2, 3, seed=4)
    return {"xs": xs, "h0": h0}, params


@pytest.mark.parametrize("kwargs, backward, use_params, error, message", [
    pytest.param({"upstream": np.ones(3)}, gru_backward, True, ValueError, "upstream must have",
                 id="upstream-shape"),
    pytest.param({"upstream": np.full((2, 1, 3), np.nan)}, gru_backward, True, ValueError,
                 "finite", id="upstream-nan"),
    pytest.param({"rng": -1}, gru_backward, True, ValueError, "rng", id="rng-negative"),
    pytest.param({"rng": "a"}, gru_backward, True, TypeError, "rng", id="rng-str"),
    pytest.param({}, lambda g, c: gru_backward(g, c)[1:], True, ValueError, "input gradient",
                 id="backward-drops-an-input"),
    pytest.param({}, gru_backward, False, TypeError, "arrays", id="params-without-arrays"),
])
def test_check_layer_gradients_refuses(kwargs, backward, use_params, error, message):
    inputs, params = two_steps()
    with pytest.raises(error, match=message):
        check_layer_gradients(gru_forward, backward, inputs,
                              params if use_params else {"W": np.ones(2)}, **kwargs)


@pytest.mark.parametrize("floor, error", [(-1.0, ValueError), (np.nan, ValueError),
                                          ("0", TypeError)], ids=["negative", "nan", "str"])
def test_relative_error_floor(floor, error):
    with pytest.raises(error, match="floor"):
        relative_error(np.ones(2), np.ones(2), floor=floor)

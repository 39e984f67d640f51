"""Gradient checks of the GRU: every parameter, the inputs and h0, both variants, both paths,
with masks."""

import numpy as np
import pytest
from helpers import GRU_PATHS, STEP_LAYERS, VARIANTS, gru_functions, random_mask, random_problem

from gru_lib.gradcheck import (
    check_gradients,
    check_gru_gradients,
    check_layer_gradients,
    relative_error,
    state_jacobian,
)
from gru_lib.gru import gru_step_backward, gru_step_forward
from gru_lib.params import GRUGradients


def check_path_gradients(path, xs, h0, params, mask, *, rng):
    """``check_gru_gradients`` for the reference path, the same check for the fast path."""
    if path == "gru":
        return check_gru_gradients(xs, h0, params, mask, rng=rng)
    forward, backward = gru_functions(path)
    return check_layer_gradients(lambda x, h, p: forward(x, h, p, mask), backward,
                                 {"xs": xs, "h0": h0}, params, rng=rng)


@pytest.mark.parametrize("path", GRU_PATHS)
@pytest.mark.parametrize("reset_after", VARIANTS)
@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
def test_sequence_gradients(path, reset_after, masked):
    params, xs, h0 = random_problem(6, 3, 4, 5, reset_after=reset_after, seed=1)
    mask = random_mask(6, 3, seed=2) if masked else None
    report = check_path_gradients(path, xs, h0, params, mask, rng=3)
    expected = {"W_xz", "W_xr", "W_xh", "W_hz", "W_hr", "W_hh", "b_z", "b_r", "b_h", "xs", "h0"}
    if reset_after:
        expected.add("b_hn")
    assert {row.name for row in report.rows} == expected
    assert report.passed, str(report)
    assert report.max_relative_error < 1e-7


@pytest.mark.parametrize("reset_after", VARIANTS)
def test_step_gradients(reset_after):
    params, xs, h0 = random_problem(1, 3, 4, 5, reset_after=reset_after, seed=4)
    report = check_layer_gradients(gru_step_forward, gru_step_backward,
                                   {"x": xs[0], "h_prev": h0}, params, rng=5)
    assert {"x", "h_prev", "W_hh"} <= {row.name for row in report.rows}
    assert report.passed, str(report)


@pytest.mark.parametrize("path", GRU_PATHS)
@pytest.mark.parametrize("reset_after", VARIANTS)
def test_backward_passes_return_gru_gradients(path, reset_after):
    """Gradients come back as GRUGradients (what converts to torch's gradient layout), with the
    names, shapes, dtype and variant of the parameters."""
    forward, backward = gru_functions(path)
    params, xs, h0 = random_problem(3, 2, 4, 5, reset_after=reset_after, seed=4)
    _, step_cache = gru_step_forward(xs[0], h0, params)
    _, _, step_grads = gru_step_backward(np.ones_like(h0), step_cache)
    _, cache = forward(xs, h0, params)
    _, _, grads = backward(np.ones((3, 2, 5)), cache)
    for g in (step_grads, grads):
        assert type(g) is GRUGradients
        assert g.reset_after == reset_after
        assert list(g.arrays()) == list(params.arrays())
        for name, value in params.arrays().items():
            assert g.arrays()[name].shape == value.shape
            assert g.arrays()[name].dtype == value.dtype


@pytest.mark.parametrize("mistake", ["seed", "dropped"])
def test_checker_catches_a_wrong_gradient(mistake):
    """The seed notebook's bug in the direct h_{t-1} term must fail the check.

    The seed (mirrored update, h = (1 - u) h_prev + u h_tilde) wrote -dh * u for the direct term
    instead of dh * (1 - u): it lost dh itself. In our convention that is dh * z - dh. The other
    form of the mistake drops the direct term dh * z entirely.
    """
    params, xs, h0 = random_problem(1, 2, 3, 4, reset_after=False, seed=6)
    x = xs[0]
    upstream = np.random.default_rng(7).standard_normal(h0.shape)
    _, cache = gru_step_forward(x, h0, params)
    _, dh_prev, _ = gru_step_backward(upstream, cache)
    wrong = dh_prev - (upstream if mistake == "seed" else upstream * cache.z)

    def loss():
        return np.sum(gru_step_forward(x, h0, params)[0] * upstream)

    report = check_gradients(loss, {"h_prev": h0}, {"h_prev": wrong})
    assert not report.passed
    assert report.failures() == ["h_prev"]
    assert report.max_relative_error > 1e-2


def test_relative_error_floor_and_symmetry():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-6])
    assert relative_error(a, b) == relative_error(b, a)
    assert 1e-8 < relative_error(a, b) < 1e-6
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.zeros(2), np.zeros(3))


def test_report_prints_a_table():
    params, xs, h0 = random_problem(2, 1, 2, 3, reset_after=True, seed=7)
    text = str(check_gru_gradients(xs, h0, params))
    assert "W_hh" in text and "b_hn" in text and "passed" in text


@pytest.mark.parametrize("path", GRU_PATHS)
def test_layer_check_fails_for_a_wrong_backward(path):
    """Upstream gradients read in reversed time order must fail the layer check."""
    forward, backward = gru_functions(path)
    params, xs, h0 = random_problem(4, 2, 3, 4, reset_after=False, seed=8)

    def time_reversed_backward(dhs, cache):
        return backward(np.ascontiguousarray(dhs[::-1]), cache)

    report = check_layer_gradients(forward, time_reversed_backward, {"xs": xs, "h0": h0},
                                   params, rng=9)
    assert not report.passed
    assert report.max_relative_error > 1e-2


@pytest.mark.parametrize("layer", STEP_LAYERS)
def test_state_jacobian_equals_central_differences(layer):
    params, xs, h0 = random_problem(1, 1, 3, 5, init=layer.init, seed=19)
    jacobian = state_jacobian(layer.step_forward, layer.step_backward, xs[0], h0, params)
    eps = 1e-6
    # Column j: how h_new moves when h_prev[j] does.
    columns = [(layer.step_forward(xs[0], h0 + eps * e, params)[0]
                - layer.step_forward(xs[0], h0 - eps * e, params)[0])[0] / (2 * eps)
               for e in np.eye(5)]
    np.testing.assert_allclose(jacobian, np.array(columns).T, rtol=1e-7, atol=1e-9)
    with pytest.raises(ValueError, match="one example"):
        state_jacobian(layer.step_forward, layer.step_backward, xs[0], np.vstack([h0, h0]), params)

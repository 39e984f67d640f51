"""gru_lib reproduces torch.nn.GRU (and an autograd Cho GRU) from a stored fixture, on both
paths, and converts parameters and gradients to torch's layout correctly.

The fixture is made by tests/fixtures/make_torch_fixture.py; these tests need no torch.
"""

from pathlib import Path

import numpy as np
import pytest
from helpers import GRU_PATHS, gru_functions

from gru_lib.params import GRUGradients, GRUParams
from gru_lib.torch_layout import from_torch, gradients_to_torch, to_torch

FIXTURE = Path(__file__).parent / "fixtures" / "torch_gru.npz"
TOL = dict(rtol=1e-10, atol=1e-12)
TORCH_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
CASES = [pytest.param("plain_", True, id="plain"), pytest.param("masked_", True, id="masked"),
         pytest.param("cho_", False, id="cho")]


@pytest.fixture(scope="module")
def fixture():
    with np.load(FIXTURE, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def run_case(data, prefix, reset_after, path="gru"):
    def get(key):
        return data[prefix + key]

    forward, backward = gru_functions(path)
    params = GRUParams.from_torch_layout(get("weight_ih"), get("weight_hh"), get("bias_ih"),
                                         get("bias_hh"), reset_after=reset_after)
    mask = data.get(prefix + "mask")
    hs, cache = forward(get("x"), get("h0"), params, mask)
    # torch's loss is sum(out * dout) + sum(h_n * dh_n). With a mask our padded steps carry the
    # state, so torch's out is hs * mask and h_n is hs[-1].
    m = np.ones(hs.shape[:2]) if mask is None else mask
    dhs = get("dout") * m[:, :, None]
    dhs[-1] += get("dh_n")
    dxs, dh0, grads = backward(dhs, cache)
    return params, hs * m[:, :, None], hs[-1], dxs, dh0, grads


def assert_torch_gradients(fixture, prefix, arrays, tol=TOL):
    """The four arrays equal the fixture's gradients of weight_ih, weight_hh, bias_ih, bias_hh."""
    arrays = tuple(arrays)
    assert len(arrays) == 4
    for name, ours in zip(TORCH_NAMES, arrays, strict=True):
        np.testing.assert_allclose(ours, fixture[prefix + "grad_" + name], **tol, err_msg=name)


@pytest.mark.parametrize("path", GRU_PATHS)
@pytest.mark.parametrize("prefix, reset_after", CASES)
def test_forward_and_gradients_match_torch(fixture, prefix, reset_after, path):
    _, out, h_n, dxs, dh0, grads = run_case(fixture, prefix, reset_after, path)
    np.testing.assert_allclose(out, fixture[prefix + "out"], **TOL)
    np.testing.assert_allclose(h_n, fixture[prefix + "h_n"], **TOL)
    np.testing.assert_allclose(dxs, fixture[prefix + "grad_x"], **TOL)
    np.testing.assert_allclose(dh0, fixture[prefix + "grad_h0"], **TOL)
    assert isinstance(grads, GRUGradients)
    assert_torch_gradients(fixture, prefix, grads.to_torch_layout())


@pytest.mark.parametrize("path", GRU_PATHS)
def test_masked_padding_gets_no_input_gradient(fixture, path):
    *_, dxs, _, _ = run_case(fixture, "masked_", True, path)
    padded = fixture["masked_mask"] == 0
    assert padded.any()
    assert np.all(dxs[padded] == 0)


# -- gradients in torch's layout, however they were built -------------------------------------


def rebuilt(grads):
    """The same gradients in a GRUGradients built by hand from their arrays."""
    return GRUGradients(**grads.arrays(), reset_after=grads.reset_after)


GRADIENT_BUILDS = [
    pytest.param(lambda g: g, id="from-backward"),
    pytest.param(rebuilt, id="rebuilt"),
    pytest.param(lambda g: g.copy(), id="copied"),
    pytest.param(lambda g: rebuilt(g).copy(), id="rebuilt-copied"),
]
CONVERSIONS = [
    pytest.param(lambda g: g.to_torch_layout(), id="method"),
    pytest.param(gradients_to_torch, id="gradients_to_torch"),
    pytest.param(to_torch, id="to_torch"),
]


@pytest.mark.parametrize("convert", CONVERSIONS)
@pytest.mark.parametrize("build", GRADIENT_BUILDS)
@pytest.mark.parametrize("prefix, reset_after", CASES)
def test_gradients_convert_to_torch_however_built(fixture, prefix, reset_after, build, convert):
    *_, grads = run_case(fixture, prefix, reset_after)
    built = build(grads)
    assert type(built) is GRUGradients and built.reset_after == reset_after
    assert_torch_gradients(fixture, prefix, convert(built))
    # Converting never changes the gradients themselves.
    for name, value in grads.arrays().items():
        np.testing.assert_array_equal(built.arrays()[name], value, err_msg=name)


@pytest.mark.parametrize("prefix, reset_after", CASES)
def test_merged_bias_gradient_fills_both_torch_slots(fixture, prefix, reset_after):
    """A merged bias's gradient is the gradient of each of torch's two slots (of their sum)."""
    *_, grads = run_case(fixture, prefix, reset_after)
    _, _, bias_ih, bias_hh = gradients_to_torch(grads)
    h = grads.hidden_size
    np.testing.assert_array_equal(bias_ih[:2 * h], bias_hh[:2 * h])  # r and z: always merged
    np.testing.assert_array_equal(bias_ih[:h], grads.b_r)
    np.testing.assert_array_equal(bias_ih[h:2 * h], grads.b_z)
    np.testing.assert_array_equal(bias_ih[2 * h:], grads.b_h)
    np.testing.assert_array_equal(bias_hh[2 * h:], grads.b_hn if reset_after else grads.b_h)


@pytest.mark.parametrize("prefix, reset_after", CASES)
def test_gradient_values_in_a_plain_gru_params_convert_as_parameters(fixture, prefix,
                                                                     reset_after):
    """The container's type says what it holds: the same arrays in a GRUParams convert as
    parameters (merged biases in bias_ih, zeros beside them), and gradients_to_torch refuses
    a GRUParams."""
    *_, grads = run_case(fixture, prefix, reset_after)
    as_params = GRUParams(**grads.arrays(), reset_after=reset_after)
    weight_ih, weight_hh, bias_ih, bias_hh = as_params.to_torch_layout()
    np.testing.assert_allclose(weight_ih, fixture[prefix + "grad_weight_ih"], **TOL)
    np.testing.assert_allclose(weight_hh, fixture[prefix + "grad_weight_hh"], **TOL)
    np.testing.assert_allclose(bias_ih, fixture[prefix + "grad_bias_ih"], **TOL)
    h = grads.hidden_size
    np.testing.assert_array_equal(bias_hh[:2 * h], 0.0)
    with pytest.raises(TypeError, match="gradients_to_torch needs GRUGradients"):
        gradients_to_torch(as_params)
    with pytest.raises(TypeError, match="to_torch needs GRUParams"):
        to_torch(grads.arrays())


@pytest.mark.parametrize("prefix, reset_after", CASES)
def test_gradients_from_torch_layout_are_gradients(fixture, prefix, reset_after):
    """Torch's four gradients read back give our gradients: a GRUGradients whose merged biases
    take one slot's gradient (not the sum of both, which would double them)."""
    *_, grads = run_case(fixture, prefix, reset_after)
    torch_grads = [fixture[prefix + "grad_" + name] for name in TORCH_NAMES]
    back = GRUGradients.from_torch_layout(*torch_grads, reset_after=reset_after)
    assert type(back) is GRUGradients and back.reset_after == reset_after
    for name, value in grads.arrays().items():
        np.testing.assert_allclose(back.arrays()[name], value, **TOL, err_msg=name)
    assert_torch_gradients(fixture, prefix, back.to_torch_layout())  # and round trip


# -- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize("reset_after", [True, False])
def test_torch_layout_round_trip(fixture, reset_after):
    keys = ["plain_weight_ih", "plain_weight_hh", "plain_bias_ih", "plain_bias_hh"]
    params = GRUParams.from_torch_layout(*(fixture[k] for k in keys), reset_after=reset_after)
    assert type(params) is GRUParams
    again = GRUParams.from_torch_layout(*params.to_torch_layout(), reset_after=reset_after)
    for name, value in params.arrays().items():
        np.testing.assert_array_equal(again.arrays()[name], value, err_msg=name)
    weight_ih, weight_hh, bias_ih, bias_hh = params.to_torch_layout()
    np.testing.assert_array_equal(weight_ih, fixture[keys[0]])
    np.testing.assert_array_equal(weight_hh, fixture[keys[1]])
    # Biases that are one parameter here come back as their sum, all in bias_ih.
    np.testing.assert_allclose(bias_ih + bias_hh, fixture[keys[2]] + fixture[keys[3]], atol=1e-15)
    # The methods are thin calls of gru_lib.torch_layout.
    direct = from_torch(*(fixture[k] for k in keys), reset_after=reset_after)
    for name, value in params.arrays().items():
        np.testing.assert_array_equal(direct.arrays()[name], value, err_msg=name)
    for ours, theirs in zip(to_torch(params), params.to_torch_layout(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("path", GRU_PATHS)
def test_float32_agrees_with_torch_to_float32_precision(fixture, path):
    forward, _ = gru_functions(path)
    keys = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    params = GRUParams.from_torch_layout(*(fixture["plain_" + k].astype(np.float32) for k in keys),
                                         reset_after=True)
    hs, _ = forward(fixture["plain_x"].astype(np.float32),
                    fixture["plain_h0"].astype(np.float32), params)
    assert hs.dtype == np.float32
    np.testing.assert_allclose(hs, fixture["plain_out"], rtol=1e-5, atol=1e-6)

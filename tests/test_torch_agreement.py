"""gru_lib reproduces torch.nn.GRU (and an autograd Cho GRU) from a stored fixture.

The fixture is made by tests/fixtures/make_torch_fixture.py; these tests need no torch.
"""

from pathlib import Path

import numpy as np
import pytest

from gru_lib.gru import GRUParams, gru_backward, gru_forward

FIXTURE = Path(__file__).parent / "fixtures" / "torch_gru.npz"
TOL = dict(rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def fixture():
    with np.load(FIXTURE, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def run_case(data, prefix, reset_after):
    def get(key):
        return data[prefix + key]

    params = GRUParams.from_torch_layout(get("weight_ih"), get("weight_hh"), get("bias_ih"),
                                         get("bias_hh"), reset_after=reset_after)
    mask = data.get(prefix + "mask")
    hs, cache = gru_forward(get("x"), get("h0"), params, mask)
    # torch's loss is sum(out * dout) + sum(h_n * dh_n). With a mask our padded steps carry the
    # state, so torch's out is hs * mask and h_n is hs[-1].
    m = np.ones(hs.shape[:2]) if mask is None else mask
    dhs = get("dout") * m[:, :, None]
    dhs[-1] += get("dh_n")
    dxs, dh0, grads = gru_backward(dhs, cache)
    return params, hs * m[:, :, None], hs[-1], dxs, dh0, grads


@pytest.mark.parametrize("prefix, reset_after", [("plain_", True), ("masked_", True),
                                                 ("cho_", False)])
def test_forward_and_gradients_match_torch(fixture, prefix, reset_after):
    _, out, h_n, dxs, dh0, grads = run_case(fixture, prefix, reset_after)
    np.testing.assert_allclose(out, fixture[prefix + "out"], **TOL)
    np.testing.assert_allclose(h_n, fixture[prefix + "h_n"], **TOL)
    np.testing.assert_allclose(dxs, fixture[prefix + "grad_x"], **TOL)
    np.testing.assert_allclose(dh0, fixture[prefix + "grad_h0"], **TOL)
    for name, ours in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                          grads.to_torch_layout(), strict=True):
        np.testing.assert_allclose(ours, fixture[prefix + "grad_" + name], **TOL, err_msg=name)


def test_masked_padding_gets_no_input_gradient(fixture):
    *_, dxs, _, _ = run_case(fixture, "masked_", True)
    padded = fixture["masked_mask"] == 0
    assert padded.any()
    assert np.all(dxs[padded] == 0)


@pytest.mark.parametrize("reset_after", [True, False])
def test_torch_layout_round_trip(fixture, reset_after):
    keys = ["plain_weight_ih", "plain_weight_hh", "plain_bias_ih", "plain_bias_hh"]
    params = GRUParams.from_torch_layout(*(fixture[k] for k in keys), reset_after=reset_after)
    again = GRUParams.from_torch_layout(*params.to_torch_layout(), reset_after=reset_after)
    for name, value in params.arrays().items():
        np.testing.assert_array_equal(again.arrays()[name], value, err_msg=name)
    weight_ih, weight_hh, bias_ih, bias_hh = params.to_torch_layout()
    np.testing.assert_array_equal(weight_ih, fixture[keys[0]])
    np.testing.assert_array_equal(weight_hh, fixture[keys[1]])
    # Biases that are one parameter here come back as their sum, all in bias_ih.
    np.testing.assert_allclose(bias_ih + bias_hh, fixture[keys[2]] + fixture[keys[3]], atol=1e-15)


def test_float32_agrees_with_torch_to_float32_precision(fixture):
    keys = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    params = GRUParams.from_torch_layout(*(fixture["plain_" + k].astype(np.float32) for k in keys),
                                         reset_after=True)
    hs, _ = gru_forward(fixture["plain_x"].astype(np.float32),
                        fixture["plain_h0"].astype(np.float32), params)
    assert hs.dtype == np.float32
    np.testing.assert_allclose(hs, fixture["plain_out"], rtol=1e-5, atol=1e-6)

"""Deep and bidirectional GRUs (gru_lib.deep) reproduce torch.nn.GRU, and their gradients are right.

The torch numbers come from tests/fixtures/torch_gru.npz (made by make_torch_fixture.py), so these
tests need no torch.
"""

import importlib.util
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display in CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gru_lib.deep import (  # noqa: E402
    DeepGRUCache,
    DeepGRUParams,
    deep_gru_backward,
    deep_gru_forward,
)
from gru_lib.diagrams import plot_deep_gru  # noqa: E402
from gru_lib.gradcheck import check_gradients  # noqa: E402
from gru_lib.gru import gru_forward, init_gru_params  # noqa: E402
from gru_lib.optim import SGD  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "torch_gru.npz"
TOL = dict(rtol=1e-10, atol=1e-12)
TORCH_TENSORS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
CASES = [f"deep_l{layers}_{kind}_{padding}" for layers in (1, 2, 3) for kind in ("uni", "bi")
         for padding in ("plain", "masked")]
HAS_FAST = importlib.util.find_spec("gru_lib.fast") is not None


def load_fixture():
    with np.load(FIXTURE, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def fixture():
    return load_fixture()


def case_arrays(data, case):
    """One case's arrays without its prefix, and its state dict (torch name -> array)."""
    prefix = case + "_"
    arrays = {k[len(prefix):]: v for k, v in data.items() if k.startswith(prefix)}
    state_dict = {k: v for k, v in arrays.items() if k.startswith(TORCH_TENSORS)}
    return arrays, state_dict


def run(arrays, params, fast=False):
    out, h_n, cache = deep_gru_forward(arrays["x"], arrays["h0"], params, arrays.get("mask"),
                                       fast=fast)
    dxs, dh0, grads = deep_gru_backward(arrays["dout"], arrays["dh_n"], cache)
    return {"out": out, "h_n": h_n, "grad_x": dxs, "grad_h0": dh0,
            **{"grad_" + k: v for k, v in grads.to_torch().items()}}


@pytest.mark.parametrize("case", CASES)
def test_forward_and_every_gradient_match_torch(fixture, case):
    arrays, state_dict = case_arrays(fixture, case)
    params = DeepGRUParams.from_torch(state_dict)
    ours = run(arrays, params)
    # Every gradient torch has (x, h0 and each tensor of the state dict), and nothing else.
    assert sorted(ours) == sorted(["out", "h_n", "grad_x", "grad_h0",
                                   *("grad_" + k for k in state_dict)])
    for key, value in ours.items():
        np.testing.assert_allclose(value, arrays[key], **TOL, err_msg=f"{case}: {key}")


@pytest.mark.parametrize("case", ["deep_l2_bi_masked", "deep_l3_uni_masked"])
def test_padding_is_exactly_inert(fixture, case):
    arrays, state_dict = case_arrays(fixture, case)
    ours = run(arrays, DeepGRUParams.from_torch(state_dict))
    padded = arrays["mask"] == 0
    assert padded.any()
    assert np.all(ours["out"][padded] == 0) and np.all(ours["grad_x"][padded] == 0)
    repadded = dict(arrays, x=np.where(padded[:, :, None], 1e3, arrays["x"]))
    again = run(repadded, DeepGRUParams.from_torch(state_dict))
    for key, value in ours.items():
        np.testing.assert_array_equal(again[key], value, err_msg=key)


@pytest.mark.parametrize("case", ["deep_l1_uni_plain", "deep_l2_bi_masked", "deep_l3_bi_plain"])
def test_structure_is_read_from_the_names(fixture, case):
    arrays, state_dict = case_arrays(fixture, case)
    params = DeepGRUParams.from_torch(state_dict)
    _, layers, kind, _ = case.split("_")  # e.g. deep, l2, bi, masked
    assert params.num_layers == int(layers[1:])
    assert params.num_directions == (2 if kind == "bi" else 1)
    assert (params.input_size, params.hidden_size) == (arrays["x"].shape[2], arrays["h0"].shape[2])
    assert params.dtype == np.float64
    assert len(params.arrays()) == 10 * params.num_layers * params.num_directions  # 10 per GRU


def test_torch_round_trip(fixture):
    _, state_dict = case_arrays(fixture, "deep_l2_bi_plain")
    params = DeepGRUParams.from_torch(state_dict)
    back = params.to_torch()
    assert list(back) == list(state_dict)  # torch's names, in torch's order
    hidden = params.hidden_size
    for key, value in back.items():
        if key.startswith("weight"):
            np.testing.assert_array_equal(value, state_dict[key], err_msg=key)
        elif key.startswith("bias_hh"):
            # The r and z biases are one parameter each here (their sum), put into bias_ih.
            other = "bias_ih" + key[7:]
            np.testing.assert_allclose(value + back[other], state_dict[key] + state_dict[other],
                                       rtol=0, atol=1e-15, err_msg=key)
            np.testing.assert_array_equal(value[2 * hidden:], state_dict[key][2 * hidden:])
    again = DeepGRUParams.from_torch(back)
    for name, value in params.arrays().items():
        np.testing.assert_array_equal(again.arrays()[name], value, err_msg=name)


def test_arrays_are_the_parameters_themselves(fixture):
    arrays, state_dict = case_arrays(fixture, "deep_l2_bi_masked")
    params = DeepGRUParams.from_torch(state_dict)
    before = run(arrays, params)["out"]
    params.arrays()["l1_reverse.W_hh"][...] += 0.1
    assert not np.allclose(run(arrays, params)["out"], before)
    assert params.layers[1][1].W_hh is params.arrays()["l1_reverse.W_hh"]


def test_an_sgd_step_on_arrays_lowers_the_loss(fixture):
    arrays, state_dict = case_arrays(fixture, "deep_l2_bi_masked")
    params = DeepGRUParams.from_torch(state_dict)

    def loss_and_grads():
        out, h_n, cache = deep_gru_forward(arrays["x"], arrays["h0"], params, arrays["mask"])
        loss = np.sum(out * arrays["dout"]) + np.sum(h_n * arrays["dh_n"])
        return loss, deep_gru_backward(arrays["dout"], arrays["dh_n"], cache)[2]

    loss, grads = loss_and_grads()
    SGD(lr=1e-3).step(params.arrays(), grads.arrays())
    assert loss_and_grads()[0] < loss


def test_nothing_is_changed_and_none_means_zeros(fixture):
    arrays, state_dict = case_arrays(fixture, "deep_l2_bi_masked")
    params = DeepGRUParams.from_torch(state_dict)
    copies = {k: v.copy() for k, v in arrays.items()}
    out, h_n, cache = deep_gru_forward(arrays["x"], None, params, arrays["mask"])
    zero_h0 = deep_gru_forward(arrays["x"], np.zeros_like(arrays["h0"]), params, arrays["mask"])
    np.testing.assert_array_equal(out, zero_h0[0])
    np.testing.assert_array_equal(h_n, zero_h0[1])
    dxs, _, grads = deep_gru_backward(arrays["dout"], None, cache)
    zero_dh_n = deep_gru_backward(arrays["dout"], np.zeros_like(arrays["dh_n"]), cache)
    np.testing.assert_array_equal(dxs, zero_dh_n[0])
    assert np.all(deep_gru_backward(None, None, cache)[0] == 0)
    for key, value in copies.items():
        np.testing.assert_array_equal(arrays[key], value, err_msg=key)


def test_float32_agrees_with_torch_to_float32_precision(fixture):
    arrays, state_dict = case_arrays(fixture, "deep_l2_bi_masked")
    params = DeepGRUParams.from_torch({k: v.astype(np.float32) for k, v in state_dict.items()})
    out, h_n, _ = deep_gru_forward(arrays["x"].astype(np.float32),
                                   arrays["h0"].astype(np.float32), params, arrays["mask"])
    assert out.dtype == h_n.dtype == np.float32
    np.testing.assert_allclose(out, arrays["out"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_n, arrays["h_n"], rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not HAS_FAST, reason="gru_lib.fast (the fast single-layer path) is missing")
@pytest.mark.parametrize("case", ["deep_l2_bi_plain", "deep_l2_bi_masked", "deep_l3_uni_masked"])
def test_fast_path_equals_reference(fixture, case):
    arrays, state_dict = case_arrays(fixture, case)
    params = DeepGRUParams.from_torch(state_dict)
    reference, fast = run(arrays, params), run(arrays, params, fast=True)
    for key, value in reference.items():
        np.testing.assert_allclose(fast[key], value, rtol=0, atol=1e-12, err_msg=key)


# -- gradient check --------------------------------------------------------------------------


def random_state_dict(rng, num_layers, num_directions, d, h):
    """A torch-style state dict with every tensor uniform in (-0.5, 0.5), biases included."""
    state_dict = {}
    for layer in range(num_layers):
        for suffix in ("", "_reverse")[:num_directions]:
            inputs = d if layer == 0 else num_directions * h
            for tensor, shape in zip(TORCH_TENSORS, ((3 * h, inputs), (3 * h, h), (3 * h,),
                                                     (3 * h,)), strict=True):
                state_dict[f"{tensor}_l{layer}{suffix}"] = rng.uniform(-0.5, 0.5, shape)
    return state_dict


@pytest.mark.parametrize("lengths", [None, [3, 1, 2]], ids=["full", "masked"])
def test_gradient_check_bidirectional_two_layers(lengths):
    # Small sizes: central differences run two forward passes per checked entry. The masked
    # batch has a sequence of every length 1..T, so each is reversed within its own length.
    rng = np.random.default_rng(7)
    t, b, d, h = 3, 2 if lengths is None else len(lengths), 2, 2
    params = DeepGRUParams.from_torch(random_state_dict(rng, 2, 2, d, h))
    xs = rng.standard_normal((t, b, d))
    h0 = rng.uniform(-1, 1, (4, b, h))
    mask = None if lengths is None else (np.arange(t)[:, None] < np.array(lengths)).astype(float)
    g_out, g_h_n = rng.standard_normal((t, b, 2 * h)), rng.standard_normal((4, b, h))

    def loss():
        out, h_n, _ = deep_gru_forward(xs, h0, params, mask)
        return np.sum(out * g_out) + np.sum(h_n * g_h_n)

    _, _, cache = deep_gru_forward(xs, h0, params, mask)
    dxs, dh0, grads = deep_gru_backward(g_out, g_h_n, cache)
    report = check_gradients(loss, {**params.arrays(), "xs": xs, "h0": h0},
                             {**grads.arrays(), "xs": dxs, "h0": dh0})
    assert report.passed, str(report)
    assert report.max_relative_error < 1e-7


# -- bad input -------------------------------------------------------------------------------


def edited(state_dict, **changes):
    """A copy of ``state_dict`` with keys replaced (None deletes the key)."""
    out = dict(state_dict)
    for key, value in changes.items():
        if value is None:
            del out[key]
        else:
            out[key] = value
    return out


def bad_state_dicts(sd):
    h = 6
    without_l0 = {k: v for k, v in sd.items() if "_l0" not in k}
    narrow_l1 = {k: (v[:15, :5] if "hh" in k and "weight" in k else v[:15])
                 if "_l1" in k else v for k, v in sd.items()}
    return [
        pytest.param([], TypeError, "state_dict must be a dict", id="not-a-dict"),
        pytest.param({"weight": sd["weight_ih_l0"]}, ValueError, "no torch.nn.GRU tensor",
                     id="no-gru-keys"),
        pytest.param(edited(sd, bias_hh_l1=None), ValueError, "'bias_hh_l1'", id="missing-key"),
        pytest.param(without_l0, ValueError, "'weight_ih_l0'", id="missing-layer-0"),
        pytest.param(edited(sd, weight_ih_l0_forward=sd["weight_ih_l0"]), ValueError,
                     "unexpected key 'weight_ih_l0_forward'", id="extra-key"),
        pytest.param(edited(sd, weight_hh_l1=sd["weight_hh_l1"].T.copy()), ValueError,
                     r"'weight_hh_l1'\] must have shape \(18, 6\)", id="mis-shaped"),
        pytest.param(narrow_l1, ValueError, r"'weight_ih_l1'\] must have shape",
                     id="inconsistent-hidden-size"),
        pytest.param(edited(sd, weight_ih_l1_reverse=sd["weight_ih_l1_reverse"][:, :h]),
                     ValueError, r"'weight_ih_l1_reverse'\] must have shape \(18, 12\)",
                     id="layer-1-reads-one-direction"),
        pytest.param(edited(sd, bias_ih_l0=np.ones(3 * h, dtype=np.int64)), TypeError,
                     r"'bias_ih_l0'\] must be float32 or float64", id="int-dtype"),
        pytest.param(edited(sd, weight_hh_l1=sd["weight_hh_l1"].astype(np.float32)), TypeError,
                     r"'weight_hh_l1'\] has dtype float32.*share one dtype", id="mixed-dtypes"),
        pytest.param(edited(sd, bias_hh_l0=sd["bias_hh_l0"].tolist()), TypeError,
                     r"'bias_hh_l0'\] must be a NumPy array", id="list-value"),
        pytest.param(edited(sd, weight_ih_l1_reverse=np.where(
            np.eye(18, 12) == 1, np.nan, sd["weight_ih_l1_reverse"])), ValueError,
            r"'weight_ih_l1_reverse'\] contains NaN", id="nan"),
    ]


@pytest.mark.parametrize("state_dict, error, match",
                         bad_state_dicts(case_arrays(load_fixture(), "deep_l2_bi_plain")[1]))
def test_bad_state_dicts(state_dict, error, match):
    with pytest.raises(error, match=match):
        DeepGRUParams.from_torch(state_dict)


def _layer(d, h, reset_after=True):
    return init_gru_params(d, h, reset_after=reset_after, rng=0)


@pytest.mark.parametrize("layers, error, match", [
    pytest.param(_layer(4, 6), TypeError, "layers must be a non-empty list", id="not-a-list"),
    pytest.param([], TypeError, "layers must be a non-empty list", id="empty"),
    pytest.param([[_layer(4, 6)] * 3], TypeError, r"layers\[0\] must be a list of 1 or 2",
                 id="three-directions"),
    pytest.param([[_layer(4, 6)] * 2, [_layer(12, 6)]], ValueError,
                 r"layers\[1\] has 1 directions", id="mixed-directions"),
    pytest.param([[_layer(4, 6, reset_after=False)]], ValueError, "reset_after=True",
                 id="reset-before"),
    pytest.param([[_layer(4, 6)], [_layer(4, 6)]], ValueError,
                 r"layers\[1\]\[0\] has input size 4, but must have 6", id="layer-1-input-size"),
    pytest.param([[_layer(4, 6), _layer(4, 5)]], ValueError,
                 r"layers\[0\]\[1\] has hidden size 5", id="hidden-sizes"),
    pytest.param([[_layer(4, 6), "gru"]], TypeError, r"layers\[0\]\[1\] must be GRUParams",
                 id="not-gru-params"),
])
def test_bad_layers(layers, error, match):
    with pytest.raises(error, match=match):
        DeepGRUParams(layers)


@pytest.fixture(scope="module")
def problem(fixture):
    arrays, state_dict = case_arrays(fixture, "deep_l2_bi_masked")
    return arrays, DeepGRUParams.from_torch(state_dict)


def _mask_with_column(column):
    mask = np.ones((5, 3))
    mask[:, 1] = column
    return mask


@pytest.mark.parametrize("change, error, match", [
    pytest.param(dict(params=_layer(4, 6)), TypeError, "params must be DeepGRUParams",
                 id="single-layer-params"),
    pytest.param(dict(xs=[[[0.0] * 4] * 3] * 5), TypeError, "xs must be a NumPy array",
                 id="xs-list"),
    pytest.param(dict(xs=np.zeros((5, 4))), ValueError, "xs must be a 3-D array", id="xs-2d"),
    pytest.param(dict(xs=np.zeros((5, 3, 6))), ValueError, r"xs must have shape \(5, 3, 4\)",
                 id="xs-wrong-size"),
    pytest.param(dict(xs=np.zeros((5, 3, 4), np.float32)), TypeError, "xs has dtype float32",
                 id="xs-float32"),
    pytest.param(dict(xs=np.full((5, 3, 4), np.nan)), ValueError, "xs contains NaN",
                 id="xs-nan"),
    pytest.param(dict(h0=np.zeros((3, 6))), ValueError, r"h0 must have shape \(4, 3, 6\)",
                 id="h0-single-layer-shape"),
    pytest.param(dict(h0=np.zeros((2, 3, 6))), ValueError, r"h0 must have shape \(4, 3, 6\)",
                 id="h0-too-few-states"),
    pytest.param(dict(mask=np.ones((5, 2))), ValueError, "mask must have shape", id="mask-shape"),
    pytest.param(dict(mask=_mask_with_column([1, 2, 0, 0, 0])), ValueError,
                 "mask must hold only 0", id="mask-value-2"),
    pytest.param(dict(mask=_mask_with_column([0, 0, 1, 1, 1])), ValueError,
                 r"right-padded.*mask\[2, 1\] is 1 after a 0", id="mask-left-padded"),
    pytest.param(dict(mask=_mask_with_column([1, 0, 1, 0, 0])), ValueError,
                 r"right-padded.*mask\[2, 1\]", id="mask-gap"),
    pytest.param(dict(mask=_mask_with_column([0, 0, 0, 0, 0])), ValueError,
                 r"at least one real step.*\[1\]", id="mask-empty-sequence"),
    pytest.param(dict(fast=1), TypeError, "fast must be True or False", id="fast-not-bool"),
])
def test_bad_forward_input(problem, change, error, match):
    arrays, params = problem
    call = dict(xs=arrays["x"], h0=arrays["h0"], params=params, mask=arrays["mask"],
                fast=False) | change
    with pytest.raises(error, match=match):
        deep_gru_forward(call["xs"], call["h0"], call["params"], call["mask"], fast=call["fast"])


@pytest.mark.parametrize("change, error, match", [
    pytest.param(dict(cache="single-layer"), TypeError,
                 "deep_gru_backward needs the DeepGRUCache", id="single-layer-cache"),
    pytest.param(dict(cache=None), TypeError, "deep_gru_backward needs the DeepGRUCache",
                 id="no-cache"),
    pytest.param(dict(dout=np.zeros((5, 3, 6))), ValueError, r"dout must have shape \(5, 3, 12\)",
                 id="dout-one-direction"),
    pytest.param(dict(dout=np.zeros((5, 3, 12), np.float32)), TypeError,
                 "dout has dtype float32", id="dout-float32"),
    pytest.param(dict(dh_n=np.zeros((3, 6))), ValueError, r"dh_n must have shape \(4, 3, 6\)",
                 id="dh_n-shape"),
])
def test_bad_backward_input(problem, change, error, match):
    arrays, params = problem
    _, _, cache = deep_gru_forward(arrays["x"], arrays["h0"], params, arrays["mask"])
    assert isinstance(cache, DeepGRUCache)
    call = dict(dout=arrays["dout"], dh_n=arrays["dh_n"], cache=cache) | change
    if isinstance(call["cache"], str):
        call["cache"] = gru_forward(arrays["x"], arrays["h0"][0], params.layers[0][0])[1]
    with pytest.raises(error, match=match):
        deep_gru_backward(call["dout"], call["dh_n"], call["cache"])


# -- the diagram -----------------------------------------------------------------------------


@pytest.mark.parametrize("num_layers, bidirectional", [(2, True), (3, False)])
def test_diagram_names_every_initial_and_final_state(num_layers, bidirectional):
    fig = plot_deep_gru(num_layers, bidirectional)
    texts = [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    states = num_layers * (2 if bidirectional else 1)
    for prefix in ("h0", "h_n", "out"):
        labels = [t for t in texts if re.fullmatch(prefix + r"\[\d+\]", t)]
        expected = range(3) if prefix == "out" else range(states)  # 3 steps are drawn
        assert sorted(labels) == [f"{prefix}[{k}]" for k in expected]


@pytest.mark.parametrize("args, error", [
    pytest.param((0, True), ValueError, id="no-layers"),
    pytest.param((2, "yes"), TypeError, id="bidirectional-not-bool"),
])
def test_diagram_bad_arguments(args, error):
    with pytest.raises(error):
        plot_deep_gru(*args)

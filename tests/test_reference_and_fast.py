"""The GRU's fast path (gru_lib.fast) computes the reference path's function (gru_lib.gru).

Float64: everything the two compute (states, input and state gradients, every parameter
gradient, the gates the book plots) agrees to 1e-12 relative, for both variants, with and
without masks, over random shapes that include the edge cases T = 1, B = 1, D = 1, H = 1.
Float32: agreement to float32 rounding (see ``test_float32_fast_path_equals_reference``).

Also here: the layer registry runs each kind on its own functions, and a cache passed to the
wrong backward pass is refused with a TypeError that says so.
"""

import zlib

import numpy as np
import pytest
from helpers import all_outputs, gru_functions, random_mask, random_problem

from gru_lib import fast, gru, rnn
from gru_lib.head import head_backward, head_forward
from gru_lib.layers import LAYER_KINDS, Layer
from gru_lib.params import GRUGradients, init_gru_params, init_rnn_params


def _shapes():
    """(T, B, D, H): the edge cases first, then random ones from a fixed seed."""
    edges = [(1, 1, 1, 1), (1, 3, 2, 4), (6, 1, 3, 2), (4, 2, 3, 1), (3, 4, 1, 5), (1, 1, 5, 1)]
    rng = np.random.default_rng(2024)
    random = [tuple(int(v) for v in rng.integers(1, (9, 6, 6, 8))) for _ in range(14)]
    return edges + random


SHAPES = [pytest.param(s, id="T{}-B{}-D{}-H{}".format(*s)) for s in _shapes()]
MASKS = [pytest.param(None, id="no-mask"), pytest.param("padded", id="padded"),
         pytest.param("any", id="any-mask")]


def stable_seed(*parts):
    """A seed from the test's parameters, the same in every process (unlike ``hash``)."""
    return zlib.crc32(repr(parts).encode())


def make_mask(kind, t, b, seed):
    """None, padding at the ends (lengths >= 1), or any 0/1 pattern (holes, all-padding rows)."""
    if kind is None:
        return None
    if kind == "padded":
        return random_mask(t, b, seed=seed)
    return np.random.default_rng(seed).integers(0, 2, size=(t, b)).astype(np.float64)


def assert_close_relative(actual, reference, rtol, name):
    """Elementwise ``rtol``, and ``rtol`` relative to the array's largest entry for entries near
    zero: an entry that is a sum of cancelling terms has no relative accuracy of its own."""
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    np.testing.assert_allclose(actual, reference, rtol=rtol, atol=rtol * scale, err_msg=name)


def both_paths(xs, h0, params, dhs, mask):
    out = {}
    for path in ("gru", "gru_fast"):
        forward, backward = gru_functions(path)
        out[path] = all_outputs(forward, backward, xs, h0, params, dhs, mask)
    return out


@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("reset_after", [False, True], ids=["reset_before", "reset_after"])
@pytest.mark.parametrize("shape", SHAPES)
def test_fast_path_equals_reference(shape, reset_after, mask_kind):
    t, b, d, h = shape
    seed = stable_seed(shape, reset_after, mask_kind)
    params, xs, h0 = random_problem(t, b, d, h, reset_after=reset_after, seed=seed, scale=1.0)
    mask = make_mask(mask_kind, t, b, seed)
    dhs = np.random.default_rng(seed + 1).standard_normal((t, b, h))
    results = both_paths(xs, h0, params, dhs, mask)
    (ref, ref_grads), (got, got_grads) = results["gru"], results["gru_fast"]
    assert type(ref_grads) is type(got_grads) is GRUGradients
    assert got_grads.reset_after == ref_grads.reset_after == reset_after
    assert list(got) == list(ref)  # the same gradients, b_hn exactly when reset_after
    for name, value in ref.items():
        assert got[name].shape == value.shape and got[name].dtype == value.dtype == np.float64
        assert_close_relative(got[name], value, 1e-12, name)
    # The gates the book plots, from either cache.
    _, ref_cache = gru.gru_forward(xs, h0, params, mask)
    _, fast_cache = fast.gru_forward(xs, h0, params, mask)
    for name in ("z", "r", "h_tilde", "hs"):
        assert_close_relative(getattr(fast_cache, name), getattr(ref_cache, name), 1e-12, name)


def test_shapes_include_the_edge_cases():
    shapes = _shapes()
    assert len(shapes) == 20
    for axis in range(4):
        assert any(s[axis] == 1 for s in shapes)
    assert (1, 1, 1, 1) in shapes


@pytest.mark.parametrize("reset_after", [False, True], ids=["reset_before", "reset_after"])
@pytest.mark.parametrize("shape", SHAPES)
def test_float32_fast_path_equals_reference(shape, reset_after):
    """Float32 results agree to float32 rounding: rtol = atol = 1e-5.

    Why not 1e-12: float32's unit roundoff is 6e-8, and the two paths round differently on
    purpose (the fast path sums the weight gradients of all T*B rows in one product and fuses
    the gate products; the reference sums T per-step products), so every entry carries a
    different rounding error. A sum of n terms is exact to about n * eps * sum(|terms|); with
    n <= T*B = 40 terms of order 1 here (inputs and upstream gradients of order 1) that is
    about 3e-6 in absolute terms, which ``atol=1e-5`` covers with margin (the largest
    difference seen over hundreds of random problems was 2e-6), while any mistake in a formula
    gives differences of order 1e-2 or more. ``rtol`` covers the larger entries the same way.
    """
    t, b, d, h = shape
    seed = stable_seed(shape, reset_after, "float32")
    params, xs, h0 = random_problem(t, b, d, h, reset_after=reset_after, seed=seed,
                                    dtype=np.float32)
    mask = random_mask(t, b, seed=seed)
    dhs = np.random.default_rng(seed + 1).standard_normal((t, b, h)).astype(np.float32)
    results = both_paths(xs, h0, params, dhs, mask)
    (ref, _), (got, _) = results["gru"], results["gru_fast"]
    for name, value in ref.items():
        assert got[name].dtype == value.dtype == np.float32, name
        np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("reset_after", [False, True], ids=["reset_before", "reset_after"])
def test_non_contiguous_inputs_give_the_same_results(reset_after):
    """Views (a time-reversed xs, a transposed h0, weights in Fortran order) change nothing."""
    params, xs, h0 = random_problem(5, 3, 4, 6, reset_after=reset_after, seed=7)
    dhs = np.random.default_rng(8).standard_normal((5, 3, 6))
    xs_view = np.ascontiguousarray(xs[::-1])[::-1]
    h0_view = np.ascontiguousarray(h0.T).T
    fortran = type(params)(**{n: np.asfortranarray(a) for n, a in params.arrays().items()},
                           reset_after=reset_after)
    assert not xs_view.flags.c_contiguous and not h0_view.flags.c_contiguous
    contiguous = both_paths(xs, h0, params, dhs, None)
    views = both_paths(xs_view, h0_view, fortran, dhs[::-1].copy()[::-1], None)
    for path in ("gru", "gru_fast"):
        for name, value in contiguous[path][0].items():
            assert_close_relative(views[path][0][name], value, 1e-12, f"{path} {name}")


# -- the layer registry ------------------------------------------------------------------------


def test_layer_kinds_run_their_own_functions():
    assert set(LAYER_KINDS) == {"gru", "gru_fast", "rnn"}
    assert LAYER_KINDS["gru"].forward is gru.gru_forward
    assert LAYER_KINDS["gru"].backward is gru.gru_backward
    assert LAYER_KINDS["gru_fast"].forward is fast.gru_forward
    assert LAYER_KINDS["gru_fast"].backward is fast.gru_backward
    assert LAYER_KINDS["rnn"].forward is rnn.rnn_forward
    assert LAYER_KINDS["rnn"].backward is rnn.rnn_backward
    # The two GRU paths have the same parameters, so the same names in a model.
    assert LAYER_KINDS["gru"].prefix == LAYER_KINDS["gru_fast"].prefix


@pytest.mark.parametrize("kind, cache_type", [
    pytest.param("gru", gru.GRUSequenceCache, id="gru"),
    pytest.param("gru_fast", fast.FastSequenceCache, id="gru_fast"),
    pytest.param("rnn", rnn.RNNSequenceCache, id="rnn"),
])
def test_layer_create_and_of(kind, cache_type):
    layer = Layer.create(kind, 3, 4, rng=5, dtype=np.float32)
    assert layer.kind is LAYER_KINDS[kind]
    assert (layer.input_size, layer.hidden_size, layer.dtype) == (3, 4, np.float32)
    xs = np.random.default_rng(6).standard_normal((2, 5, 3)).astype(np.float32)
    hs, cache = layer.forward(xs, np.zeros((5, 4), np.float32))
    assert isinstance(cache, cache_type) and hs.shape == (2, 5, 4)
    dxs, dh0, grads = layer.backward(np.ones_like(hs), cache)
    assert dxs.shape == xs.shape and dh0.shape == (5, 4)
    assert type(grads).__name__ == ("RNNParams" if kind == "rnn" else "GRUGradients")
    same = Layer.of(layer.params, fast_path=kind == "gru_fast")
    assert same.kind is layer.kind and same.params is layer.params
    # The same seed gives the same parameters whatever the path.
    if kind != "rnn":
        other = Layer.create("gru" if kind == "gru_fast" else "gru_fast", 3, 4, rng=5,
                             dtype=np.float32)
        for name, value in layer.params.arrays().items():
            np.testing.assert_array_equal(other.params.arrays()[name], value)


def test_layer_refuses_mismatched_parameters_and_kinds():
    with pytest.raises(TypeError, match="a 'rnn' layer needs RNNParams, got GRUParams"):
        Layer(LAYER_KINDS["rnn"], init_gru_params(2, 3))
    with pytest.raises(TypeError, match="needs GRUParams, got RNNParams"):
        Layer(LAYER_KINDS["gru_fast"], init_rnn_params(2, 3))
    with pytest.raises(TypeError, match="kind must be a LayerKind"):
        Layer("gru", init_gru_params(2, 3))
    with pytest.raises(ValueError, match="kind must be one of"):
        Layer.create("lstm", 2, 3)
    with pytest.raises(TypeError, match="params must be GRUParams or RNNParams"):
        Layer.of(init_gru_params(2, 3).arrays())


# -- a cache belongs to its own backward pass ---------------------------------------------------


def _caches():
    params, xs, h0 = random_problem(3, 2, 2, 4, seed=1)
    rnn_params, _, _ = random_problem(3, 2, 2, 4, init=init_rnn_params, seed=1)
    hs, ref = gru.gru_forward(xs, h0, params)
    return {
        "gru_step": gru.gru_step_forward(xs[0], h0, params)[1],
        "gru": ref,
        "gru_fast": fast.gru_forward(xs, h0, params)[1],
        "rnn_step": rnn.rnn_step_forward(xs[0], h0, rnn_params)[1],
        "rnn": rnn.rnn_forward(xs, h0, rnn_params)[1],
        "head": head_forward(hs, np.ones(4), np.zeros(1))[1],
    }


# (backward, its name in the message, the cache type it needs, its upstream gradient's shape)
BACKWARDS = {
    "gru_step_backward": (gru.gru_step_backward, "GRUStepCache", (2, 4)),
    "gru_backward": (gru.gru_backward, "GRUSequenceCache", (3, 2, 4)),
    "fast.gru_backward": (fast.gru_backward, "FastSequenceCache", (3, 2, 4)),
    "rnn_step_backward": (rnn.rnn_step_backward, "RNNStepCache", (2, 4)),
    "rnn_backward": (rnn.rnn_backward, "RNNSequenceCache", (3, 2, 4)),
    "head_backward": (lambda dy, cache: head_backward(dy[:, 0], cache), "HeadCache", (2, 1)),
}
OWN_CACHE = {"gru_step_backward": "gru_step", "gru_backward": "gru",
             "fast.gru_backward": "gru_fast", "rnn_step_backward": "rnn_step",
             "rnn_backward": "rnn", "head_backward": "head"}
WRONG_CACHES = [pytest.param(backward, cache, id=f"{cache}-cache-to-{backward}")
                for backward in BACKWARDS for cache in OWN_CACHE.values()
                if cache != OWN_CACHE[backward]]


@pytest.mark.parametrize("backward, cache", WRONG_CACHES)
def test_a_cache_passed_to_the_wrong_backward_is_refused(backward, cache):
    function, needed, shape = BACKWARDS[backward]
    caches = _caches()
    wrong = caches[cache]
    with pytest.raises(TypeError, match=rf"{backward} needs the {needed} of its own forward "
                                        rf"pass, got {type(wrong).__name__}"):
        function(np.ones(shape), wrong)


@pytest.mark.parametrize("backward", list(BACKWARDS))
def test_each_backward_takes_its_own_cache(backward):
    function, _, shape = BACKWARDS[backward]
    function(np.ones(shape), _caches()[OWN_CACHE[backward]])


@pytest.mark.parametrize("kind, cache", [
    pytest.param("gru", "gru_fast", id="fast-cache-to-reference-layer"),
    pytest.param("gru_fast", "gru", id="reference-cache-to-fast-layer"),
    pytest.param("rnn", "gru", id="gru-cache-to-rnn-layer"),
    pytest.param("gru", "rnn", id="rnn-cache-to-gru-layer"),
    pytest.param("gru", "head", id="head-cache-to-gru-layer"),
    pytest.param("gru_fast", "head", id="head-cache-to-fast-layer"),
    pytest.param("rnn", "head", id="head-cache-to-rnn-layer"),
    pytest.param("gru", "gru_step", id="step-cache-to-gru-layer"),
])
def test_a_layer_refuses_another_layers_cache(kind, cache):
    layer = Layer.create(kind, 2, 4)
    wrong = _caches()[cache]
    with pytest.raises(TypeError, match=f"needs the .* of its own forward pass, got "
                                        f"{type(wrong).__name__}"):
        layer.backward(np.ones((3, 2, 4)), wrong)

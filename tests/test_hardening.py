"""Optimisers, clipping and the logistic loss refuse bad input and never give a silent NaN.

The other modules' bad-input tests are in test_hardening_gradcheck.py and
test_hardening_data_plots.py; saving and loading in test_storage.py.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gru_lib.activations import binary_cross_entropy_with_logits
from gru_lib.optim import SGD, Adam, clip_by_global_norm, global_norm

OPTIMISERS = [pytest.param(lambda: SGD(lr=0.1), id="sgd"),
              pytest.param(lambda: SGD(lr=0.1, momentum=0.9), id="momentum"),
              pytest.param(lambda: Adam(lr=0.1), id="adam")]


@pytest.mark.parametrize("make, error, message", [
    pytest.param(lambda: SGD(lr=0), ValueError, "lr must be > 0", id="sgd-lr-0"),
    pytest.param(lambda: SGD(lr=-1), ValueError, "lr must be > 0", id="sgd-lr-negative"),
    pytest.param(lambda: SGD(lr=np.inf), ValueError, "lr must be finite", id="sgd-lr-inf"),
    pytest.param(lambda: SGD(lr=np.nan), ValueError, "lr must be finite", id="sgd-lr-nan"),
    pytest.param(lambda: SGD(lr=True), TypeError, "lr must be a real", id="sgd-lr-bool"),
    pytest.param(lambda: SGD(lr="0.1"), TypeError, "lr must be a real", id="sgd-lr-str"),
    pytest.param(lambda: SGD(momentum=1), ValueError, "momentum must be < 1", id="momentum-1"),
    pytest.param(lambda: SGD(momentum=-0.1), ValueError, "momentum must be >= 0",
                 id="momentum-negative"),
    pytest.param(lambda: SGD(momentum=False), TypeError, "momentum", id="momentum-bool"),
    pytest.param(lambda: Adam(lr=np.inf), ValueError, "lr must be finite", id="adam-lr-inf"),
    pytest.param(lambda: Adam(lr=None), TypeError, "lr", id="adam-lr-none"),
    pytest.param(lambda: Adam(beta1=1.0), ValueError, "beta1 must be < 1", id="beta1-1"),
    pytest.param(lambda: Adam(beta2=-0.5), ValueError, "beta2 must be >= 0", id="beta2-negative"),
    pytest.param(lambda: Adam(beta2="0.9"), TypeError, "beta2", id="beta2-str"),
    pytest.param(lambda: Adam(eps=0), ValueError, "eps must be > 0", id="eps-0"),
    pytest.param(lambda: Adam(eps=-1), ValueError, "eps must be > 0", id="eps-negative"),
    pytest.param(lambda: Adam(eps=np.inf), ValueError, "eps must be finite", id="eps-inf"),
    pytest.param(lambda: Adam(eps=True), TypeError, "eps", id="eps-bool"),
])
def test_bad_hyper_parameters(make, error, message):
    with pytest.raises(error, match=message):
        make()


DROP = object()  # a change that removes the gradient


def params3():
    return {"w": np.array([1.0, -2.0, 3.0]), "b": np.array([0.5])}


BAD_STEPS = [
    pytest.param({"w": np.array([1.0, np.nan, 0.0])}, ValueError, r"grads\['w'\].*NaN", id="nan"),
    pytest.param({"w": np.array([np.inf, 0.0, 0.0])}, ValueError, r"grads\['w'\].*NaN", id="inf"),
    pytest.param({"w": np.array([1.0])}, ValueError, r"grads\['w'\] has shape \(1,\)",
                 id="broadcastable-shape"),
    pytest.param({"w": np.ones((3, 1))}, ValueError, "shape", id="wrong-shape"),
    pytest.param({"w": np.ones(3, np.float32)}, TypeError, "dtype float32", id="float32"),
    pytest.param({"w": np.ones(3, np.int64)}, TypeError, "dtype int64", id="int"),
    pytest.param({"w": [1.0, 1.0, 1.0]}, TypeError, "NumPy array", id="list"),
    pytest.param({"w": None}, TypeError, "NumPy array", id="none"),
    pytest.param({"w": DROP}, ValueError, r"missing \['w'\]", id="missing"),
    pytest.param({"w": np.ones(3), "x": np.ones(1)}, ValueError, r"unexpected \['x'\]",
                 id="extra"),
]


@pytest.mark.parametrize("make", OPTIMISERS)
@pytest.mark.parametrize("change, error, message", BAD_STEPS)
def test_a_bad_gradient_is_refused_and_nothing_changes(make, change, error, message):
    opt, params = make(), params3()
    opt.step(params, {"w": np.ones(3), "b": np.ones(1)})  # so that there is state to keep
    before = {k: v.copy() for k, v in params.items()}
    state = {k: {n: a.copy() for n, a in v.items()} for k, v in vars(opt).items()
             if isinstance(v, dict)}
    grads = {"w": np.ones(3), "b": np.ones(1)}
    grads.update(change)
    grads = {name: g for name, g in grads.items() if g is not DROP}
    with pytest.raises(error, match=message):
        opt.step(params, grads)
    for name in before:
        np.testing.assert_array_equal(params[name], before[name])
    for key, buffers in state.items():
        assert {n: a.tolist() for n, a in getattr(opt, key).items()} == \
            {n: a.tolist() for n, a in buffers.items()}
    assert getattr(opt, "t", 1) == 1


def bad_params():
    shared = np.zeros(4)
    read_only = np.zeros(3)
    read_only.flags.writeable = False
    return [
        pytest.param([np.zeros(3)], None, TypeError, "params must be a dict", id="params-list"),
        pytest.param({}, {}, ValueError, "no parameters", id="no-params"),
        pytest.param({"w": np.zeros(3)}, [np.zeros(3)], TypeError, "grads must be a dict",
                     id="grads-list"),
        pytest.param({"w": np.zeros(3, np.int64)}, {"w": np.zeros(3, np.int64)}, TypeError,
                     "floating-point", id="int-params"),
        pytest.param({"w": read_only}, {"w": np.zeros(3)}, ValueError, "read-only",
                     id="read-only"),
        pytest.param({"w": np.array([np.nan])}, {"w": np.zeros(1)}, ValueError,
                     r"params\['w'\] contains NaN", id="nan-param"),
        pytest.param({"a": shared, "b": shared[1:]}, {"a": np.ones(4), "b": np.ones(3)},
                     ValueError, "share memory", id="aliased"),
    ]


@pytest.mark.parametrize("make", OPTIMISERS)
@pytest.mark.parametrize("params, grads, error, message", bad_params())
def test_bad_parameters_are_refused(make, params, grads, error, message):
    with pytest.raises(error, match=message):
        make().step(params, grads)


@pytest.mark.parametrize("make", OPTIMISERS[1:])
def test_an_optimiser_reused_for_another_model_is_refused(make):
    opt = make()
    opt.step({"w": np.zeros(3)}, {"w": np.ones(3)})
    with pytest.raises(ValueError, match="new optimiser"):
        opt.step({"w": np.zeros(4)}, {"w": np.ones(4)})


@pytest.mark.parametrize("opt, params, grads", [
    pytest.param(SGD(lr=1.0), {"w": np.array([-1.7e308])}, {"w": np.array([1.7e308])}, id="sgd"),
    pytest.param(SGD(lr=0.5, momentum=0.5), {"w": np.array([-1.7e308])},
                 {"w": np.array([1.7e308])}, id="momentum"),
    pytest.param(Adam(), {"w": np.array([0.0, 1.0])}, {"w": np.array([1e200, 1.0])},
                 id="adam-second-moment"),
])
def test_an_overflowing_step_is_refused_and_changes_nothing(opt, params, grads):
    before = params["w"].copy()
    with pytest.raises(ValueError, match="overflowed"):
        opt.step(params, grads)
    np.testing.assert_array_equal(params["w"], before)
    assert getattr(opt, "t", 0) == 0 and not getattr(opt, "velocity", getattr(opt, "m", {}))


def test_steps_are_the_plain_in_place_formulas_bit_for_bit():
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        p0 = rng.standard_normal(5).astype(dtype)
        sgd, mom, adam = {"w": p0.copy()}, {"w": p0.copy()}, {"w": p0.copy()}
        ref_sgd, ref_mom, ref_adam = p0.copy(), p0.copy(), p0.copy()
        vel, m, v = np.zeros_like(p0), np.zeros_like(p0), np.zeros_like(p0)
        opts = SGD(lr=0.3), SGD(lr=0.3, momentum=0.9), Adam(lr=0.02)
        for t in range(1, 6):
            g = rng.standard_normal(5).astype(dtype)
            for opt, params in zip(opts, (sgd, mom, adam), strict=True):
                opt.step(params, {"w": g})
            ref_sgd -= 0.3 * g
            vel *= 0.9
            vel -= 0.3 * g
            ref_mom += vel
            m *= 0.9
            m += (1 - 0.9) * g
            v *= 0.999
            v += (1 - 0.999) * g * g
            ref_adam -= 0.02 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        for got, ref in ((sgd, ref_sgd), (mom, ref_mom), (adam, ref_adam)):
            assert got["w"].dtype == dtype and np.array_equal(got["w"], ref)


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=50, deadline=None)
@given(st.data(), st.sampled_from(["sgd", "momentum", "adam"]))
def test_steps_with_finite_inputs_stay_finite_or_are_refused(data, kind):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), label="shape")
    params = {"w": data.draw(hnp.arrays(np.float64, shape, elements=finite), label="p")}
    lr = data.draw(st.floats(1e-4, 1.0), label="lr")
    opt = {"sgd": lambda: SGD(lr=lr), "adam": lambda: Adam(lr=lr),
           "momentum": lambda: SGD(lr=lr, momentum=data.draw(st.floats(0, 0.99)))}[kind]()
    for _ in range(2):
        grads = {"w": data.draw(hnp.arrays(np.float64, shape, elements=finite), label="g")}
        before = params["w"].copy()
        try:
            opt.step(params, grads)
        except ValueError as err:
            assert "overflowed" in str(err)
            np.testing.assert_array_equal(params["w"], before)
        assert np.all(np.isfinite(params["w"]))


# -- clipping --------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e-150, 1.0, 1e150, 1e200, 1e300],
                         ids=lambda s: f"{s:.0e}")
def test_clipping_is_correct_for_gradients_of_any_finite_size(scale):
    unit = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}  # norm 5
    grads = {k: v * scale for k, v in unit.items()}
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(5 * scale, rel=1e-12)
    if 5 * scale > 1:
        np.testing.assert_allclose(clipped["a"], [0.6, 0.0], rtol=1e-12)
        np.testing.assert_allclose(clipped["b"], [[0.8]], rtol=1e-12)
    else:
        assert all(np.array_equal(clipped[k], grads[k]) for k in grads)


def test_a_norm_beyond_float64_is_inf_yet_clipping_works():
    grads = {"a": np.full(4, 1.5e308)}
    assert global_norm(grads) == np.inf
    clipped, norm = clip_by_global_norm(grads, 2.0)
    assert norm == np.inf
    np.testing.assert_allclose(clipped["a"], np.full(4, 1.0), rtol=1e-12)


@pytest.mark.parametrize("grads, error, message", [
    pytest.param({"big": np.array([np.nan])}, ValueError, r"grads\['big'\] contains NaN",
                 id="nan"),
    pytest.param({"ok": np.ones(2), "inf": np.array([-np.inf])}, ValueError,
                 r"grads\['inf'\]", id="inf"),
    pytest.param({"a": [1.0]}, TypeError, "NumPy array", id="list"),
    pytest.param({"a": np.array(["1"])}, TypeError, "floating-point", id="str-array"),
    pytest.param([np.ones(2)], TypeError, "dict", id="not-a-dict"),
])
@pytest.mark.parametrize("function", [global_norm, lambda g: clip_by_global_norm(g, 1.0)],
                         ids=["global_norm", "clip"])
def test_bad_gradients_for_the_norm(function, grads, error, message):
    with pytest.raises(error, match=message):
        function(grads)


@pytest.mark.parametrize("max_norm, error", [(0, ValueError), (-1.0, ValueError),
                                             (np.inf, ValueError), (np.nan, ValueError),
                                             (True, TypeError), ("5", TypeError)],
                         ids=["zero", "negative", "inf", "nan", "bool", "str"])
def test_bad_max_norm(max_norm, error):
    with pytest.raises(error, match="max_norm"):
        clip_by_global_norm({"a": np.ones(2)}, max_norm)


# -- the logistic loss -----------------------------------------------------------------------


@pytest.mark.parametrize("logits, targets, error, message", [
    pytest.param([0.0, 1.0], [1.0, 2.0], ValueError, r"targets\[1\] = 2.0", id="target-2"),
    pytest.param([0.0, 1.0], [-1.0, 1.0], ValueError, r"targets\[0\] = -1.0", id="target-minus-1"),
    pytest.param([0.0, 1.0], [np.nan, 1.0], ValueError, "nan", id="target-nan"),
    pytest.param([0.0, 1.0], [0, 2], ValueError, "in \\[0, 1\\]", id="int-target-2"),
    pytest.param([0.0, 1.0], ["0", "1"], TypeError, "targets must be numbers", id="str-targets"),
    pytest.param([0.0, np.nan], [0.0, 1.0], ValueError, "logits contains NaN", id="logit-nan"),
    pytest.param([0.0, np.inf], [0.0, 1.0], ValueError, "logits contains NaN", id="logit-inf"),
    pytest.param([0, 1], [0.5, 1.0], TypeError, "floating-point", id="int-logits"),
    pytest.param([True, False], [0.0, 1.0], TypeError, "floating-point", id="bool-logits"),
    pytest.param(np.array([1j, 0]), [0.0, 1.0], TypeError, "floating-point", id="complex"),
    pytest.param([[0.0]], [[1.0]], ValueError, "shape", id="2-d"),
])
def test_bce_refuses_bad_logits_and_targets(logits, targets, error, message):
    with pytest.raises(error, match=message):
        binary_cross_entropy_with_logits(np.asarray(logits), targets)


def test_bce_bool_targets_are_the_same_as_0_1():
    logits = np.array([2.0, -1.0, 0.5])
    by_bool = binary_cross_entropy_with_logits(logits, np.array([True, False, False]))
    by_float = binary_cross_entropy_with_logits(logits, np.array([1.0, 0.0, 0.0]))
    assert by_bool[0] == by_float[0] and np.array_equal(by_bool[1], by_float[1])


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dtype: st.tuples(hnp.arrays(dtype, st.integers(1, 6), elements=st.floats(
        allow_nan=False, allow_infinity=False, width=np.finfo(dtype).bits)),
        st.lists(st.floats(0, 1) | st.booleans(), min_size=6, max_size=6))))
def test_bce_is_finite_for_finite_logits_of_any_magnitude(case):
    logits, targets = case
    loss, grad = binary_cross_entropy_with_logits(logits, np.array(targets[:logits.size],
                                                                   dtype=float))
    assert np.isfinite(loss) and loss >= 0
    assert grad.dtype == logits.dtype and np.all(np.isfinite(grad))
    assert np.all(np.abs(grad) <= 1.0 / logits.size * (1 + 1e-6))

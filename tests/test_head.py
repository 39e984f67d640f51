"""The linear read-out of the last hidden state: values, gradients, its cache, bad input."""

import numpy as np
import pytest

from gru_lib.gradcheck import check_layer_gradients
from gru_lib.head import HeadCache, head_backward, head_forward


class HeadParams:
    """The head's two arrays, in the form the layer checker takes parameters."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def arrays(self):
        return {"w": self.w, "b": self.b}


def test_reads_only_the_last_state():
    rng = np.random.default_rng(0)
    hs, w, b = rng.standard_normal((4, 3, 5)), rng.standard_normal(5), np.array([0.5])
    y, cache = head_forward(hs, w, b)
    assert isinstance(cache, HeadCache)
    np.testing.assert_array_equal(cache.h_last, hs[-1])
    np.testing.assert_array_equal(cache.w, w)
    assert cache.num_steps == 4
    np.testing.assert_allclose(y, hs[-1] @ w + 0.5, rtol=1e-15)
    dhs, _, _ = head_backward(np.ones(3), cache)
    assert dhs.shape == hs.shape and np.all(dhs[:-1] == 0)
    np.testing.assert_allclose(dhs[-1], np.outer(np.ones(3), w), rtol=1e-15)


def test_gradients():
    rng = np.random.default_rng(1)
    hs = rng.standard_normal((4, 3, 5))
    params = HeadParams(rng.standard_normal(5), rng.standard_normal(1))

    def backward(dy, cache):
        dhs, dw, db = head_backward(dy, cache)
        return dhs, {"w": dw, "b": db}

    report = check_layer_gradients(lambda h, p: head_forward(h, p.w, p.b), backward, {"hs": hs},
                                   params, rng=2)
    assert report.passed, str(report)


def test_float32_stays_float32():
    rng = np.random.default_rng(3)
    hs = rng.standard_normal((2, 3, 4)).astype(np.float32)
    w, b = rng.standard_normal(4).astype(np.float32), np.zeros(1, np.float32)
    y, cache = head_forward(hs, w, b)
    dhs, dw, db = head_backward(np.ones(3, np.float32), cache)
    assert y.dtype == dhs.dtype == dw.dtype == db.dtype == np.float32


def _head_inputs():
    rng = np.random.default_rng(4)
    return rng.standard_normal((4, 3, 5)), rng.standard_normal(5), np.array([0.5])


@pytest.mark.parametrize("change, error, message", [
    pytest.param(lambda hs, w, b: (hs[-1], w, b), ValueError, r"hs must be a 3-D array",
                 id="hs-2d"),
    pytest.param(lambda hs, w, b: (hs.tolist(), w, b), TypeError, "hs must be a NumPy array",
                 id="hs-list"),
    pytest.param(lambda hs, w, b: (hs, w[:4], b), ValueError, r"w must have shape \(5,\)",
                 id="w-shape"),
    pytest.param(lambda hs, w, b: (hs, w.astype(np.float32), b), TypeError, "w has dtype float32",
                 id="w-dtype"),
    pytest.param(lambda hs, w, b: (hs, w, np.zeros(2)), ValueError, r"b must have shape \(1,\)",
                 id="b-shape"),
    pytest.param(lambda hs, w, b: (hs, np.full(5, np.nan), b), ValueError, "w contains NaN",
                 id="w-nan"),
])
def test_bad_forward_arguments(change, error, message):
    with pytest.raises(error, match=message):
        head_forward(*change(*_head_inputs()))


@pytest.mark.parametrize("dy, error, message", [
    pytest.param(np.ones(4), ValueError, r"dy must have shape \(3,\)", id="dy-shape"),
    pytest.param(np.ones(3, np.float32), TypeError, "dy has dtype float32", id="dy-dtype"),
    pytest.param(np.full(3, np.inf), ValueError, "dy contains NaN or infinity", id="dy-inf"),
])
def test_bad_backward_arguments(dy, error, message):
    _, cache = head_forward(*_head_inputs())
    with pytest.raises(error, match=message):
        head_backward(dy, cache)

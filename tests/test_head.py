"""The linear read-out of the last hidden state: values and gradients."""

import numpy as np

from gru_lib.gradcheck import check_layer_gradients
from gru_lib.head import head_backward, head_forward


class HeadParams:
    """The head's two arrays, in the form the layer checker takes parameters."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def arrays(self):
        return {"w": self.w, "b": self.b}


def test_reads_only_the_last_state():
    rng = np.random.default_rng(0)
    hs, w, b = rng.standard_normal((4, 3, 5)), rng.standard_normal(5), np.array([0.5])
    y, h_last = head_forward(hs, w, b)
    np.testing.assert_array_equal(h_last, hs[-1])
    np.testing.assert_allclose(y, hs[-1] @ w + 0.5, rtol=1e-15)
    dhs, _, _ = head_backward(np.ones(3), h_last, w, 4)
    assert dhs.shape == hs.shape and np.all(dhs[:-1] == 0)


def test_gradients():
    rng = np.random.default_rng(1)
    hs = rng.standard_normal((4, 3, 5))
    params = HeadParams(rng.standard_normal(5), rng.standard_normal(1))

    def backward(dy, h_last):
        dhs, dw, db = head_backward(dy, h_last, params.w, len(hs))
        return dhs, {"w": dw, "b": db}

    report = check_layer_gradients(lambda h, p: head_forward(h, p.w, p.b), backward, {"hs": hs},
                                   params, rng=2)
    assert report.passed, str(report)

"""Any finite parameters and inputs, of any magnitude: finite results or a clear error, no NaN.

Sigmoid and tanh saturate, so a GRU stays finite far beyond where a product would overflow; where
a result does overflow, ``checks.finite_outputs`` turns it into a ValueError. NumPy's overflow
warnings are errors here: none may escape.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gru_lib import fast, gru, rnn
from gru_lib.params import init_gru_params, init_rnn_params

PATHS = {"gru": (gru.gru_forward, gru.gru_backward), "gru_fast": (fast.gru_forward,
                                                                   fast.gru_backward),
         "rnn": (rnn.rnn_forward, rnn.rnn_backward)}


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), weight_exp=st.integers(-300, 306),
       input_exp=st.integers(-300, 300), reset_after=st.booleans())
def test_any_magnitude_gives_finite_results_or_a_clear_error(path, seed, weight_exp,
                                                             input_exp, reset_after):
    rng = np.random.default_rng(seed)
    if path == "rnn":
        params = init_rnn_params(3, 4, rng=rng)
    else:
        params = init_gru_params(3, 4, reset_after=reset_after, rng=rng)
    for array in params.arrays().values():
        array[...] = rng.standard_normal(array.shape) * 10.0 ** weight_exp
    xs = rng.standard_normal((3, 2, 3)) * 10.0 ** input_exp
    dhs = rng.standard_normal((3, 2, 4))
    forward, backward = PATHS[path]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            hs, cache = forward(xs, np.zeros((2, 4)), params)
            dxs, dh0, grads = backward(dhs, cache)
        except ValueError as err:
            assert "overflowed" in str(err)
            return
    for value in (hs, dxs, dh0, *grads.arrays().values()):
        assert np.all(np.isfinite(value))

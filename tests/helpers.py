"""Small builders shared by the tests."""

import numpy as np

from gru_lib.gru import init_gru_params


def random_problem(t, b, d, h, *, reset_after, seed=0, dtype=np.float64, scale=0.5):
    """Parameters with non-zero biases (so every path matters), inputs and an initial state."""
    rng = np.random.default_rng(seed)
    params = init_gru_params(d, h, reset_after=reset_after, rng=rng, dtype=dtype)
    for value in params.arrays().values():
        value[...] = rng.uniform(-scale, scale, value.shape)
    xs = rng.standard_normal((t, b, d)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((b, h))).astype(dtype)
    return params, xs, h0


def random_mask(t, b, seed=0):
    """A (T, B) mask of real steps followed by padding, every sequence at least one step long."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, t + 1, size=b)
    return (np.arange(t)[:, None] < lengths[None, :]).astype(np.float64)

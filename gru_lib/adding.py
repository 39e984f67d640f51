"""The adding problem: a regression task whose answer depends on two far-apart time steps.

Each sequence has ``T`` steps of two features: a number drawn uniformly from [0, 1], and a
marker that is 1 at exactly two steps (one in the first half, one in the second half) and 0
elsewhere. The target is the sum of the two marked numbers (Hochreiter and Schmidhuber 1997;
the version with one marker in each half is the one of Le et al. 2015).

The model is the library's one model, a ``LastStateModel``: a recurrent layer (a GRU or the
plain RNN) and a linear head on the last hidden state, ``prediction = h_{T-1} @ head_w +
head_b``, trained by ``fit`` on the mean squared error. This module only makes the data and
wires the pieces together.
"""

import numpy as np

from gru_lib.checks import check_float_dtype, check_int, check_positive_int, check_seed
from gru_lib.layers import Layer
from gru_lib.models import LastStateModel, mse_loss
from gru_lib.optim import Adam
from gru_lib.train import fit

# --------------------------------------------------------------------------------------------
# Data


def make_adding_problem(n, seq_len, *, rng, dtype=np.float64):
    """``n`` random sequences of the adding problem.

    Args:
        n: number of sequences N (>= 1).
        seq_len: number of steps T (>= 2). The first marker is at a step drawn uniformly from
            ``[0, T // 2)``, the second from ``[T // 2, T)``.
        rng: a ``numpy.random.Generator`` or an int seed.
        dtype: float64 (default) or float32.

    Returns:
        ``(xs, targets)``: inputs (T, N, 2), time-major, with ``xs[..., 0]`` the numbers and
        ``xs[..., 1]`` the markers; targets (N,), the sum of the two marked numbers.
    """
    n = check_positive_int("n", n)
    seq_len = check_int("seq_len", seq_len, minimum=2)
    dtype = check_float_dtype(dtype)
    rng = np.random.default_rng(check_seed("rng", rng))
    values = rng.uniform(0.0, 1.0, size=(seq_len, n))
    half = seq_len // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    seqs = np.arange(n)
    markers = np.zeros((seq_len, n))
    markers[first, seqs] = 1.0
    markers[second, seqs] = 1.0
    xs = np.stack([values, markers], axis=2).astype(dtype)
    targets = (values[first, seqs] + values[second, seqs]).astype(dtype)
    return xs, targets


# --------------------------------------------------------------------------------------------
# The regression model and its training


def init_adding_model(cell, hidden_size, *, rng=None, dtype=np.float64, **layer_options):
    """A fresh ``LastStateModel`` for the adding problem: the layer's own initialisation
    (input size 2), a head that starts at zero, the squared-error loss.

    Args:
        cell: a layer kind, ``"gru"``, ``"gru_fast"`` or ``"rnn"``. hidden_size: H.
        rng: a ``numpy.random.Generator`` or an int seed; None means seed 0.
        dtype: float64 (default) or float32.
        layer_options: for the layer's initialiser (``update_bias``, ``recurrent_init``, ...).
    """
    layer = Layer.create(cell, 2, hidden_size, rng=rng, dtype=dtype, **layer_options)
    zeros = np.zeros(hidden_size, layer.dtype)
    return LastStateModel(layer, zeros, zeros[:1].copy(), loss="mse")


def input_gradients(model, xs):
    """How each prediction depends on its own inputs: d prediction_n / d xs[t, n, :], (T, N, 2).

    Column 0 is the change of the prediction per unit change of the number at step t. For the
    exact answer (the sum of the two marked numbers) it is 1 at the two marked steps and 0
    elsewhere; a model that cannot carry a number to the end has almost 0 at its step.
    """
    predictions, cache = model.forward(xs)
    dxs, _ = model.backward_with_inputs(np.ones_like(predictions), cache)
    return dxs


def evaluate_mse(model, xs, targets):
    """The mean squared error of ``model`` on ``xs`` (T, N, 2) with ``targets`` (N,)."""
    return mse_loss(model.outputs(xs), targets)[0]


def baseline_mse(targets, constant=1.0):
    """The MSE of always predicting ``constant`` (1.0, the mean target: expect about 1/6)."""
    targets = np.asarray(targets, dtype=np.float64)
    return float(np.mean((targets - constant) ** 2))


def adding_batches(updates, batch_size, seq_len, *, rng, dtype=np.float64):
    """``updates`` fresh random batches ``(xs (T, N, 2), targets (N,))`` of the adding problem."""
    for _ in range(updates):
        yield make_adding_problem(batch_size, seq_len, rng=rng, dtype=dtype)


def train_adding(cell, seq_len, *, hidden_size=32, updates=600, batch_size=64, lr=1e-2,
                 clip_norm=1.0, seed=0, eval_every=25, n_eval=1000, dtype=np.float64,
                 **layer_options):
    """Train an adding-problem model with Adam on fresh random batches, through ``fit``.

    The defaults are the settings of the book's chapter on the adding problem.

    Args:
        cell: a layer kind, ``"gru"``, ``"gru_fast"`` or ``"rnn"``. seq_len: T (>= 2).
        hidden_size: H. updates: number of updates. batch_size: sequences per update.
        lr: Adam's learning rate. clip_norm: clip the gradients to this global norm before each
            update (None: no clipping).
        seed: an int: fixes the initialisation, the training batches and the held-out set. The
            batches and the held-out set do not depend on ``cell``, so all cells see the same
            data.
        eval_every: evaluate after every this many updates (and after the last one).
        n_eval: size of the held-out set.
        dtype: float64 (default) or float32, for the parameters and the data.
        layer_options: for the layer's initialiser (``update_bias``, ``recurrent_init``, ...).

    Returns:
        a ``History``: ``updates``, ``loss`` (the mean training MSE since the previous record),
        metric ``eval_mse`` (the held-out MSE), and ``info`` with ``cell``, ``seq_len``,
        ``baseline`` (the held-out MSE of always predicting 1.0) and the trained ``model``.
    """
    seed = check_int("seed", seed, minimum=0)
    model = init_adding_model(cell, hidden_size, rng=np.random.default_rng([seed, 0]),
                              dtype=dtype, **layer_options)
    eval_xs, eval_targets = make_adding_problem(n_eval, seq_len,
                                                rng=np.random.default_rng([seed, 2]), dtype=dtype)
    batches = adding_batches(check_positive_int("updates", updates), batch_size, seq_len,
                             rng=np.random.default_rng([seed, 1]), dtype=dtype)
    history = fit(model, Adam(lr=lr), batches, clip_norm=clip_norm,
                  evaluate=lambda m: {"eval_mse": evaluate_mse(m, eval_xs, eval_targets)},
                  record_every=eval_every)
    history.info.update(cell=cell, seq_len=seq_len, baseline=baseline_mse(eval_targets),
                        model=model)
    return history


__all__ = ["adding_batches", "baseline_mse", "evaluate_mse", "init_adding_model",
           "input_gradients", "make_adding_problem", "train_adding"]

"""The adding problem: a regression task whose answer depends on two far-apart time steps.

Each sequence has ``T`` steps of two features: a number drawn uniformly from [0, 1], and a
marker that is 1 at exactly two steps (one in the first half, one in the second half) and 0
elsewhere. The target is the sum of the two marked numbers (Hochreiter and Schmidhuber 1997;
the version with one marker in each half is the one of Le et al. 2015).

The model is a recurrent cell (``"gru"`` from ``gru_lib.gru`` or ``"rnn"`` from
``gru_lib.rnn``) followed by a linear head on the last hidden state,

    prediction = h_{T-1} @ head_w + head_b,

trained on the mean squared error. This module only wires the library's pieces together: the
cell's equations and their gradients live in ``gru_lib.gru`` and ``gru_lib.rnn``.
"""

from dataclasses import dataclass, field

import numpy as np

from gru_lib.checks import FLOAT_DTYPES
from gru_lib.gru import GRUParams, gru_backward, gru_forward, init_gru_params
from gru_lib.head import head_backward, head_forward
from gru_lib.optim import Adam, clip_by_global_norm
from gru_lib.rnn import RNNParams, init_rnn_params, rnn_backward, rnn_forward

# The two recurrent cells: their parameter type, initialiser, forward and backward functions.
CELLS = {
    "gru": (GRUParams, init_gru_params, gru_forward, gru_backward),
    "rnn": (RNNParams, init_rnn_params, rnn_forward, rnn_backward),
}
CELL_PREFIX = "cell."


def _check_positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_cell(cell):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")


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
    _check_positive_int("n", n)
    _check_positive_int("seq_len", seq_len, minimum=2)
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    rng = np.random.default_rng(rng)
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
# The regression model


@dataclass
class AddingModel:
    """A recurrent cell and a linear head on its last hidden state.

    Attributes:
        cell: ``"gru"`` or ``"rnn"``.
        params: the cell's ``GRUParams`` or ``RNNParams`` (input size 2).
        head_w: (H,) and head_b: (1,), ``prediction = h_{T-1} @ head_w + head_b``.
    """

    cell: str
    params: GRUParams | RNNParams
    head_w: np.ndarray
    head_b: np.ndarray

    def __post_init__(self):
        _check_cell(self.cell)
        param_type = CELLS[self.cell][0]
        if not isinstance(self.params, param_type):
            raise TypeError(f"a {self.cell!r} model needs {param_type.__name__}, "
                            f"got {type(self.params).__name__}")
        if self.params.input_size != 2:
            raise ValueError(f"the adding problem has 2 input features, but the cell's input "
                             f"size is {self.params.input_size}")
        hidden, dtype = self.params.hidden_size, self.params.dtype
        for name, shape in (("head_w", (hidden,)), ("head_b", (1,))):
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype != dtype:
                raise ValueError(f"{name} must be a {dtype} array of shape {shape}, got "
                                 f"{getattr(value, 'dtype', type(value).__name__)} "
                                 f"{getattr(value, 'shape', '')}")

    @property
    def hidden_size(self):
        """H, the size of the hidden state."""
        return self.params.hidden_size

    def parameters(self):
        """All trainable arrays by name (the arrays themselves, so an optimiser can update them
        in place): the cell's arrays prefixed with ``"cell."``, then ``head_w`` and ``head_b``."""
        out = {CELL_PREFIX + name: a for name, a in self.params.arrays().items()}
        out.update(head_w=self.head_w, head_b=self.head_b)
        return out

    def num_parameters(self):
        """Number of trainable scalars."""
        return sum(a.size for a in self.parameters().values())


def init_adding_model(cell, hidden_size, *, rng=None, dtype=np.float64):
    """A fresh model: the cell's own initialisation, and a head that starts at zero.

    Args:
        cell: ``"gru"`` or ``"rnn"``. hidden_size: H.
        rng: a ``numpy.random.Generator`` or an int seed; None means seed 0.
        dtype: float64 (default) or float32.
    """
    _check_cell(cell)
    rng = np.random.default_rng(0 if rng is None else rng)
    params = CELLS[cell][1](2, hidden_size, rng=rng, dtype=dtype)
    return AddingModel(cell, params, np.zeros(hidden_size, params.dtype),
                       np.zeros(1, params.dtype))


@dataclass
class AddingCache:
    """What ``adding_backward`` needs: the cell's sequence cache and the last state (N, H)."""

    cell_cache: object
    h_last: np.ndarray


def _check_inputs(model, xs):
    if not isinstance(model, AddingModel):
        raise TypeError(f"model must be an AddingModel, got {type(model).__name__}")
    if not isinstance(xs, np.ndarray) or xs.ndim != 3 or xs.shape[2] != 2:
        raise ValueError(f"xs must be an array of shape (T, N, 2), got "
                         f"{getattr(xs, 'shape', type(xs).__name__)}")


def adding_forward(model, xs):
    """Predictions (N,) for inputs ``xs`` (T, N, 2), and an ``AddingCache`` for the backward."""
    _check_inputs(model, xs)
    forward = CELLS[model.cell][2]
    h0 = np.zeros((xs.shape[1], model.hidden_size), model.params.dtype)
    hs, cell_cache = forward(xs, h0, model.params)
    predictions, h_last = head_forward(hs, model.head_w, model.head_b)
    return predictions, AddingCache(cell_cache, h_last)


def _backward_through_head_and_cell(dpredictions, model, cache):
    """``(dxs, dh0, cell_grads, d_head_w, d_head_b)`` from dL/dpredictions (N,)."""
    dhs, d_head_w, d_head_b = head_backward(dpredictions, cache.h_last, model.head_w,
                                            len(cache.cell_cache.hs))
    dxs, dh0, cell_grads = CELLS[model.cell][3](dhs, cache.cell_cache)
    return dxs, dh0, cell_grads, d_head_w, d_head_b


def adding_backward(dpredictions, model, cache):
    """Gradients (dict with the names of ``model.parameters()``) from dL/dpredictions (N,)."""
    _, _, cell_grads, d_head_w, d_head_b = _backward_through_head_and_cell(dpredictions, model,
                                                                           cache)
    grads = {"head_w": d_head_w, "head_b": d_head_b}
    grads.update({CELL_PREFIX + name: g for name, g in cell_grads.arrays().items()})
    dtype = model.params.dtype
    return {name: grads[name].astype(dtype, copy=False) for name in model.parameters()}


def input_gradients(model, xs):
    """How each prediction depends on its own inputs: d prediction_n / d xs[t, n, :], (T, N, 2).

    Column 0 is the change of the prediction per unit change of the number at step t. For the
    exact answer (the sum of the two marked numbers) it is 1 at the two marked steps and 0
    elsewhere; a model that cannot carry a number to the end has almost 0 at its step.
    """
    predictions, cache = adding_forward(model, xs)
    dxs, *_ = _backward_through_head_and_cell(np.ones_like(predictions), model, cache)
    return dxs


def mse_loss(predictions, targets):
    """Mean squared error ``mean((p - y)**2)`` and its gradient ``2 (p - y) / N``, both (N,)."""
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    if predictions.ndim != 1 or predictions.shape != targets.shape:
        raise ValueError(f"predictions and targets must both have shape (N,), got "
                         f"{predictions.shape} and {targets.shape}")
    error = predictions - targets
    return float(np.mean(error * error)), 2.0 * error / error.size


def adding_loss_and_gradients(model, xs, targets):
    """The MSE of ``model`` on ``xs`` (T, N, 2) with ``targets`` (N,), and its gradients (dict
    name -> array, the names of ``model.parameters()``). Returns ``(loss, grads)``."""
    predictions, cache = adding_forward(model, xs)
    loss, dpredictions = mse_loss(predictions, targets)
    return loss, adding_backward(dpredictions, model, cache)


def evaluate_mse(model, xs, targets):
    """The mean squared error of ``model`` on ``xs`` (T, N, 2) with ``targets`` (N,)."""
    predictions, _ = adding_forward(model, xs)
    return mse_loss(predictions, targets)[0]


def baseline_mse(targets, constant=1.0):
    """The MSE of always predicting ``constant`` (1.0, the mean target: expect about 1/6)."""
    targets = np.asarray(targets, dtype=np.float64)
    return float(np.mean((targets - constant) ** 2))


# --------------------------------------------------------------------------------------------
# Training


@dataclass
class AddingHistory:
    """Records of ``train_adding``, one entry per evaluation.

    Attributes:
        cell, seq_len: what was trained.
        step: the number of updates done at each evaluation.
        train_mse: mean of the mini-batch MSEs of the updates since the previous evaluation.
        eval_mse: MSE on the fixed held-out set after that many updates.
        baseline: the held-out set's MSE of always predicting 1.0.
        model: the trained ``AddingModel``.
    """

    cell: str
    seq_len: int
    step: list = field(default_factory=list)
    train_mse: list = field(default_factory=list)
    eval_mse: list = field(default_factory=list)
    baseline: float = float("nan")
    model: AddingModel | None = field(default=None, repr=False)


def train_adding(cell, seq_len, *, hidden_size=32, steps=600, batch_size=64, lr=1e-2,
                 clip_norm=1.0, seed=0, eval_every=25, n_eval=1000, dtype=np.float64):
    """Train an ``AddingModel`` with Adam on fresh random batches; return an ``AddingHistory``.

    The defaults are the settings of the book's chapter on the adding problem, with which the GRU
    learns the task at T = 10, 30 and 60 (and the vanilla RNN only at T = 10).

    Args:
        cell: ``"gru"`` or ``"rnn"``. seq_len: T (>= 2). hidden_size: H.
        steps: number of updates. batch_size: sequences per update (a new batch every update).
        lr: Adam's learning rate. clip_norm: clip the gradients to this global norm before each
            update (None: no clipping).
        seed: fixes the initialisation, the training batches and the held-out set. The batches
            and the held-out set do not depend on ``cell``, so both cells see the same data.
        eval_every: evaluate after every this many updates (and after the last one).
        n_eval: size of the held-out set.
        dtype: float64 (default) or float32, for the parameters and the data.
    """
    _check_cell(cell)
    for name, value in (("seq_len", seq_len), ("steps", steps), ("batch_size", batch_size),
                        ("eval_every", eval_every), ("n_eval", n_eval)):
        _check_positive_int(name, value, minimum=2 if name == "seq_len" else 1)
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"clip_norm must be positive or None, got {clip_norm!r}")
    model = init_adding_model(cell, hidden_size, rng=np.random.default_rng([seed, 0]),
                              dtype=dtype)
    data_rng = np.random.default_rng([seed, 1])
    eval_xs, eval_targets = make_adding_problem(n_eval, seq_len,
                                                rng=np.random.default_rng([seed, 2]), dtype=dtype)
    history = AddingHistory(cell, seq_len, baseline=baseline_mse(eval_targets), model=model)
    optimiser = Adam(lr=lr)
    params = model.parameters()
    losses = []
    for step in range(1, steps + 1):
        xs, targets = make_adding_problem(batch_size, seq_len, rng=data_rng, dtype=dtype)
        loss, grads = adding_loss_and_gradients(model, xs, targets)
        if clip_norm is not None:
            grads, _ = clip_by_global_norm(grads, clip_norm)
        optimiser.step(params, grads)
        losses.append(loss)
        if step % eval_every == 0 or step == steps:
            history.step.append(step)
            history.train_mse.append(float(np.mean(losses)))
            history.eval_mse.append(evaluate_mse(model, eval_xs, eval_targets))
            losses = []
    return history


__all__ = ["CELLS", "AddingCache", "AddingHistory", "AddingModel", "adding_backward",
           "adding_forward", "adding_loss_and_gradients", "baseline_mse", "evaluate_mse",
           "init_adding_model", "input_gradients", "make_adding_problem", "mse_loss",
           "train_adding"]

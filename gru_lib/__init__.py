"""gru_lib: a Gated Recurrent Unit and backpropagation through time in NumPy.

Modules, each depending only on those above it:

- ``activations``: sigmoid, tanh, their derivatives, log-sigmoid, binary cross-entropy on logits.
  ``checks``: the input validation the layers share. ``padding``: what a mask does to the state
  and to its gradient, for every layer.
- ``gru``: ``GRUParams``, ``init_gru_params``, one step and a whole sequence, forward and backward.
  ``rnn``: the same for a plain tanh RNN, the baseline the GRU is compared with.
- ``data``: the sentiment sentences, a vocabulary and padded batches with masks.
- ``head``: the linear read-out of the last hidden state, forward and backward.
- ``model``: ``SentimentModel`` (word vectors -> GRU -> logistic head), save and load.
- ``optim``: SGD, Adam and clipping by global norm. ``train``: ``train_sentiment``.
  ``adding``: the adding problem, a long-range regression task for the GRU or the RNN.
- ``plots`` and ``widgets``: figures and interactive explorers for the book.
- ``gradcheck`` stands apart: central differences and a report for any forward/backward pair
  (``check_layer_gradients``), with ``check_gru_gradients`` for the GRU.

The most used names are importable from the package itself.
"""

from gru_lib.activations import (
    binary_cross_entropy_with_logits,
    log_sigmoid,
    sigmoid,
    sigmoid_grad,
    sigmoid_grad_from_output,
    tanh,
    tanh_grad,
    tanh_grad_from_output,
)
from gru_lib.data import TEST_DATA, TRAIN_DATA, Vocabulary
from gru_lib.gradcheck import (
    check_gradients,
    check_gru_gradients,
    check_layer_gradients,
    numerical_gradient,
    relative_error,
)
from gru_lib.gru import (
    GRUParams,
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    init_gru_params,
)
from gru_lib.model import SentimentModel
from gru_lib.optim import SGD, Adam, clip_by_global_norm
from gru_lib.train import train_sentiment

__all__ = [
    "SGD", "TEST_DATA", "TRAIN_DATA", "Adam", "GRUParams", "SentimentModel", "Vocabulary",
    "binary_cross_entropy_with_logits", "check_gradients", "check_gru_gradients",
    "check_layer_gradients",
    "clip_by_global_norm", "gru_backward", "gru_forward", "gru_step_backward", "gru_step_forward",
    "init_gru_params", "log_sigmoid", "numerical_gradient", "relative_error", "sigmoid",
    "sigmoid_grad", "sigmoid_grad_from_output", "tanh", "tanh_grad", "tanh_grad_from_output",
    "train_sentiment",
]

"""gru_lib: a Gated Recurrent Unit and backpropagation through time in NumPy.

Modules, each importing only from those above it:

- ``checks``: every validation rule, once. ``activations``: sigmoid, tanh, their derivatives,
  log-sigmoid, binary cross-entropy on logits.
- ``params``: the parameter containers (``GRUParams``, ``GRUGradients``, ``RNNParams``) and
  their initialisation. ``torch_layout``: conversion to and from ``torch.nn.GRU``'s tensors.
- ``padding`` and ``sequence``: what a mask does, and a step unrolled over a sequence (BPTT).
- The layers: ``gru`` (the reference GRU: one step and a sequence, forward and backward, one
  readable line per equation), ``fast`` (the same GRU, fast: chapter 9), ``rnn`` (a plain tanh
  RNN, the baseline), ``head`` (the linear read-out of the last state).
- ``deep_params`` and ``deep``: stacked and bidirectional GRUs exactly as ``torch.nn.GRU``
  computes them (``DeepGRUParams``, ``deep_gru_forward``, ``deep_gru_backward``), built from the
  single-layer functions.
- ``layers``: the layers behind one protocol (``Layer``). ``models``: the one model,
  ``LastStateModel`` (optional embedding, layer, head, loss), with the contract
  ``parameters()`` and ``loss(X, y) -> (loss, grads)``.
- ``data``: the sentiment sentences and a vocabulary. ``model``: ``SentimentModel``, the
  sentiment classifier (a ``LastStateModel`` that reads sentences), save and load.
- ``optim``: SGD, Adam, clipping by global norm. ``train``: ``fit``, the one training loop, and
  ``train_sentiment``. ``adding``: the adding problem, trained through ``fit``. ``corpus`` and
  ``charlm``: a generated bracket language, n-gram baselines, and a character-level GRU language
  model trained with truncated BPTT through ``fit``.
- ``plots``, ``diagrams`` and ``widgets``: figures, drawings of how the pieces connect, and
  interactive explorers for the book.
- ``gradcheck`` checks any forward/backward pair against central differences; ``exercises``
  grades a learner's step functions and names the wrong term.

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
from gru_lib.deep import DeepGRUParams, deep_gru_backward, deep_gru_forward
from gru_lib.gradcheck import (
    check_gradients,
    check_gru_gradients,
    check_layer_gradients,
    numerical_gradient,
    relative_error,
)
from gru_lib.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from gru_lib.layers import Layer
from gru_lib.model import SentimentModel
from gru_lib.models import LastStateModel
from gru_lib.optim import SGD, Adam, clip_by_global_norm
from gru_lib.params import GRUGradients, GRUParams, RNNParams, init_gru_params, init_rnn_params
from gru_lib.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from gru_lib.train import History, fit, train_sentiment

__all__ = [
    "Adam", "DeepGRUParams", "GRUGradients", "GRUParams", "History", "LastStateModel", "Layer",
    "RNNParams", "SGD", "SentimentModel", "TEST_DATA", "TRAIN_DATA", "Vocabulary",
    "binary_cross_entropy_with_logits", "check_gradients", "check_gru_gradients",
    "check_layer_gradients", "clip_by_global_norm", "deep_gru_backward", "deep_gru_forward", "fit",
    "gru_backward", "gru_forward", "gru_step_backward", "gru_step_forward", "init_gru_params",
    "init_rnn_params", "log_sigmoid", "numerical_gradient", "relative_error", "rnn_backward",
    "rnn_forward", "rnn_step_backward", "rnn_step_forward", "sigmoid", "sigmoid_grad",
    "sigmoid_grad_from_output", "tanh", "tanh_grad", "tanh_grad_from_output", "train_sentiment",
]

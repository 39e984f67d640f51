"""The one model of the library: a recurrent layer read out at its last state.

    inputs -> [embedding] -> recurrent layer -> linear head on the last real state -> loss

It follows CS231n's Solver contract, which is all that ``gru_lib.train.fit`` needs of a model:

    model.parameters()        dict name -> array (the arrays themselves, updated in place)
    model.loss(X, y)          -> (loss, grads), grads with the names of parameters()

The sentiment classifier (word ids, an embedding, a logistic loss) and the adding-problem
regressor (two numbers per step, a squared error) are both this model.
"""

from dataclasses import dataclass

import numpy as np

from gru_lib.activations import binary_cross_entropy_with_logits
from gru_lib.checks import (
    check_array,
    check_bool,
    check_cache,
    check_choice,
    check_ndarray,
    check_targets,
    check_token_ids,
)
from gru_lib.head import head_backward, head_forward
from gru_lib.layers import Layer

LOSSES = ("bce", "mse")


def mse_loss(predictions, targets):
    """Mean squared error ``mean((p - y)**2)`` and its gradient ``2 (p - y) / N``, both (N,)."""
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    if predictions.ndim != 1 or predictions.shape != targets.shape or predictions.size == 0:
        raise ValueError(f"predictions and targets must both have shape (N,) with N >= 1, got "
                         f"{predictions.shape} and {targets.shape}")
    error = predictions - targets
    return float(np.mean(error * error)), 2.0 * error / error.size


@dataclass
class ModelCache:
    """What ``LastStateModel.backward`` needs: the word ids (T, B) or None, and the caches of
    the layer and of the head."""

    ids: np.ndarray | None
    layer_cache: object
    head_cache: object


class LastStateModel:
    """A recurrent layer and a linear head on its last state, with an optional embedding.

    Args:
        layer: a ``Layer`` (GRU reference or fast path, or RNN).
        head_w: (H,) and head_b: (1,), ``output = h_last @ head_w + head_b``.
        loss: ``"bce"``, a binary classifier whose output is a logit (targets 0/1), or
            ``"mse"``, a regressor (real targets).
        tokens: False for inputs that are vectors, ``X`` (T, B, D) floats. True for inputs that
            are token ids (T, B), turned into vectors by ``embedding`` (V, D), or into one-hot
            vectors (D = V) when ``embedding`` is None.

    ``X`` is the input array, or a pair ``(inputs, mask)`` with a (T, B) mask of 0/1 for padded
    batches of sequences of different lengths.
    """

    def __init__(self, layer, head_w, head_b, *, loss, tokens=False, embedding=None):
        if not isinstance(layer, Layer):
            raise TypeError(f"layer must be a Layer, got {type(layer).__name__}")
        self.loss_name = check_choice("loss", loss, LOSSES)
        tokens = check_bool("tokens", tokens)
        if embedding is not None and not tokens:
            raise ValueError("an embedding needs token inputs (tokens=True)")
        dtype, hidden = layer.dtype, layer.hidden_size
        check_array("head_w", head_w, (hidden,), dtype)
        check_array("head_b", head_b, (1,), dtype)
        if embedding is not None:
            check_ndarray("embedding", embedding)
            if embedding.ndim != 2 or len(embedding) < 1:
                raise ValueError(f"embedding must be (V, D), got shape {embedding.shape}")
            check_array("embedding", embedding, (len(embedding), layer.input_size), dtype)
        self.layer, self.head_w, self.head_b = layer, head_w, head_b
        self.tokens, self.embedding = tokens, embedding

    @property
    def num_tokens(self):
        """V, the number of token ids the model reads (None for vector inputs)."""
        if not self.tokens:
            return None
        return self.layer.input_size if self.embedding is None else len(self.embedding)

    def parameters(self):
        """All trainable arrays by name (the arrays themselves, for in-place updates)."""
        params = {} if self.embedding is None else {"embedding": self.embedding}
        prefix = self.layer.kind.prefix
        params.update({prefix + name: a for name, a in self.layer.params.arrays().items()})
        params.update(head_w=self.head_w, head_b=self.head_b)
        return params

    def num_parameters(self):
        """Number of trainable scalars."""
        return sum(a.size for a in self.parameters().values())

    # -- forward and backward -----------------------------------------------------------------

    def _split(self, X):
        inputs, mask = X if isinstance(X, tuple) else (X, None)
        check_ndarray("inputs", inputs)
        if self.tokens:
            check_token_ids(inputs, self.num_tokens)
        return inputs, mask

    def embed(self, ids):
        """Input vectors (T, B, D) for token ids (T, B): rows of the embedding, or one-hot."""
        if self.embedding is None:
            return np.eye(self.num_tokens, dtype=self.layer.dtype)[ids]
        return self.embedding[ids]

    def forward(self, X):
        """Outputs (B,) (logits or predictions) and a ``ModelCache`` for ``backward``."""
        inputs, mask = self._split(X)
        xs = self.embed(inputs) if self.tokens else inputs
        if xs.ndim != 3:
            raise ValueError(f"inputs must be (T, B, D), got shape {xs.shape}")
        h0 = np.zeros((xs.shape[1], self.layer.hidden_size), self.layer.dtype)
        hs, layer_cache = self.layer.forward(xs, h0, mask)
        outputs, head_cache = head_forward(hs, self.head_w, self.head_b)
        return outputs, ModelCache(inputs.copy() if self.tokens else None, layer_cache,
                                   head_cache)

    def backward_with_inputs(self, doutputs, cache):
        """``(dxs, grads)``: dL/d(input vectors) (T, B, D) and the parameter gradients."""
        check_cache(cache, ModelCache, "LastStateModel.backward")
        dhs, d_head_w, d_head_b = head_backward(doutputs, cache.head_cache)
        dxs, _, layer_grads = self.layer.backward(dhs, cache.layer_cache)
        grads = {"head_w": d_head_w, "head_b": d_head_b}
        prefix = self.layer.kind.prefix
        grads.update({prefix + name: g for name, g in layer_grads.arrays().items()})
        if self.embedding is not None:
            d_embedding = np.zeros_like(self.embedding)
            # A word used several times gets the sum of its gradients: add.at accumulates repeats.
            np.add.at(d_embedding, cache.ids, dxs)
            grads["embedding"] = d_embedding
        dtype = self.layer.dtype
        return dxs, {name: grads[name].astype(dtype, copy=False) for name in self.parameters()}

    def backward(self, doutputs, cache):
        """Gradients (dict, the names of ``parameters()``) from dL/doutputs (B,)."""
        return self.backward_with_inputs(doutputs, cache)[1]

    def loss(self, X, y):
        """The mean loss on inputs ``X`` with targets ``y`` (B,), and its gradients.

        Returns ``(loss, grads)``, grads a dict with the names of ``parameters()``.
        """
        outputs, cache = self.forward(X)
        y = check_targets(y, len(outputs), self.layer.dtype, binary=self.loss_name == "bce")
        if self.loss_name == "bce":
            loss, doutputs = binary_cross_entropy_with_logits(outputs, y)
        else:
            loss, doutputs = mse_loss(outputs, y)
        return loss, self.backward(doutputs, cache)

    def outputs(self, X):
        """The outputs (B,): logits for a classifier, predictions for a regressor."""
        return self.forward(X)[0]


__all__ = ["LOSSES", "LastStateModel", "ModelCache", "mse_loss"]

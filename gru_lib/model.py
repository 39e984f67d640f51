"""The sentiment classifier: word vectors -> GRU -> logistic head on the last real hidden state.

Everything is a plain array in ``SentimentModel.parameters()``, so the optimiser, the gradient
checker and ``save``/``load`` all see the same named arrays.
"""

import os
import tempfile
import zipfile
from dataclasses import dataclass

import numpy as np

from gru_lib.activations import binary_cross_entropy_with_logits, sigmoid
from gru_lib.data import Vocabulary, tokenize
from gru_lib.gru import GRUParams, gru_backward, gru_forward, init_gru_params
from gru_lib.head import head_backward, head_forward

FORMAT_VERSION = 1
GRU_PREFIX = "gru."


@dataclass
class GateTrace:
    """What the GRU did, word by word, for one sentence.

    Attributes: ``words`` (T list of str); ``z`` update gate, ``r`` reset gate, ``h_tilde``
    candidate, ``h`` hidden state, each (T, H); ``probability`` of the positive class.
    """

    words: list
    z: np.ndarray
    r: np.ndarray
    h_tilde: np.ndarray
    h: np.ndarray
    probability: float


@dataclass
class ForwardCache:
    """What ``SentimentModel.backward`` needs from ``SentimentModel.forward``."""

    ids: np.ndarray
    gru_cache: object
    h_last: np.ndarray


class SentimentModel:
    """Binary sentiment classifier.

    Args:
        vocab: the ``Vocabulary`` (index 0 is padding).
        gru: ``GRUParams``; its input size must be the embedding size (or the vocabulary size
            for one-hot inputs).
        embedding: (V, D) trainable word vectors, or None for fixed one-hot inputs (D = V).
        head_w: (H,) and head_b: (1,) the logistic head, ``logit = h_last @ head_w + head_b``.
    """

    def __init__(self, vocab, gru, embedding, head_w, head_b):
        if not isinstance(vocab, Vocabulary):
            raise TypeError(f"vocab must be a Vocabulary, got {type(vocab).__name__}")
        if not isinstance(gru, GRUParams):
            raise TypeError(f"gru must be a GRUParams, got {type(gru).__name__}")
        dtype, hidden = gru.dtype, gru.hidden_size
        input_size = len(vocab) if embedding is None else (len(vocab), gru.input_size)
        if embedding is None and gru.input_size != len(vocab):
            raise ValueError(f"one-hot inputs need GRU input size {len(vocab)} (the vocabulary "
                             f"size), got {gru.input_size}")
        checks = [("head_w", head_w, (hidden,)), ("head_b", head_b, (1,))]
        if embedding is not None:
            checks.insert(0, ("embedding", embedding, input_size))
        for name, value, shape in checks:
            if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype != dtype:
                raise ValueError(f"{name} must be a {dtype} array of shape {shape}, got "
                                 f"{getattr(value, 'dtype', type(value).__name__)} "
                                 f"{getattr(value, 'shape', '')}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name} contains NaN or infinity")
        self.vocab, self.gru, self.embedding = vocab, gru, embedding
        self.head_w, self.head_b = head_w, head_b

    @classmethod
    def create(cls, vocab, *, hidden_size=64, embedding_size=16, reset_after=False, rng=None,
               dtype=np.float64):
        """A freshly initialised model. ``embedding_size=None`` means one-hot inputs.

        Word vectors are N(0, 1) / sqrt(D); the head starts at zero, so every first prediction is
        0.5 and the first loss is exactly log 2.
        """
        rng = np.random.default_rng(0 if rng is None else rng)
        dtype = np.dtype(dtype)
        if embedding_size is None:
            embedding, input_size = None, len(vocab)
        else:
            if not isinstance(embedding_size, int) or embedding_size < 1:
                raise ValueError(f"embedding_size must be a positive int or None, "
                                 f"got {embedding_size!r}")
            input_size = embedding_size
            embedding = (rng.standard_normal((len(vocab), embedding_size))
                         / np.sqrt(embedding_size)).astype(dtype)
        gru = init_gru_params(input_size, hidden_size, reset_after=reset_after, rng=rng,
                              dtype=dtype)
        return cls(vocab, gru, embedding, np.zeros(hidden_size, dtype), np.zeros(1, dtype))

    # -- parameters ---------------------------------------------------------------------------

    def parameters(self):
        """All trainable arrays by name (the arrays themselves, for in-place updates)."""
        params = {} if self.embedding is None else {"embedding": self.embedding}
        params.update({GRU_PREFIX + name: a for name, a in self.gru.arrays().items()})
        params.update(head_w=self.head_w, head_b=self.head_b)
        return params

    def num_parameters(self):
        """Number of trainable scalars."""
        return sum(a.size for a in self.parameters().values())

    # -- forward and backward -----------------------------------------------------------------

    def embed(self, ids):
        """Word vectors (T, B, D) for word indices ``ids`` (T, B)."""
        if self.embedding is None:
            return np.eye(len(self.vocab), dtype=self.gru.dtype)[ids]
        return self.embedding[ids]

    def forward(self, ids, mask):
        """Logits (B,) for encoded sentences ``ids``, ``mask`` (T, B), and a cache for backward."""
        xs = self.embed(ids)
        h0 = np.zeros((ids.shape[1], self.gru.hidden_size), self.gru.dtype)
        hs, gru_cache = gru_forward(xs, h0, self.gru, mask)
        logits, h_last = head_forward(hs, self.head_w, self.head_b)
        return logits, ForwardCache(ids, gru_cache, h_last)

    def backward(self, dlogits, cache):
        """Gradients (dict name -> array, same names as ``parameters()``) from dL/dlogits (B,)."""
        dhs, d_head_w, d_head_b = head_backward(dlogits, cache.h_last, self.head_w,
                                                len(cache.gru_cache.hs))
        grads = {"head_w": d_head_w, "head_b": d_head_b}
        dxs, _, gru_grads = gru_backward(dhs, cache.gru_cache)
        grads.update({GRU_PREFIX + name: g for name, g in gru_grads.arrays().items()})
        if self.embedding is not None:
            d_embedding = np.zeros_like(self.embedding)
            # A word used several times gets the sum of its gradients: add.at accumulates repeats.
            np.add.at(d_embedding, cache.ids, dxs)
            grads["embedding"] = d_embedding
        return {name: grads[name].astype(self.gru.dtype, copy=False) for name in self.parameters()}

    def loss_and_gradients(self, sentences, labels):
        """Mean binary cross-entropy on ``sentences`` (list of N str) with ``labels`` (N,) 0/1,
        and its gradients with respect to every parameter. Returns ``(loss, grads)``."""
        ids, mask = self.vocab.encode(sentences)
        labels = np.asarray(labels, dtype=self.gru.dtype)
        if labels.shape != (len(sentences),):
            raise ValueError(f"labels must have shape ({len(sentences)},), got {labels.shape}")
        logits, cache = self.forward(ids, mask)
        loss, dlogits = binary_cross_entropy_with_logits(logits, labels)
        return loss, self.backward(dlogits, cache)

    # -- using the model ----------------------------------------------------------------------

    def predict_proba(self, sentences):
        """Probability of positive sentiment for each sentence: (N,) float array."""
        ids, mask = self.vocab.encode(sentences)
        logits, _ = self.forward(ids, mask)
        return sigmoid(logits)

    def predict(self, sentences):
        """True (positive) where the probability is at least 0.5: (N,) bool array."""
        return self.predict_proba(sentences) >= 0.5

    def accuracy(self, data):
        """Fraction of a dict sentence -> bool classified correctly."""
        sentences = list(data)
        return float(np.mean(self.predict(sentences) == np.array(list(data.values()))))

    def trace(self, sentence):
        """Per-word gates and states for one sentence, as a ``GateTrace`` (for plots)."""
        words = tokenize(sentence)
        ids, mask = self.vocab.encode([sentence])
        logits, cache = self.forward(ids, mask)
        c = cache.gru_cache
        return GateTrace(words, c.z[:, 0], c.r[:, 0], c.h_tilde[:, 0], c.hs[:, 0],
                         float(sigmoid(logits)[0]))

    # -- saving and loading -------------------------------------------------------------------

    def save(self, path):
        """Write the model to ``path`` as an ``.npz`` of plain arrays (no pickled objects).

        The file is written next to its destination and then renamed over it, so an error
        half-way never leaves a truncated file where a good one was.
        """
        arrays = {f"param.{name}": a for name, a in self.parameters().items()}
        arrays["format_version"] = np.array(FORMAT_VERSION)
        arrays["words"] = np.array(self.vocab.words[1:], dtype=str)
        arrays["reset_after"] = np.array(self.gru.reset_after)
        arrays["one_hot"] = np.array(self.embedding is None)
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path):
        """Read a model written by ``save``. Raises ValueError naming the problem for a file
        that is missing, not an ``.npz``, from another format version, or inconsistent."""
        path = os.fspath(path)
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {key: f[key] for key in f.files}
        except FileNotFoundError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"{path} is not a saved SentimentModel (.npz): {err}") from err
        required = ["format_version", "words", "reset_after", "one_hot", "param.head_w",
                    "param.head_b"]
        missing = [k for k in required if k not in arrays]
        if missing:
            raise ValueError(f"{path} is not a saved SentimentModel: missing {', '.join(missing)}")
        version = arrays["format_version"]
        if version.shape != () or int(version) != FORMAT_VERSION:
            raise ValueError(f"{path} has format version {version}, expected {FORMAT_VERSION}")
        if arrays["words"].dtype.kind != "U" or arrays["words"].ndim != 1:
            raise ValueError(f"{path}: 'words' must be a 1-D array of strings")
        params = {k[len("param."):]: v for k, v in arrays.items() if k.startswith("param.")}
        gru_arrays = {k[len(GRU_PREFIX):]: v for k, v in params.items()
                      if k.startswith(GRU_PREFIX)}
        try:
            gru = GRUParams(**gru_arrays, reset_after=bool(arrays["reset_after"]))
            vocab = Vocabulary(arrays["words"].tolist())
            embedding = None if bool(arrays["one_hot"]) else params.get("embedding")
            if embedding is None and not bool(arrays["one_hot"]):
                raise ValueError("missing param.embedding")
            model = cls(vocab, gru, embedding, params["head_w"], params["head_b"])
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path} holds an inconsistent SentimentModel: {err}") from err
        for name, value in model.parameters().items():
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{path}: parameter {name} contains NaN or infinity")
        return model

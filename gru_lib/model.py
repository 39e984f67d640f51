"""The sentiment classifier: word vectors -> GRU -> logistic head on the last real hidden state.

A ``LastStateModel`` (see ``gru_lib.models``) with a vocabulary: it reads sentences, and it can
be saved and loaded. Everything trainable is a plain array in ``parameters()``, so the
optimiser, the gradient checker and ``save``/``load`` all see the same named arrays.
"""

from dataclasses import dataclass

import numpy as np

from gru_lib.activations import sigmoid
from gru_lib.checks import check_positive_int, make_rng
from gru_lib.data import Vocabulary, split_labelled, tokenize
from gru_lib.layers import LAYER_KINDS, Layer
from gru_lib.models import LastStateModel
from gru_lib.params import GRUParams, init_gru_params
from gru_lib.sentiment_files import load_sentiment_arrays, save_sentiment_arrays


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


class SentimentModel(LastStateModel):
    """Binary sentiment classifier of sentences.

    Args:
        vocab: the ``Vocabulary`` (index 0 is padding).
        gru: ``GRUParams``; its input size must be the embedding size (or the vocabulary size
            for one-hot inputs).
        embedding: (V, D) trainable word vectors, or None for fixed one-hot inputs (D = V).
        head_w: (H,) and head_b: (1,) the logistic head, ``logit = h_last @ head_w + head_b``.
        fast_path: run the GRU on ``gru_lib.fast`` (the same function, computed faster).
    """

    def __init__(self, vocab, gru, embedding, head_w, head_b, *, fast_path=False):
        if not isinstance(vocab, Vocabulary):
            raise TypeError(f"vocab must be a Vocabulary, got {type(vocab).__name__}")
        if not isinstance(gru, GRUParams):
            raise TypeError(f"gru must be a GRUParams, got {type(gru).__name__}")
        if embedding is None and gru.input_size != len(vocab):
            raise ValueError(f"one-hot inputs need GRU input size {len(vocab)} (the vocabulary "
                             f"size), got {gru.input_size}")
        if embedding is not None and getattr(embedding, "shape", (None,))[0] != len(vocab):
            raise ValueError(f"embedding must have one row per vocabulary entry "
                             f"({len(vocab)}), got shape {getattr(embedding, 'shape', None)}")
        super().__init__(Layer.of(gru, fast_path=fast_path), head_w, head_b, loss="bce",
                         tokens=True, embedding=embedding)
        self.vocab = vocab

    @property
    def gru(self):
        """The GRU's parameters (``GRUParams``)."""
        return self.layer.params

    @classmethod
    def create(cls, vocab, *, hidden_size=64, embedding_size=16, reset_after=False,
               update_bias=0.0, fast_path=False, rng=None, dtype=np.float64):
        """A freshly initialised model. ``embedding_size=None`` means one-hot inputs.

        Word vectors are N(0, 1) / sqrt(D); the head starts at zero, so every first prediction is
        0.5 and the first loss is exactly log 2. ``update_bias``: see ``init_gru_params``.
        """
        if not isinstance(vocab, Vocabulary):
            raise TypeError(f"vocab must be a Vocabulary, got {type(vocab).__name__}")
        rng = make_rng(rng)
        dtype = np.dtype(dtype)
        if embedding_size is None:
            embedding, input_size = None, len(vocab)
        else:
            input_size = check_positive_int("embedding_size", embedding_size)
            embedding = (rng.standard_normal((len(vocab), input_size))
                         / np.sqrt(input_size)).astype(dtype)
        gru = init_gru_params(input_size, hidden_size, reset_after=reset_after,
                              update_bias=update_bias, rng=rng, dtype=dtype)
        return cls(vocab, gru, embedding, np.zeros(hidden_size, gru.dtype),
                   np.zeros(1, gru.dtype), fast_path=fast_path)

    # -- reading sentences --------------------------------------------------------------------

    def forward(self, X, mask=None):
        """Logits (B,) for encoded sentences ``X`` = ids (T, B) with ``mask`` (T, B) (or the
        pair ``(ids, mask)``), and a cache for ``backward``."""
        return super().forward(X if mask is None else (X, mask))

    def loss(self, sentences, labels):
        """Mean binary cross-entropy on ``sentences`` (list of N str) with ``labels`` (N,) 0/1
        (or bools), and its gradients with respect to every parameter: ``(loss, grads)``."""
        ids, mask = self.vocab.encode(sentences)
        return super().loss((ids, mask), labels)

    def loss_and_gradients(self, sentences, labels):
        """The same as ``loss``: ``(loss, grads)``."""
        return self.loss(sentences, labels)

    def predict_proba(self, sentences):
        """Probability of positive sentiment for each sentence: (N,) float array."""
        return sigmoid(self.outputs(self.vocab.encode(sentences)))

    def predict(self, sentences):
        """True (positive) where the probability is at least 0.5: (N,) bool array."""
        return self.predict_proba(sentences) >= 0.5

    def accuracy(self, data):
        """Fraction of a dict sentence -> bool classified correctly."""
        sentences, labels = split_labelled(data)
        return float(np.mean(self.predict(sentences) == (labels == 1)))

    def trace(self, sentence):
        """Per-word gates and states for one sentence, as a ``GateTrace`` (for plots)."""
        words = tokenize(sentence)
        logits, cache = self.forward(self.vocab.encode([sentence]))
        c = cache.layer_cache
        return GateTrace(words, c.z[:, 0], c.r[:, 0], c.h_tilde[:, 0], c.hs[:, 0],
                         float(sigmoid(logits)[0]))

    # -- saving and loading -------------------------------------------------------------------

    def save(self, path):
        """Write the model to ``path`` as an ``.npz`` of plain arrays (no pickled objects).

        As ``np.savez``, ``.npz`` is appended to a path without it; the path written is returned.
        Atomic (an error half-way never leaves a truncated file where a good one was), keeps an
        existing file's permissions and writes through a symlink; a model whose parameters went
        NaN or infinite raises ValueError instead of overwriting a good file.
        """
        return save_sentiment_arrays(path, self.parameters(), self.vocab.words[1:],
                                     reset_after=self.gru.reset_after,
                                     one_hot=self.embedding is None)

    @classmethod
    def load(cls, path):
        """Read a model written by ``save``. Raises ValueError naming the problem for a file
        that is not an ``.npz``, from another format version, or inconsistent."""
        params, words, reset_after, one_hot = load_sentiment_arrays(path)
        prefix = LAYER_KINDS["gru"].prefix
        gru_arrays = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
        try:
            gru = GRUParams(**gru_arrays, reset_after=reset_after)
            embedding = None if one_hot else params.get("embedding")
            if embedding is None and not one_hot:
                raise ValueError("missing param.embedding")
            return cls(Vocabulary(words), gru, embedding, params["head_w"], params["head_b"])
        except (TypeError, ValueError, KeyError) as err:
            raise ValueError(f"{path} holds an inconsistent SentimentModel: {err}") from err

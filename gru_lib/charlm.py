"""A character-level language model: a GRU that predicts the next character at every step.

    ids (T, B) -> one-hot or embedding (T, B, D) -> GRU -> hs (T, B, H) -> logits (T, B, V)

with ``logits = h W_hy + b_y`` at every step and a softmax cross-entropy against the next
characters. The model is many-to-many; it has the same contract as ``LastStateModel``, so
``gru_lib.train.fit`` trains it:

    model.parameters()        dict name -> array (the arrays themselves, updated in place)
    model.loss(X, y)          -> (loss, grads) for a chunk X (T, B) of ids, targets y (T, B)

**Truncated BPTT.** A text is cut into B contiguous streams read side by side, chunk after
chunk of k = T characters (``stream_batches``). The model holds the hidden state between calls
of ``loss``: the last state of one chunk is the initial state of the next, so information flows
forward across chunks, but it is a plain array (detached): no gradient flows back into the
previous chunk. The gradient is cut every k steps; ``reset_state`` starts again from zeros.
"""

import numpy as np

from gru_lib.checks import (
    check_array,
    check_finite,
    check_ids,
    check_ndarray,
    check_positive_int,
    check_real,
    check_seed,
    make_rng,
)
from gru_lib.corpus import CharVocabulary
from gru_lib.layers import Layer

LN2 = np.log(2.0)


def log_softmax(logits):
    """log softmax over the last axis, computed stably.

    The log-sum-exp is taken after subtracting the largest logit: exp then never overflows,
    and its largest term is exp(0) = 1, so the log never sees 0.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(logits, targets):
    """Mean cross-entropy of a softmax over the last axis, and its gradient.

    Args:
        logits: (T, B, V) floats, the scores of the V characters at every step.
        targets: (T, B) int ids in [0, V), the characters that come next.

    Returns:
        ``(loss, dlogits)``: the mean over the N = T * B predictions of ``-log softmax[target]``
        (in nats), and dL/dlogits (T, B, V) ``= (softmax - onehot(targets)) / N``.
    """
    check_ndarray("logits", logits)
    if logits.dtype.kind != "f":
        raise TypeError(f"logits must be a float array, got dtype {logits.dtype}")
    if logits.ndim != 3 or 0 in logits.shape:
        raise ValueError(f"logits must be a non-empty array (T, B, V), got shape {logits.shape}")
    check_finite("logits", logits)
    check_ids("targets", targets, logits.shape[2])
    if targets.shape != logits.shape[:2]:
        raise ValueError(f"targets must have shape (T, B) = {logits.shape[:2]}, got "
                         f"{targets.shape}")
    log_probs = log_softmax(logits)               # stable at any logits
    picked = np.take_along_axis(log_probs, targets[..., None], axis=2)
    n = targets.size
    dlogits = np.exp(log_probs)
    # The gradient is softmax minus one-hot. The notebook this book grew from wrote
    # -y_hat - onehot(y): with the sign of the softmax term flipped, a step raises every wrong
    # character's score in proportion to its probability instead of lowering it, so the
    # likeliest wrong characters gain the most (and the entries no longer sum to zero).
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=2) - 1.0, axis=2)
    return float(-picked.sum() / n) + 0.0, dlogits / n   # + 0.0: a loss of 0 is 0.0, not -0.0


class CharLanguageModel:
    """A GRU language model over V characters that carries its state from chunk to chunk.

    Args:
        layer: a ``Layer`` (``"gru_fast"`` to train fast, ``"gru"`` to read the code).
        W_hy: (H, V) and b_y: (V,), the read-out ``logits = h W_hy + b_y``.
        embedding: None for one-hot inputs (D = V), else (V, D), a learned vector per char.

    ``state`` is the hidden state (B, H) that the next call of ``loss`` starts from (None:
    zeros). Build a fresh model with ``CharLanguageModel.create``.
    """

    def __init__(self, layer, W_hy, b_y, *, embedding=None):
        if not isinstance(layer, Layer):
            raise TypeError(f"layer must be a Layer, got {type(layer).__name__}")
        dtype = layer.dtype
        check_ndarray("W_hy", W_hy)
        if W_hy.ndim != 2:
            raise ValueError(f"W_hy must be 2-D (H, V), got shape {W_hy.shape}")
        check_array("W_hy", W_hy, (layer.hidden_size, W_hy.shape[1]), dtype)
        check_array("b_y", b_y, (W_hy.shape[1],), dtype)
        d = W_hy.shape[1] if embedding is None else np.shape(embedding)[-1]
        if embedding is not None:
            check_array("embedding", embedding, (W_hy.shape[1], d), dtype)
        if layer.input_size != d:
            raise ValueError(f"the layer reads inputs of size {layer.input_size}, but the "
                             f"{'embedding' if embedding is not None else 'one-hot'} gives {d}")
        self.layer, self.W_hy, self.b_y, self.embedding = layer, W_hy, b_y, embedding
        self.state = None

    @classmethod
    def create(cls, vocab_size, hidden_size, *, kind="gru_fast", embedding_size=None, rng=None,
               dtype=np.float64, **layer_options):
        """A fresh model: the layer's own initialisation, a read-out uniform in +-1/sqrt(H),
        ``b_y`` zero, and an embedding (if ``embedding_size``) drawn from N(0, 1/D)."""
        vocab_size = check_positive_int("vocab_size", vocab_size)
        hidden_size = check_positive_int("hidden_size", hidden_size)
        rng = make_rng(rng)
        d = vocab_size if embedding_size is None else check_positive_int("embedding_size",
                                                                         embedding_size)
        layer = Layer.create(kind, d, hidden_size, rng=rng, dtype=dtype, **layer_options)
        bound = 1.0 / np.sqrt(hidden_size)
        W_hy = rng.uniform(-bound, bound, (hidden_size, vocab_size)).astype(layer.dtype)
        embedding = None
        if embedding_size is not None:
            embedding = (rng.standard_normal((vocab_size, d)) / np.sqrt(d)).astype(layer.dtype)
        return cls(layer, W_hy, np.zeros(vocab_size, layer.dtype), embedding=embedding)

    @property
    def vocab_size(self):
        """V."""
        return self.W_hy.shape[1]

    @property
    def hidden_size(self):
        """H."""
        return self.layer.hidden_size

    def parameters(self):
        """All trainable arrays by name (the arrays themselves, for in-place updates)."""
        params = {} if self.embedding is None else {"embedding": self.embedding}
        prefix = self.layer.kind.prefix
        params.update({prefix + name: a for name, a in self.layer.params.arrays().items()})
        params.update(W_hy=self.W_hy, b_y=self.b_y)
        return params

    def reset_state(self):
        """Forget the carried state: the next chunk starts from zeros (a new text)."""
        self.state = None

    def zero_state(self, batch):
        """A zero hidden state (B, H)."""
        return np.zeros((batch, self.hidden_size), self.layer.dtype)

    # -- forward and backward, pure: they neither read nor write ``state`` --------------------

    def forward(self, X, h0):
        """``(logits (T, B, V), hs (T, B, H), cache)`` for ids X (T, B) from the state h0."""
        check_ids("X", X, self.vocab_size)
        if X.ndim != 2 or 0 in X.shape:
            raise ValueError(f"X must be a non-empty array of ids (T, B), got shape {X.shape}")
        xs = (np.eye(self.vocab_size, dtype=self.layer.dtype)[X] if self.embedding is None
              else self.embedding[X])
        hs, layer_cache = self.layer.forward(xs, h0)
        logits = hs @ self.W_hy + self.b_y
        return logits, hs, (X.copy(), hs, layer_cache)

    def backward(self, dlogits, cache):
        """Gradients (dict, the names of ``parameters()``) from dL/dlogits (T, B, V).

        The gradient reaching h0 is dropped: that is the truncation of truncated BPTT.
        """
        X, hs, layer_cache = cache
        grads = {"W_hy": np.einsum("tbh,tbv->hv", hs, dlogits), "b_y": dlogits.sum(axis=(0, 1))}
        dhs = dlogits @ self.W_hy.T                      # every step's state feeds its logits
        dxs, _, layer_grads = self.layer.backward(dhs, layer_cache)
        prefix = self.layer.kind.prefix
        grads.update({prefix + name: g for name, g in layer_grads.arrays().items()})
        if self.embedding is not None:
            d_embedding = np.zeros_like(self.embedding)
            np.add.at(d_embedding, X, dxs)               # a repeated character sums its rows
            grads["embedding"] = d_embedding
        return {name: grads[name] for name in self.parameters()}

    def chunk_loss(self, X, y, h0):
        """``(loss, grads, h_last)`` for one chunk from the state h0 (B, H), without ``state``.

        ``loss`` is the mean cross-entropy in nats over the T * B predictions.
        """
        logits, hs, cache = self.forward(X, h0)
        check_ids("y", y, self.vocab_size)
        if y.shape != X.shape:
            raise ValueError(f"y must have the shape of X {X.shape}, got {y.shape}")
        loss, dlogits = softmax_cross_entropy(logits, y)
        return loss, self.backward(dlogits, cache), hs[-1].copy()

    def loss(self, X, y):
        """Truncated BPTT on one chunk: start from the carried state, then carry the new one.

        Args:
            X: (T, B) ids, the next chunk of B contiguous streams. y: (T, B) the characters
                that follow each of them (X shifted by one step).

        Returns:
            ``(loss, grads)``, as ``fit`` needs; ``state`` becomes the chunk's last state.
        """
        check_ids("X", X, self.vocab_size)
        if X.ndim != 2:
            raise ValueError(f"X must be an array of ids (T, B), got shape {X.shape}")
        if self.state is not None and len(self.state) != X.shape[1]:
            raise ValueError(f"the carried state has {len(self.state)} streams but X has "
                             f"{X.shape[1]}; call reset_state() to start new streams")
        h0 = self.zero_state(X.shape[1]) if self.state is None else self.state
        loss, grads, h_last = self.chunk_loss(X, y, h0)
        self.state = h_last      # a copy with no history: the next gradient stops here
        return loss, grads


def stream_batches(ids, batch_size, k, *, epochs=None, steps=None):
    """Chunks ``(X, y)`` of B contiguous streams of one text, in reading order.

    The text is cut into ``batch_size`` streams of L characters (L a multiple of k; the rest
    of the text is left out), stream b starting at character b * L. Chunk j holds characters
    ``j k .. j k + k - 1`` of every stream as X (k, B) and the characters one step later as y,
    so the state after chunk j is the right start for chunk j + 1. Each new epoch moves every
    stream up one row (the state of row b ended where stream b + 1 begins), so the carried
    state stays contiguous across epochs for all rows but the last.

    Give exactly one of ``epochs`` (passes over the text) or ``steps`` (chunks in all).
    """
    check_ndarray("ids", ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be an integer array, got dtype {ids.dtype}")
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
    batch_size, k = check_positive_int("batch_size", batch_size), check_positive_int("k", k)
    if (epochs is None) == (steps is None):
        raise ValueError("give exactly one of epochs or steps")
    if steps is None:
        epochs = check_positive_int("epochs", epochs)
    else:
        steps = check_positive_int("steps", steps)
    length = (len(ids) - 1) // batch_size // k * k
    if length == 0:
        raise ValueError(f"a text of {len(ids)} characters is too short for {batch_size} "
                         f"streams of at least k = {k} steps")
    starts = np.arange(batch_size) * length
    chunks = length // k
    done, epoch = 0, 0
    while True:
        rows = np.roll(starts, -epoch)
        for j in range(chunks):
            if steps is not None and done == steps:
                return
            cols = rows[None, :] + j * k + np.arange(k)[:, None]     # (k, B) positions
            yield ids[cols], ids[cols + 1]
            done += 1
        epoch += 1
        if steps is None and epoch == epochs:
            return


def run_stream(model, ids, *, chunk=256):
    """Read one text in order from a zero state, carrying the state: ``(logits, states)``.

    Row t of logits (N, V) scores the character after ``ids[t]``, row t of states (N, H) is the
    state after reading ``ids[t]``. The model's own ``state`` is neither used nor changed.
    """
    check_ids("ids", ids, model.vocab_size)
    if ids.ndim != 1 or len(ids) == 0:
        raise ValueError(f"ids must be a non-empty 1-D array, got shape {ids.shape}")
    chunk = check_positive_int("chunk", chunk)
    h = model.zero_state(1)
    logits, states = [], []
    for start in range(0, len(ids), chunk):
        out, hs, _ = model.forward(ids[start:start + chunk, None], h)
        h = hs[-1].copy()
        logits.append(out[:, 0])
        states.append(hs[:, 0])
    return np.concatenate(logits), np.concatenate(states)


def bits_per_character(model, ids, *, start=1):
    """The mean number of bits the model needs per character of ``ids[start:]``.

    The text is read in order with the state carried, from a zero state; each character is
    predicted from all the characters before it. ``start`` >= 1 (the first character has no
    prediction): pass the same ``start`` as to ``NGramModel.bits_per_character`` to score
    exactly the same characters.
    """
    start = check_positive_int("start", start)
    check_ids("ids", ids, model.vocab_size)
    if ids.ndim != 1 or len(ids) <= start:
        raise ValueError(f"ids must be a 1-D array of more than start = {start} ids")
    logits, _ = run_stream(model, ids[:-1])
    log_probs = log_softmax(logits)[np.arange(len(ids) - 1), ids[1:]]
    return float(-log_probs[start - 1:].mean() / LN2)


def sample(model, vocab, n, temperature, rng, *, prime=""):
    """``n`` characters drawn from the model one at a time, each fed back as the next input.

    Args:
        vocab: the ``CharVocabulary`` of the model's V characters.
        temperature: > 0; the logits are divided by it before the softmax: below 1 sharpens
            the distribution (safer, more repetitive text), above 1 flattens it.
        rng: an int seed or a Generator. prime: text read first (from a zero state); with
            no prime the first character is drawn from the zero state's prediction.

    Returns the n new characters as a str (without the prime).
    """
    if not isinstance(vocab, CharVocabulary) or len(vocab) != model.vocab_size:
        raise TypeError(f"vocab must be the CharVocabulary of the model's {model.vocab_size} "
                        f"characters")
    n = check_positive_int("n", n)
    temperature = check_real("temperature", temperature, positive=True)
    rng = np.random.default_rng(check_seed("rng", rng))
    if not isinstance(prime, str):
        raise TypeError(f"prime must be a str, got {type(prime).__name__}")
    h = model.zero_state(1)
    logits = model.b_y.copy()          # the read-out of a zero state
    if prime:
        out, hs, _ = model.forward(vocab.encode(prime)[:, None], h)
        h, logits = hs[-1].copy(), out[-1, 0]
    drawn = []
    for _ in range(n):
        p = np.exp(log_softmax(logits.astype(np.float64) / temperature))
        nxt = int(rng.choice(len(p), p=p / p.sum()))
        drawn.append(nxt)
        out, hs, _ = model.forward(np.array([[nxt]]), h)
        h, logits = hs[-1].copy(), out[-1, 0]
    return vocab.decode(np.array(drawn))


__all__ = ["CharLanguageModel", "bits_per_character", "log_softmax", "run_stream", "sample",
           "softmax_cross_entropy", "stream_batches"]

"""One training loop for every model, and the training of the sentiment classifier.

``fit`` is CS231n's Solver idea in a few lines: it needs of a model only ``parameters()`` and
``loss(X, y) -> (loss, grads)``, so the same loop trains the sentiment classifier, the
adding-problem regressor and anything else with that contract.
"""

from dataclasses import dataclass, field

import numpy as np

from gru_lib.checks import check_choice, check_positive_int, check_real, check_seed
from gru_lib.data import TEST_DATA, TRAIN_DATA, Vocabulary, split_labelled
from gru_lib.model import SentimentModel
from gru_lib.optim import SGD, Adam, clip_by_global_norm, global_norm


@dataclass
class History:
    """Records of ``fit``, one entry per record (every ``record_every`` updates, and the last).

    Attributes:
        updates: the number of updates done at each record.
        loss: the mean training loss of the updates since the previous record (each batch
            weighted by its size), measured before each update.
        grad_norm: the mean global gradient norm of those updates, before clipping.
        metrics: name -> list, what ``evaluate(model)`` returned at each record (e.g.
            ``train_accuracy``); also readable as attributes, ``history.train_accuracy``.
        info: anything the caller wants to keep beside the records (e.g. a baseline).
    """

    updates: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def __getattr__(self, name):
        metrics = self.__dict__.get("metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(f"History has no attribute or metric {name!r}")

    @property
    def records(self):
        """The number of records."""
        return len(self.updates)

    @property
    def epochs(self):
        """The number of records; one per epoch in ``train_sentiment``."""
        return len(self.updates)


def fit(model, optimizer, batches, *, clip_norm=None, evaluate=None, record_every=1):
    """Train ``model`` with ``optimizer`` on ``batches``: one update per batch.

    Args:
        model: has ``parameters()`` and ``loss(X, y) -> (loss, grads)``.
        optimizer: has ``step(params, grads)`` (``SGD``, ``Adam``).
        batches: an iterable of ``(X, y)`` pairs.
        clip_norm: clip the gradients to this global norm before each update (None: don't).
        evaluate: optional ``evaluate(model) -> dict name -> number``, called at each record.
        record_every: make a record after every this many updates (and after the last).

    Returns:
        a ``History``.
    """
    if clip_norm is not None:
        clip_norm = check_real("clip_norm", clip_norm, positive=True)
    record_every = check_positive_int("record_every", record_every)
    params = model.parameters()
    history = History()
    losses, sizes, norms, done = [], [], [], 0
    for X, y in batches:
        loss, grads = model.loss(X, y)
        if clip_norm is not None:
            grads, norm = clip_by_global_norm(grads, clip_norm)
        else:
            norm = global_norm(grads)
        optimizer.step(params, grads)
        done += 1
        losses.append(loss * len(y))
        sizes.append(len(y))
        norms.append(norm)
        if done % record_every == 0:
            _record(history, done, losses, sizes, norms, model, evaluate)
            losses, sizes, norms = [], [], []
    if losses:
        _record(history, done, losses, sizes, norms, model, evaluate)
    if done == 0:
        raise ValueError("fit got no batches")
    return history


def _record(history, done, losses, sizes, norms, model, evaluate):
    history.updates.append(done)
    history.loss.append(sum(losses) / sum(sizes))
    history.grad_norm.append(float(np.mean(norms)))
    for name, value in ({} if evaluate is None else evaluate(model)).items():
        history.metrics.setdefault(name, []).append(value)


def make_optimizer(name, lr):
    """``"adam"`` or ``"sgd"`` with learning rate ``lr`` (None: 0.02 for Adam, 0.5 for SGD)."""
    check_choice("optimizer", name, ("adam", "sgd"))
    if name == "adam":
        return Adam(lr=0.02 if lr is None else lr)
    return SGD(lr=0.5 if lr is None else lr)


def epoch_batches(sentences, labels, *, epochs, batch_size, rng):
    """The batches of ``epochs`` passes over the data: the full batch each epoch
    (``batch_size=None``), or batches of ``batch_size`` in a new random order each epoch."""
    n = len(sentences)
    size = n if batch_size is None else min(batch_size, n)
    for _ in range(epochs):
        order = np.arange(n) if batch_size is None else rng.permutation(n)
        for start in range(0, n, size):
            idx = order[start:start + size]
            yield [sentences[i] for i in idx], labels[idx]


def train_sentiment(train_data=TRAIN_DATA, *, test_data=TEST_DATA, hidden_size=64,
                    embedding_size=16, reset_after=False, update_bias=0.0, optimizer="adam",
                    lr=None, epochs=40, batch_size=None, clip_norm=5.0, seed=0,
                    fast_path=False, dtype=np.float64):
    """Train a ``SentimentModel`` with ``fit`` and return ``(model, history)``.

    Args:
        train_data, test_data: dicts sentence -> bool. The vocabulary is built from the training
            sentences; a test sentence with an unseen word raises ValueError up front.
        hidden_size: H. embedding_size: D, or None for one-hot inputs.
        reset_after, update_bias: the GRU variant and its initial update-gate bias.
        optimizer: "adam" or "sgd"; lr: its learning rate (None for the default).
        epochs: passes over the training data.
        batch_size: None for the full batch (one update an epoch); otherwise sentences are
            shuffled every epoch and split into batches of this size.
        clip_norm: clip the gradients to this global norm before each update (None: no clipping).
        seed: an int (or a Generator): fixes the initialisation and the shuffling, so equal seeds
            give equal models. None is refused (the run could not be reproduced).
        fast_path: run the GRU on ``gru_lib.fast`` (same results to rounding, faster).

    Returns:
        ``(model, history)``: the trained model and a ``History`` with one record per epoch
        (metrics ``train_accuracy`` and ``test_accuracy``).
    """
    epochs = check_positive_int("epochs", epochs)
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
    sentences, labels = split_labelled(train_data)
    vocab = Vocabulary.from_sentences(sentences)
    if test_data is not None:
        split_labelled(test_data)
        vocab.encode(list(test_data))  # fail now, not after training, on an unknown test word
    rng = np.random.default_rng(check_seed("seed", seed))
    model = SentimentModel.create(vocab, hidden_size=hidden_size, embedding_size=embedding_size,
                                  reset_after=reset_after, update_bias=update_bias,
                                  fast_path=fast_path, rng=rng, dtype=dtype)
    n = len(sentences)
    per_epoch = 1 if batch_size is None else -(-n // min(batch_size, n))

    def evaluate(m):
        return {"train_accuracy": m.accuracy(train_data),
                "test_accuracy": np.nan if test_data is None else m.accuracy(test_data)}

    history = fit(model, make_optimizer(optimizer, lr),
                  epoch_batches(sentences, labels, epochs=epochs, batch_size=batch_size, rng=rng),
                  clip_norm=clip_norm, evaluate=evaluate, record_every=per_epoch)
    return model, history


__all__ = ["History", "epoch_batches", "fit", "make_optimizer", "train_sentiment"]

"""Training the sentiment model: mini-batches or the full batch, SGD or Adam, clipping by norm."""

from dataclasses import dataclass, field

import numpy as np

from gru_lib.data import TEST_DATA, TRAIN_DATA, Vocabulary, split_labelled
from gru_lib.model import SentimentModel
from gru_lib.optim import SGD, Adam, clip_by_global_norm, global_norm


@dataclass
class TrainingHistory:
    """Per-epoch records: mean training loss (over the epoch's batches, weighted by size),
    training and test accuracy after the epoch, and the gradient norm before clipping."""

    loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)

    @property
    def epochs(self):
        """Number of epochs trained."""
        return len(self.loss)


def make_optimizer(name, lr):
    """``"adam"`` or ``"sgd"`` with learning rate ``lr`` (None: 0.02 for Adam, 0.5 for SGD)."""
    if name == "adam":
        return Adam(lr=0.02 if lr is None else lr)
    if name == "sgd":
        return SGD(lr=0.5 if lr is None else lr)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")


def train_sentiment(train_data=TRAIN_DATA, *, test_data=TEST_DATA, hidden_size=64,
                    embedding_size=16, reset_after=False, optimizer="adam", lr=None, epochs=40,
                    batch_size=None, clip_norm=5.0, seed=0, dtype=np.float64):
    """Train a ``SentimentModel`` and return ``(model, history)``.

    Args:
        train_data, test_data: dicts sentence -> bool. The vocabulary is built from the training
            sentences; a test sentence with an unseen word raises ValueError up front.
        hidden_size: H. embedding_size: D, or None for one-hot inputs.
        reset_after: the GRU variant.
        optimizer: "adam" or "sgd"; lr: its learning rate (None for the default).
        epochs: passes over the training data.
        batch_size: None for the full batch (one step an epoch); otherwise sentences are shuffled
            every epoch and split into batches of this size.
        clip_norm: clip the gradients to this global norm before each step (None: no clipping).
        seed: fixes the initialisation and the shuffling, so equal seeds give equal models.

    Returns:
        ``(model, history)``: the trained model and a ``TrainingHistory``.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    sentences, labels = split_labelled(train_data)
    vocab = Vocabulary.from_sentences(sentences)
    if test_data is not None:
        split_labelled(test_data)
        vocab.encode(list(test_data))  # fail now, not after training, on an unknown test word
    rng = np.random.default_rng(seed)
    model = SentimentModel.create(vocab, hidden_size=hidden_size, embedding_size=embedding_size,
                                  reset_after=reset_after, rng=rng, dtype=dtype)
    opt = make_optimizer(optimizer, lr)
    params = model.parameters()
    history = TrainingHistory()
    n = len(sentences)
    size = n if batch_size is None else min(batch_size, n)
    for _ in range(epochs):
        order = np.arange(n) if batch_size is None else rng.permutation(n)
        total_loss, norms = 0.0, []
        for start in range(0, n, size):
            idx = order[start:start + size]
            loss, grads = model.loss_and_gradients([sentences[i] for i in idx], labels[idx])
            if clip_norm is not None:
                grads, norm = clip_by_global_norm(grads, clip_norm)
            else:
                norm = global_norm(grads)
            opt.step(params, grads)
            total_loss += loss * len(idx)
            norms.append(norm)
        history.loss.append(total_loss / n)
        history.grad_norm.append(float(np.mean(norms)))
        history.train_accuracy.append(model.accuracy(train_data))
        history.test_accuracy.append(np.nan if test_data is None else model.accuracy(test_data))
    return model, history

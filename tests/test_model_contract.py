"""The model contract: ``parameters()`` and ``loss(X, y) -> (loss, grads)`` is all ``fit`` needs.

One ``fit`` trains the sentiment classifier, the adding-problem regressor and any other object
with the contract. The GRU's reference and fast paths train to the same models; the book's
default runs reach what the book says they reach; ``History`` reads its metrics as attributes.
"""

import numpy as np
import pytest
from helpers import default_sentiment_run

from gru_lib.adding import (
    adding_batches,
    baseline_mse,
    evaluate_mse,
    init_adding_model,
    make_adding_problem,
    train_adding,
)
from gru_lib.data import TEST_DATA, TRAIN_DATA, Vocabulary, split_labelled
from gru_lib.layers import Layer
from gru_lib.model import SentimentModel
from gru_lib.models import LastStateModel
from gru_lib.optim import SGD, Adam, global_norm
from gru_lib.train import History, epoch_batches, fit, train_sentiment

VOCAB = Vocabulary.from_sentences(TRAIN_DATA)
SENTENCES, LABELS = split_labelled(TRAIN_DATA)


def sentiment_model(fast_path=False, embedding_size=4, seed=0):
    return SentimentModel.create(VOCAB, hidden_size=6, embedding_size=embedding_size,
                                 fast_path=fast_path, rng=seed)


def token_model(kind):
    """A LastStateModel on token ids with one-hot inputs (no embedding), built by hand."""
    layer = Layer.create(kind, len(VOCAB), 5, rng=1)
    return LastStateModel(layer, np.full(5, 0.1), np.zeros(1), loss="bce", tokens=True)


ADDING_X, ADDING_Y = make_adding_problem(6, 5, rng=2)
IDS, MASK = VOCAB.encode(SENTENCES[:6])

# Every model of the library, with a batch (X, y) it reads.
MODELS = {
    "sentiment-reference": (lambda: sentiment_model(), (SENTENCES[:6], LABELS[:6])),
    "sentiment-fast": (lambda: sentiment_model(fast_path=True), (SENTENCES[:6], LABELS[:6])),
    "sentiment-one_hot": (lambda: sentiment_model(embedding_size=None),
                          (SENTENCES[:6], LABELS[:6])),
    "adding-gru": (lambda: init_adding_model("gru", 4, rng=3), (ADDING_X, ADDING_Y)),
    "adding-gru_fast": (lambda: init_adding_model("gru_fast", 4, rng=3), (ADDING_X, ADDING_Y)),
    "adding-rnn": (lambda: init_adding_model("rnn", 4, rng=3), (ADDING_X, ADDING_Y)),
    "adding-masked": (lambda: init_adding_model("gru", 4, rng=3),
                      ((ADDING_X, np.ones(ADDING_X.shape[:2])), ADDING_Y)),
    "tokens-gru": (lambda: token_model("gru"), ((IDS, MASK), LABELS[:6])),
    "tokens-rnn": (lambda: token_model("rnn"), ((IDS, MASK), LABELS[:6])),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_keeps_the_contract(name):
    make, (X, y) = MODELS[name]
    model = make()
    params = model.parameters()
    assert params and all(isinstance(a, np.ndarray) for a in params.values())
    # The arrays themselves, not copies: an optimiser updates the model through them.
    assert all(a is b for a, b in zip(params.values(), model.parameters().values(), strict=True))
    assert params["head_w"] is model.head_w
    loss, grads = model.loss(X, y)
    assert isinstance(loss, float) and np.isfinite(loss)
    assert list(grads) == list(params)
    for key, value in params.items():
        assert grads[key].shape == value.shape and grads[key].dtype == value.dtype, key
        assert not np.shares_memory(grads[key], value), key
    before = {key: value.copy() for key, value in params.items()}
    SGD(lr=0.1).step(params, grads)
    assert any(not np.array_equal(model.parameters()[key], before[key]) for key in params)
    assert model.loss(X, y)[0] < loss  # a small step down the gradient lowers the loss


class Quadratic:
    """The contract and nothing else: L = mean over the batch of |w - x|^2."""

    def __init__(self):
        self.w = np.array([3.0, -2.0])

    def parameters(self):
        return {"w": self.w}

    def loss(self, X, y):
        diff = self.w[None, :] - X
        return float(np.mean(np.sum(diff ** 2, axis=1))), {"w": 2 * diff.mean(axis=0)}


def test_fit_needs_nothing_but_the_contract():
    model = Quadratic()
    batches = [(np.zeros((4, 2)), np.zeros(4))] * 50
    history = fit(model, SGD(lr=0.1), batches, record_every=10,
                  evaluate=lambda m: {"distance": float(np.linalg.norm(m.w))})
    assert history.updates == [10, 20, 30, 40, 50] and history.records == 5
    assert history.distance[-1] < 0.05 < history.distance[0]
    assert history.loss[0] > history.loss[-1]


def test_one_fit_trains_a_sentiment_model_and_an_adding_model():
    sentiment = sentiment_model(fast_path=True)
    batches = epoch_batches(SENTENCES, LABELS, epochs=30, batch_size=None, rng=None)
    sentiment_history = fit(sentiment, Adam(lr=0.05), batches, clip_norm=5.0,
                            evaluate=lambda m: {"train_accuracy": m.accuracy(TRAIN_DATA)})
    assert sentiment_history.records == 30
    assert sentiment_history.loss[0] == pytest.approx(np.log(2))  # the head starts at zero
    assert sentiment_history.loss[-1] < 0.5 * sentiment_history.loss[0]
    assert sentiment_history.train_accuracy[-1] > 0.9

    adding = init_adding_model("gru_fast", 8, rng=4)
    eval_x, eval_y = make_adding_problem(200, 6, rng=5)
    adding_history = fit(adding, Adam(lr=1e-2), adding_batches(60, 32, 6, rng=6),
                         clip_norm=1.0, record_every=20,
                         evaluate=lambda m: {"eval_mse": evaluate_mse(m, eval_x, eval_y)})
    assert adding_history.updates == [20, 40, 60]
    assert adding_history.eval_mse[-1] < baseline_mse(eval_y)
    assert adding_history.loss[-1] < adding_history.loss[0]


def test_fit_records_the_mean_loss_and_the_norm_before_clipping():
    model = init_adding_model("rnn", 3, rng=7)
    for value in model.parameters().values():
        value[...] = np.random.default_rng(8).uniform(-1, 1, value.shape)
    batches = list(adding_batches(4, 5, 6, rng=9))
    replay = init_adding_model("rnn", 3, rng=7)
    for key, value in model.parameters().items():
        replay.parameters()[key][...] = value
    history = fit(model, SGD(lr=0.1), batches, clip_norm=1e-3, record_every=2)
    losses, norms = [], []
    for X, y in batches:  # the same updates by hand
        loss, grads = replay.loss(X, y)
        losses.append(loss)
        norms.append(global_norm(grads))
        SGD(lr=0.1).step(replay.parameters(),
                         {k: g * min(1.0, 1e-3 / norms[-1]) for k, g in grads.items()})
    np.testing.assert_allclose(history.loss, [np.mean(losses[:2]), np.mean(losses[2:])],
                               rtol=1e-12)
    np.testing.assert_allclose(history.grad_norm, [np.mean(norms[:2]), np.mean(norms[2:])],
                               rtol=1e-12)
    assert min(norms) > 1e-3  # so every update was clipped
    for key, value in replay.parameters().items():
        np.testing.assert_allclose(model.parameters()[key], value, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kwargs, error", [
    pytest.param(dict(batches=[]), ValueError, id="no-batches"),
    pytest.param(dict(record_every=0), ValueError, id="record_every=0"),
    pytest.param(dict(record_every=1.0), TypeError, id="record_every=1.0"),
    pytest.param(dict(clip_norm=0.0), ValueError, id="clip_norm=0"),
    pytest.param(dict(clip_norm="1"), TypeError, id="clip_norm-str"),
])
def test_bad_fit_arguments(kwargs, error):
    args = dict(batches=[(np.zeros((1, 2)), np.zeros(1))])
    args.update(kwargs)
    with pytest.raises(error):
        fit(Quadratic(), SGD(lr=0.1), args.pop("batches"), **args)


# -- History -----------------------------------------------------------------------------------


def test_history_reads_metrics_as_attributes():
    history = History()
    with pytest.raises(AttributeError, match="no attribute or metric 'eval_mse'"):
        _ = history.eval_mse
    history.metrics["eval_mse"] = [0.5, 0.25]
    history.updates.extend([10, 20])
    assert history.eval_mse is history.metrics["eval_mse"]
    assert history.records == history.epochs == 2
    assert not hasattr(history, "train_accuracy")
    assert history.info == {}


# -- the reference and the fast path train alike ----------------------------------------------

def assert_same_training(runs):
    (reference, ref_history), (fast, fast_history) = runs[False], runs[True]
    assert reference.layer.kind.name == "gru" and fast.layer.kind.name == "gru_fast"
    assert fast_history.updates == ref_history.updates
    assert fast_history.train_accuracy == ref_history.train_accuracy
    assert fast_history.test_accuracy == ref_history.test_accuracy
    np.testing.assert_allclose(fast_history.loss, ref_history.loss, rtol=1e-9, atol=0)
    np.testing.assert_allclose(fast_history.grad_norm, ref_history.grad_norm, rtol=1e-9, atol=0)
    for key, value in reference.parameters().items():
        np.testing.assert_allclose(fast.parameters()[key], value, rtol=1e-9,
                                   atol=1e-9 * np.max(np.abs(value)), err_msg=key)
    sentences = list(TEST_DATA)
    np.testing.assert_allclose(fast.predict_proba(sentences), reference.predict_proba(sentences),
                               rtol=1e-9)


def test_the_default_sentiment_run_learns_the_data_on_both_paths():
    """The book's run: 100% train and test accuracy, and the same training on both paths.

    One test for both (not one per path), so that the two trainings run in one process."""
    runs = {fast_path: default_sentiment_run(fast_path) for fast_path in (False, True)}
    for model, history in runs.values():
        assert history.epochs == 40
        assert history.train_accuracy[-1] == 1.0 and history.test_accuracy[-1] == 1.0
        assert model.accuracy(TRAIN_DATA) == 1.0 and model.accuracy(TEST_DATA) == 1.0
    assert_same_training(runs)


def test_reference_and_fast_path_train_alike_with_other_settings():
    kwargs = dict(reset_after=True, batch_size=8, epochs=5, update_bias=1.0)
    assert_same_training({fast_path: train_sentiment(fast_path=fast_path, **kwargs)
                          for fast_path in (False, True)})


def test_a_short_adding_run_beats_the_baseline():
    # The reference path (test_adding.py shows the fast path trains to the same numbers).
    history = train_adding("gru", 10, updates=100)
    assert history.updates == [25, 50, 75, 100]
    assert history.eval_mse[-1] < history.info["baseline"]
    assert history.eval_mse[-1] < history.eval_mse[0]
    assert history.info["cell"] == "gru" and history.info["seq_len"] == 10
    assert isinstance(history.info["model"], LastStateModel)
    assert history.info["model"].layer.kind.name == "gru"


@pytest.mark.parametrize("kind", ["gru", "gru_fast", "rnn"])
def test_model_backward_takes_only_its_own_cache(kind):
    model = init_adding_model(kind, 4, rng=10)
    _, cache = model.forward(ADDING_X)
    dout = np.ones(ADDING_X.shape[1])
    for wrong in (cache.layer_cache, cache.head_cache):
        with pytest.raises(TypeError, match=f"LastStateModel.backward needs the ModelCache of "
                                            f"its own forward pass, got {type(wrong).__name__}"):
            model.backward(dout, wrong)
    with pytest.raises(TypeError, match="needs the .* of its own forward pass, got ModelCache"):
        model.layer.backward(np.ones((5, 6, 4)), cache)

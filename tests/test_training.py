"""Training on the seed's sentiment data, the model's API, optimisers and saving."""

import numpy as np
import pytest
from helpers import default_sentiment_run

from gru_lib.activations import binary_cross_entropy_with_logits
from gru_lib.data import TEST_DATA, TRAIN_DATA, Vocabulary
from gru_lib.gradcheck import check_gradients
from gru_lib.model import SentimentModel
from gru_lib.optim import SGD, Adam, clip_by_global_norm, global_norm
from gru_lib.train import train_sentiment


@pytest.fixture(scope="module")
def trained():
    return default_sentiment_run()


def test_reaches_full_train_and_test_accuracy(trained):
    model, history = trained
    assert history.epochs == 40 and history.updates == list(range(1, 41))
    assert history.train_accuracy is history.metrics["train_accuracy"]
    assert history.train_accuracy[-1] == 1.0
    assert history.test_accuracy[-1] == 1.0
    assert model.accuracy(TRAIN_DATA) == 1.0 and model.accuracy(TEST_DATA) == 1.0
    assert history.loss[-1] < 0.05 < history.loss[0]
    assert history.loss[0] == pytest.approx(np.log(2), rel=0.05)  # the head starts at zero


# On the fast path, which trains to the reference path's numbers (test_model_contract.py).
@pytest.mark.parametrize("kwargs", [
    pytest.param(dict(reset_after=True), id="reset_after"),
    pytest.param(dict(embedding_size=None), id="one_hot"),
    pytest.param(dict(batch_size=8, epochs=30), id="batch_size=8"),
])
def test_other_settings_also_learn(kwargs):
    model, history = train_sentiment(fast_path=True, **kwargs)
    assert model.layer.kind.name == "gru_fast"
    assert history.train_accuracy[-1] == 1.0
    assert history.test_accuracy[-1] >= 0.95


@pytest.mark.parametrize("kwargs", [
    pytest.param(dict(), id="full-batch"),
    pytest.param(dict(batch_size=8), id="shuffled-batches"),
])
def test_same_seed_same_model_other_seed_other_model(kwargs):
    kwargs = dict(hidden_size=16, **kwargs)
    model, history = train_sentiment(epochs=3, **kwargs)
    again, history_again = train_sentiment(epochs=3, **kwargs)
    assert history.loss == history_again.loss
    assert history.grad_norm == history_again.grad_norm
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(again.parameters()[name], value)
    other, _ = train_sentiment(seed=1, epochs=1, **kwargs)
    assert not np.array_equal(other.head_w, model.head_w)
    from_generator, _ = train_sentiment(epochs=3, seed=np.random.default_rng(0), **kwargs)
    for name, value in model.parameters().items():  # a seed or its generator: the same
        np.testing.assert_array_equal(from_generator.parameters()[name], value)


def test_predictions_and_trace(trained):
    model, _ = trained
    p = model.predict_proba(["this is good", "this is not good", "i am not bad"])
    assert p.shape == (3,) and p[0] > 0.5 > p[1] and p[2] > 0.5
    trace = model.trace("this is not at all good")
    assert trace.words == ["this", "is", "not", "at", "all", "good"]
    for name in ("z", "r", "h_tilde", "h"):
        assert getattr(trace, name).shape == (6, 64)
    assert trace.probability == pytest.approx(model.predict_proba(["this is not at all good"])[0])
    assert np.all((trace.z > 0) & (trace.z < 1))


def test_padding_does_not_change_a_prediction(trained):
    model, _ = trained
    alone = model.predict_proba(["good"])[0]
    beside_long = model.predict_proba(["good", "i am not at all good or happy right now"])[0]
    assert alone == pytest.approx(beside_long, rel=1e-12)


# Every variant with and without an embedding; the GRU path alternates so that each path meets
# each variant and each kind of input once (the paths agree to 1e-12: test_reference_and_fast).
@pytest.mark.parametrize("reset_after, embedding_size, fast_path", [
    pytest.param(False, 5, False, id="reset_before-embedding-reference"),
    pytest.param(True, 5, True, id="reset_after-embedding-fast"),
    pytest.param(False, None, True, id="reset_before-one_hot-fast"),
    pytest.param(True, None, False, id="reset_after-one_hot-reference"),
])
def test_model_gradients(reset_after, embedding_size, fast_path):
    vocab = Vocabulary.from_sentences(TRAIN_DATA)
    model = SentimentModel.create(vocab, hidden_size=4, embedding_size=embedding_size,
                                  reset_after=reset_after, fast_path=fast_path, rng=3)
    assert model.layer.kind.name == ("gru_fast" if fast_path else "gru")
    rng = np.random.default_rng(4)
    for value in model.parameters().values():
        value[...] = rng.uniform(-0.5, 0.5, value.shape)
    sentences = ["i am not bad", "good", "this was very sad earlier", "not not good"]
    labels = np.array([1.0, 1.0, 0.0, 0.0])
    loss, grads = model.loss_and_gradients(sentences, labels)
    assert (loss, grads.keys()) == (model.loss(sentences, labels)[0], model.parameters().keys())
    encoded = model.vocab.encode(sentences)

    def loss_only():  # the forward pass only: the same loss, without a backward pass each time
        return binary_cross_entropy_with_logits(model.outputs(encoded), labels)[0]

    assert loss_only() == loss
    report = check_gradients(loss_only, model.parameters(), grads)
    assert report.passed, str(report)


def test_save_and_load_round_trip(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = SentimentModel.load(path)
    assert loaded.vocab.words == model.vocab.words
    assert loaded.gru.reset_after == model.gru.reset_after
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[name], value)
    sentences = list(TEST_DATA)
    np.testing.assert_array_equal(loaded.predict_proba(sentences), model.predict_proba(sentences))


def test_a_fast_path_model_saves_and_loads(tmp_path):
    model, _ = train_sentiment(fast_path=True, epochs=2)
    model.save(tmp_path / "fast.npz")
    loaded = SentimentModel.load(tmp_path / "fast.npz")
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[name], value)
    sentences = list(TEST_DATA)  # the same function, whichever path the loaded model runs on
    np.testing.assert_allclose(loaded.predict_proba(sentences), model.predict_proba(sentences),
                               rtol=1e-12)


def test_trace_is_the_same_on_both_paths(trained):
    model, _ = trained
    fast = SentimentModel(model.vocab, model.gru, model.embedding, model.head_w, model.head_b,
                          fast_path=True)
    ours, theirs = model.trace("this is not at all good"), fast.trace("this is not at all good")
    assert ours.words == theirs.words
    for name in ("z", "r", "h_tilde", "h"):
        np.testing.assert_allclose(getattr(theirs, name), getattr(ours, name), rtol=1e-12,
                                   atol=1e-14, err_msg=name)
    assert theirs.probability == pytest.approx(ours.probability, rel=1e-12)


def test_save_one_hot_reset_after(tmp_path):
    model, _ = train_sentiment(embedding_size=None, reset_after=True, epochs=2)
    model.save(tmp_path / "m.npz")
    loaded = SentimentModel.load(tmp_path / "m.npz")
    assert loaded.embedding is None and loaded.gru.reset_after
    np.testing.assert_array_equal(loaded.gru.b_hn, model.gru.b_hn)


def test_clip_by_global_norm_keeps_direction():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == 5.0 and global_norm(clipped) == pytest.approx(1.0)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])  # the input is untouched
    same, _ = clip_by_global_norm(grads, 10.0)
    np.testing.assert_array_equal(same["b"], grads["b"])
    with pytest.raises(ValueError, match="NaN"):
        clip_by_global_norm({"a": np.array([np.nan])}, 1.0)


@pytest.mark.parametrize("opt", [SGD(lr=0.1), SGD(lr=0.1, momentum=0.9), Adam(lr=0.1)])
def test_optimisers_minimise_a_quadratic(opt):
    params = {"w": np.array([3.0, -2.0])}
    for _ in range(300):
        opt.step(params, {"w": 2 * params["w"]})
    assert np.linalg.norm(params["w"]) < 1e-2


def test_first_sgd_and_adam_steps():
    p = {"w": np.array([1.0])}
    SGD(lr=0.1).step(p, {"w": np.array([2.0])})
    assert p["w"][0] == pytest.approx(0.8)
    p = {"w": np.array([1.0])}
    Adam(lr=0.1).step(p, {"w": np.array([-123.0])})
    assert p["w"][0] == pytest.approx(1.1)  # Adam's first step has size lr whatever the scale

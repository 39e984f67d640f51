"""Training on the seed's sentiment data, the model's API, optimisers and saving."""

import numpy as np
import pytest

from gru_lib.data import TEST_DATA, TRAIN_DATA, Vocabulary
from gru_lib.gradcheck import check_gradients
from gru_lib.model import SentimentModel
from gru_lib.optim import SGD, Adam, clip_by_global_norm, global_norm
from gru_lib.train import train_sentiment


@pytest.fixture(scope="module")
def trained():
    return train_sentiment()


def test_reaches_full_train_and_test_accuracy(trained):
    model, history = trained
    assert history.train_accuracy[-1] == 1.0
    assert history.test_accuracy[-1] == 1.0
    assert model.accuracy(TRAIN_DATA) == 1.0 and model.accuracy(TEST_DATA) == 1.0
    assert history.loss[-1] < 0.05 < history.loss[0]
    assert history.loss[0] == pytest.approx(np.log(2), rel=0.05)  # the head starts at zero


@pytest.mark.parametrize("kwargs", [dict(reset_after=True), dict(embedding_size=None),
                                    dict(batch_size=8, epochs=30)])
def test_other_settings_also_learn(kwargs):
    model, history = train_sentiment(**kwargs)
    assert history.train_accuracy[-1] == 1.0
    assert history.test_accuracy[-1] >= 0.95


def test_same_seed_same_model_other_seed_other_model(trained):
    model, history = trained
    again, history_again = train_sentiment()
    assert history.loss == history_again.loss
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(again.parameters()[name], value)
    other, _ = train_sentiment(seed=1, epochs=1)
    assert not np.array_equal(other.head_w, model.head_w)


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


@pytest.mark.parametrize("reset_after", [False, True])
@pytest.mark.parametrize("embedding_size", [5, None])
def test_model_gradients(reset_after, embedding_size):
    vocab = Vocabulary.from_sentences(TRAIN_DATA)
    model = SentimentModel.create(vocab, hidden_size=4, embedding_size=embedding_size,
                                  reset_after=reset_after, rng=3)
    rng = np.random.default_rng(4)
    for value in model.parameters().values():
        value[...] = rng.uniform(-0.5, 0.5, value.shape)
    sentences = ["i am not bad", "good", "this was very sad earlier", "not not good"]
    labels = np.array([1.0, 1.0, 0.0, 0.0])
    _, grads = model.loss_and_gradients(sentences, labels)
    report = check_gradients(lambda: model.loss_and_gradients(sentences, labels)[0],
                             model.parameters(), grads)
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

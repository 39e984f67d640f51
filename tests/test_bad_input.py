"""Bad input gets a clear ValueError or TypeError that names the problem.

The checks of a layer's arrays run for every recurrent layer (the GRU and the RNN).
"""

import zipfile

import numpy as np
import pytest
from helpers import LAYERS, random_problem

from gru_lib.data import TEST_DATA, TRAIN_DATA, Vocabulary, tokenize
from gru_lib.gru import GRUParams, gru_forward, init_gru_params
from gru_lib.model import SentimentModel
from gru_lib.train import train_sentiment


@pytest.fixture(scope="module")
def vocab():
    return Vocabulary.from_sentences(TRAIN_DATA)


@pytest.fixture(scope="module")
def model():
    return train_sentiment(epochs=3)[0]


def test_data_is_the_seed_data():
    assert len(TRAIN_DATA) == 58 and len(TEST_DATA) == 20
    assert sum(TRAIN_DATA.values()) == 26 and sum(TEST_DATA.values()) == 10
    assert TRAIN_DATA["i am not at all bad or sad right now"] is True
    assert TEST_DATA["i was not happy and not good earlier"] is False
    assert not set(TRAIN_DATA) & set(TEST_DATA)


def test_encoding_pads_and_masks(vocab):
    ids, mask = vocab.encode(["good", "this is not good"])
    assert ids.shape == mask.shape == (4, 2)
    np.testing.assert_array_equal(mask[:, 0], [1, 0, 0, 0])
    assert ids[1, 0] == 0 and vocab.words[ids[3, 1]] == "good"
    assert len(vocab) == 19  # 18 words and the padding index


def test_unknown_words_are_listed(vocab, model):
    with pytest.raises(ValueError, match="unknown word.*fantastic, terrible"):
        vocab.encode(["this is terrible", "fantastic"])
    with pytest.raises(ValueError, match="unknown word.*great"):
        model.predict_proba(["this is great"])


@pytest.mark.parametrize("bad", ["", "   ", "?!"])
def test_empty_sentences(vocab, bad):
    with pytest.raises(ValueError, match="empty"):
        vocab.encode(["good", bad])


@pytest.mark.parametrize("bad", [None, 3, b"good", ["good"]])
def test_non_string_items(vocab, bad):
    with pytest.raises(TypeError, match="must be a str"):
        vocab.encode(["good", bad])


def test_a_bare_string_or_no_sentences(vocab, model):
    with pytest.raises(TypeError, match="list of sentences"):
        vocab.encode("good")
    with pytest.raises(TypeError, match="list of sentences"):
        model.predict_proba("good")
    with pytest.raises(ValueError, match="at least one"):
        vocab.encode([])


def test_tokenize_ignores_case_and_punctuation():
    assert tokenize("This is GOOD!") == ["this", "is", "good"]


def test_bad_training_data():
    with pytest.raises(ValueError, match="non-empty dict"):
        train_sentiment({})
    with pytest.raises(TypeError, match="must be a bool"):
        train_sentiment({"good": "yes"})
    with pytest.raises(ValueError, match="unknown word.*superb"):
        train_sentiment(test_data={"superb": True})


@pytest.fixture(params=LAYERS)
def layer(request):
    return request.param


@pytest.fixture()
def problem(layer):
    return random_problem(4, 3, 2, 5, init=layer.init, seed=0)


def test_wrong_shapes(layer, problem):
    params, xs, h0 = problem
    with pytest.raises(ValueError, match=r"xs must be a 3-D array \(T, B, D\)"):
        layer.forward(xs[0], h0, params)
    with pytest.raises(ValueError, match=r"xs must have shape \(4, 3, 2\)"):
        layer.forward(np.zeros((4, 3, 7)), h0, params)
    with pytest.raises(ValueError, match=r"h0 must have shape \(3, 5\)"):
        layer.forward(xs, h0[:2], params)
    with pytest.raises(ValueError, match="at least one step"):
        layer.forward(xs[:0], h0, params)
    with pytest.raises(ValueError, match=r"x must be a 2-D array \(B, D\)"):
        layer.step_forward(xs, h0, params)
    with pytest.raises(ValueError, match=r"x must have shape \(3, 2\)"):
        layer.step_forward(np.zeros((3, 4)), h0, params)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(3, 5\)"):
        layer.step_forward(xs[0], h0[:, :4], params)
    _, cache = layer.forward(xs, h0, params)
    with pytest.raises(ValueError, match=r"dhs must have shape \(4, 3, 5\)"):
        layer.backward(np.zeros((4, 3, 4)), cache)
    _, step_cache = layer.step_forward(xs[0], h0, params)
    with pytest.raises(ValueError, match=r"dh must have shape \(3, 5\)"):
        layer.step_backward(np.zeros((3, 4)), step_cache)
    with pytest.raises(ValueError, match=r"dh must have shape \(3, 5\)"):
        layer.step_backward(np.zeros((1, 5)), step_cache)  # would broadcast silently


def test_wrong_dtypes(layer, problem):
    params, xs, h0 = problem
    with pytest.raises(TypeError, match="xs has dtype float32, but the parameters are float64"):
        layer.forward(xs.astype(np.float32), h0, params)
    with pytest.raises(TypeError, match="xs has dtype int64"):
        layer.forward(xs.astype(np.int64), h0, params)
    with pytest.raises(TypeError, match="must be a NumPy array"):
        layer.forward(xs.tolist(), h0, params)
    with pytest.raises(TypeError, match="h_prev has dtype float32"):
        layer.step_forward(xs[0], h0.astype(np.float32), params)
    with pytest.raises(TypeError, match="float32 or float64"):
        layer.init(2, 3, dtype=np.int32)
    arrays = params.arrays()
    arrays["W_hh"] = arrays["W_hh"].astype(np.float32)
    with pytest.raises(TypeError, match="W_hh has dtype float32"):
        layer.params_class(**arrays)
    with pytest.raises(TypeError, match="float32 or float64"):
        layer.params_class(**{n: a.astype(np.int64) for n, a in params.arrays().items()})
    arrays = params.arrays()
    arrays["W_hh"] = arrays["W_hh"].tolist()
    with pytest.raises(TypeError, match="must be a NumPy array"):
        layer.params_class(**arrays)
    with pytest.raises(TypeError, match=f"params must be {layer.params_class.__name__} "
                                        "parameters"):
        layer.forward(xs, h0, params.arrays())


def test_nan_inputs(layer, problem):
    params, xs, h0 = problem
    bad = xs.copy()
    bad[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match="xs contains NaN"):
        layer.forward(bad, h0, params)
    with pytest.raises(ValueError, match="h0 contains NaN"):
        layer.forward(xs, np.full_like(h0, np.inf), params)
    with pytest.raises(ValueError, match="x contains NaN"):
        layer.step_forward(bad[2], h0, params)
    broken = params.copy()
    broken.W_hh[0, 0] = np.nan
    with pytest.raises(ValueError, match="W_hh contains NaN"):
        layer.forward(xs, h0, broken)
    _, cache = layer.forward(xs, h0, params)
    with pytest.raises(ValueError, match="dhs contains NaN"):
        layer.backward(np.full((4, 3, 5), np.nan), cache)
    _, step_cache = layer.step_forward(xs[0], h0, params)
    with pytest.raises(ValueError, match="dh contains NaN"):
        layer.step_backward(np.full((3, 5), np.nan), step_cache)


def test_bad_masks(layer, problem):
    params, xs, h0 = problem
    with pytest.raises(ValueError, match=r"mask must have shape \(T, B\) = \(4, 3\)"):
        layer.forward(xs, h0, params, np.ones((3, 4)))
    with pytest.raises(ValueError, match="only 0"):
        layer.forward(xs, h0, params, np.full((4, 3), 0.5))


def test_gru_parameter_nan():
    params, xs, h0 = random_problem(4, 3, 2, 5, seed=0)
    broken = params.copy()
    broken.W_hz[0, 0] = np.nan
    with pytest.raises(ValueError, match="W_hz contains NaN"):
        gru_forward(xs, h0, broken)


def test_bad_params():
    with pytest.raises(ValueError, match="needs the recurrent candidate bias b_hn"):
        init_gru_params(2, 3, reset_after=False).__class__(
            **init_gru_params(2, 3).arrays(), reset_after=True)
    arrays = init_gru_params(2, 3).arrays()
    arrays["W_hr"] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"W_hr must have shape \(3, 3\)"):
        GRUParams(**arrays)
    with pytest.raises(ValueError, match="positive integer"):
        init_gru_params(0, 3)
    with pytest.raises(ValueError, match=r"weight_hh must have shape \(9, 3\)"):
        GRUParams.from_torch_layout(np.zeros((9, 2)), np.zeros((9, 4)), np.zeros(9), np.zeros(9),
                                    reset_after=True)


def test_corrupted_model_file(model, tmp_path):
    path = tmp_path / "model.npz"
    model.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a saved SentimentModel"):
        SentimentModel.load(path)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a saved SentimentModel"):
        SentimentModel.load(text)
    with pytest.raises(FileNotFoundError):
        SentimentModel.load(tmp_path / "missing.npz")


def rewrite(path, change):
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    change(arrays)
    np.savez(path, **arrays)


def test_mismatched_model_files(model, tmp_path):
    path = tmp_path / "model.npz"
    cases = {
        "missing param.head_w": lambda a: a.pop("param.head_w"),
        "format version": lambda a: a.update(format_version=np.array(99)),
        r"gru.W_hh must have shape|W_hh must have shape": lambda a: a.update(
            {"param.gru.W_hh": np.zeros((3, 3))}),
        "embedding must be": lambda a: a.update(words=a["words"][:-1]),
        "contains NaN": lambda a: a.update({"param.head_w": np.full_like(a["param.head_w"],
                                                                         np.nan)}),
    }
    for message, change in cases.items():
        model.save(path)
        rewrite(path, change)
        with pytest.raises(ValueError, match=message):
            SentimentModel.load(path)


def test_pickled_objects_are_refused(model, tmp_path):
    path = tmp_path / "model.npz"
    model.save(path)
    rewrite(path, lambda a: a.update(words=np.array([{"a": 1}], dtype=object)))
    with pytest.raises(ValueError, match="not a saved SentimentModel"):
        SentimentModel.load(path)


def test_save_failure_keeps_the_old_file(model, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    model.save(path)
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    assert zipfile.is_zipfile(path)

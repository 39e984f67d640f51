"""Bad input gets a clear ValueError or TypeError that names the problem.

The checks of a layer's arrays run for every recurrent layer (the GRU's two paths and the
RNN). One rule holds everywhere (gru_lib.checks): TypeError for a value of the wrong type
(``True`` or ``8.0`` as a size), ValueError for a wrong value; a NumPy integer is an integer.
"""

import zipfile

import numpy as np
import pytest
from helpers import GRU_PATHS, LAYERS, gru_functions, random_problem

from gru_lib.adding import init_adding_model, make_adding_problem, train_adding
from gru_lib.data import TEST_DATA, TRAIN_DATA, Vocabulary, tokenize
from gru_lib.layers import Layer
from gru_lib.model import SentimentModel
from gru_lib.params import GRUParams, init_gru_params, init_rnn_params
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
    with pytest.raises(ValueError, match="at least one step and one sequence"):
        layer.forward(xs[:, :0], h0[:0], params)
    _, cache = layer.forward(xs, h0, params)
    with pytest.raises(ValueError, match=r"dhs must have shape \(4, 3, 5\)"):
        layer.backward(np.zeros((4, 3, 4)), cache)
    with pytest.raises(ValueError, match=r"dhs must have shape \(4, 3, 5\)"):
        layer.backward(np.zeros((1, 3, 5)), cache)  # would broadcast silently
    if layer.step_forward is None:  # the fast path has sequence functions only
        return
    with pytest.raises(ValueError, match=r"x must be a 2-D array \(B, D\)"):
        layer.step_forward(xs, h0, params)
    with pytest.raises(ValueError, match=r"x must have shape \(3, 2\)"):
        layer.step_forward(np.zeros((3, 4)), h0, params)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(3, 5\)"):
        layer.step_forward(xs[0], h0[:, :4], params)
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
    with pytest.raises(TypeError, match="h0 has dtype float32"):
        layer.forward(xs, h0.astype(np.float32), params)
    _, cache = layer.forward(xs, h0, params)
    with pytest.raises(TypeError, match="dhs has dtype float32"):
        layer.backward(np.zeros((4, 3, 5), np.float32), cache)
    if layer.step_forward is not None:
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
    broken = params.copy()
    broken.W_hh[0, 0] = np.nan
    with pytest.raises(ValueError, match="W_hh contains NaN"):
        layer.forward(xs, h0, broken)
    _, cache = layer.forward(xs, h0, params)
    with pytest.raises(ValueError, match="dhs contains NaN"):
        layer.backward(np.full((4, 3, 5), np.nan), cache)
    if layer.step_forward is None:
        return
    with pytest.raises(ValueError, match="x contains NaN"):
        layer.step_forward(bad[2], h0, params)
    _, step_cache = layer.step_forward(xs[0], h0, params)
    with pytest.raises(ValueError, match="dh contains NaN"):
        layer.step_backward(np.full((3, 5), np.nan), step_cache)


def test_bad_masks(layer, problem):
    params, xs, h0 = problem
    with pytest.raises(ValueError, match=r"mask must have shape \(T, B\) = \(4, 3\)"):
        layer.forward(xs, h0, params, np.ones((3, 4)))
    with pytest.raises(ValueError, match="only 0"):
        layer.forward(xs, h0, params, np.full((4, 3), 0.5))
    with pytest.raises(ValueError, match="only 0"):
        layer.forward(xs, h0, params, np.full((4, 3), np.nan))
    with pytest.raises(TypeError, match="mask must hold numbers"):
        layer.forward(xs, h0, params, np.full((4, 3), "1"))


def test_wrong_parameter_type(layer, problem):
    params, xs, h0 = problem
    other = init_rnn_params(2, 5) if layer.params_class is GRUParams else init_gru_params(2, 5)
    with pytest.raises(TypeError, match=f"params must be {layer.params_class.__name__} "
                                        f"parameters, got {type(other).__name__}"):
        layer.forward(xs, h0, other)


@pytest.mark.parametrize("path", GRU_PATHS)
def test_gru_parameter_nan(path):
    forward, _ = gru_functions(path)
    params, xs, h0 = random_problem(4, 3, 2, 5, seed=0)
    broken = params.copy()
    broken.W_hz[0, 0] = np.nan
    with pytest.raises(ValueError, match="W_hz contains NaN"):
        forward(xs, h0, broken)


def test_bad_params():
    with pytest.raises(ValueError, match="needs the recurrent candidate bias b_hn"):
        init_gru_params(2, 3, reset_after=False).__class__(
            **init_gru_params(2, 3).arrays(), reset_after=True)
    arrays = init_gru_params(2, 3).arrays()
    arrays["W_hr"] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"W_hr must have shape \(3, 3\)"):
        GRUParams(**arrays)
    with pytest.raises(ValueError, match="input_size must be >= 1"):
        init_gru_params(0, 3)
    with pytest.raises(ValueError, match="b_hn is only used with reset_after=True"):
        GRUParams(**init_gru_params(2, 3, reset_after=True).arrays(), reset_after=False)
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


# Each message names what is wrong (the file format may change: only the name is checked).
@pytest.mark.parametrize("message, change", [
    pytest.param("head_w", lambda a: a.pop("param.head_w"), id="missing-head_w"),
    pytest.param("version", lambda a: a.update(format_version=np.array(99)), id="version-99"),
    pytest.param("W_hh", lambda a: a.update({"param.gru.W_hh": np.zeros((3, 3))}),
                 id="W_hh-shape"),
    pytest.param("embedding", lambda a: a.update({"param.embedding": a["param.embedding"][:-1]}),
                 id="embedding-row-missing"),
    pytest.param("head_w", lambda a: a.update({"param.head_w": np.full_like(a["param.head_w"],
                                                                           np.nan)}),
                 id="head_w-nan"),
    pytest.param("head_b", lambda a: a.update({"param.head_b": np.zeros(1, np.int64)}),
                 id="head_b-int"),
    pytest.param("W_hz", lambda a: a.pop("param.gru.W_hz"), id="missing-W_hz"),
])
def test_mismatched_model_files(model, tmp_path, message, change):
    path = tmp_path / "model.npz"
    model.save(path)
    rewrite(path, change)
    with pytest.raises(ValueError, match=message):
        SentimentModel.load(path)


def test_pickled_objects_are_refused(model, tmp_path):
    path = tmp_path / "model.npz"
    model.save(path)
    rewrite(path, lambda a: a.update({"param.head_w": np.array([{"a": 1}], dtype=object)}))
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


# -- one rule for sizes and counts everywhere --------------------------------------------------

VOCAB = Vocabulary.from_sentences(TRAIN_DATA)
SMALL_SENTIMENT = dict(hidden_size=4, embedding_size=3, epochs=1, fast_path=True)
SMALL_ADDING = dict(hidden_size=3, updates=2, batch_size=4, eval_every=2, n_eval=4)


def _sentiment(**kwargs):
    return train_sentiment(**dict(SMALL_SENTIMENT, **kwargs))


def _adding(seq_len=4, **kwargs):
    return train_adding("gru_fast", seq_len, **dict(SMALL_ADDING, **kwargs))


# Where a size or a count is given, and what to read of the result to see which value was used.
SIZE_SITES = {
    "init_gru_params(input_size)": (lambda v: init_gru_params(v, 3),
                                    lambda p: p.input_size),
    "init_gru_params(hidden_size)": (lambda v: init_gru_params(3, v),
                                     lambda p: p.hidden_size),
    "init_rnn_params(input_size)": (lambda v: init_rnn_params(v, 3),
                                    lambda p: p.input_size),
    "init_rnn_params(hidden_size)": (lambda v: init_rnn_params(3, v),
                                     lambda p: p.hidden_size),
    **{f"Layer.create({kind}, {axis})": (
        (lambda v, kind=kind, axis=axis: Layer.create(kind, *((v, 3) if axis == "input_size"
                                                              else (3, v)))),
        (lambda layer, axis=axis: getattr(layer, axis)))
       for kind in ("gru", "gru_fast", "rnn") for axis in ("input_size", "hidden_size")},
    "SentimentModel.create(hidden_size)": (
        lambda v: SentimentModel.create(VOCAB, hidden_size=v, embedding_size=3),
        lambda m: m.gru.hidden_size),
    "SentimentModel.create(embedding_size)": (
        lambda v: SentimentModel.create(VOCAB, hidden_size=3, embedding_size=v),
        lambda m: m.embedding.shape[1]),
    "train_sentiment(epochs)": (lambda v: _sentiment(epochs=v), lambda r: r[1].epochs),
    "train_sentiment(hidden_size)": (lambda v: _sentiment(hidden_size=v),
                                     lambda r: r[0].gru.hidden_size),
    "train_sentiment(embedding_size)": (lambda v: _sentiment(embedding_size=v),
                                        lambda r: r[0].gru.input_size),
    "train_sentiment(batch_size)": (lambda v: _sentiment(batch_size=v),
                                    lambda r: r[1].updates),
    "make_adding_problem(n)": (lambda v: make_adding_problem(v, 5, rng=0),
                               lambda r: r[0].shape[1]),
    "make_adding_problem(seq_len)": (lambda v: make_adding_problem(3, v, rng=0),
                                     lambda r: r[0].shape[0]),
    "init_adding_model(hidden_size)": (lambda v: init_adding_model("gru", v),
                                       lambda m: m.layer.hidden_size),
    "train_adding(seq_len)": (lambda v: _adding(seq_len=v), lambda h: h.info["seq_len"]),
    "train_adding(hidden_size)": (lambda v: _adding(hidden_size=v),
                                  lambda h: h.info["model"].layer.hidden_size),
    "train_adding(updates)": (lambda v: _adding(updates=v, eval_every=1),
                              lambda h: h.updates[-1]),
    "train_adding(batch_size)": (lambda v: _adding(batch_size=v),
                                 lambda h: h.loss),
    "train_adding(eval_every)": (lambda v: _adding(updates=16, eval_every=v),
                                 lambda h: h.updates[0]),
    "train_adding(n_eval)": (lambda v: _adding(n_eval=v), lambda h: h.info["baseline"]),
}
SIZE_VALUES = [
    pytest.param(True, id="True"),
    pytest.param(np.True_, id="np.True_"),
    pytest.param(8.0, id="8.0"),
    pytest.param(np.float64(8.0), id="np.float64(8.0)"),
    pytest.param("8", id="'8'"),
]


@pytest.mark.parametrize("value", SIZE_VALUES)
@pytest.mark.parametrize("site", list(SIZE_SITES))
def test_a_size_of_the_wrong_type_is_a_type_error(site, value):
    call, _ = SIZE_SITES[site]
    with pytest.raises(TypeError, match="must be an integer"):
        call(value)


@pytest.mark.parametrize("site", list(SIZE_SITES))
def test_a_numpy_integer_is_a_size(site):
    call, read = SIZE_SITES[site]
    got = read(call(np.int64(8)))
    assert got == read(call(8))  # exactly what the int 8 gives
    if isinstance(got, int):
        assert got == 8


@pytest.mark.parametrize("site", ["init_gru_params(hidden_size)", "Layer.create(rnn, input_size)",
                                  "SentimentModel.create(hidden_size)", "train_sentiment(epochs)",
                                  "make_adding_problem(n)", "train_adding(updates)"])
def test_a_size_of_zero_is_a_value_error(site):
    call, _ = SIZE_SITES[site]
    with pytest.raises(ValueError, match="must be >= 1"):
        call(0)


@pytest.mark.parametrize("call", [
    pytest.param(lambda: train_sentiment(seed=None), id="train_sentiment-None"),
    pytest.param(lambda: train_sentiment(seed=True), id="train_sentiment-True"),
    pytest.param(lambda: train_sentiment(seed=1.0), id="train_sentiment-1.0"),
    pytest.param(lambda: _adding(seed=None), id="train_adding-None"),
    pytest.param(lambda: _adding(seed=True), id="train_adding-True"),
    pytest.param(lambda: make_adding_problem(3, 5, rng=None), id="make_adding_problem-None"),
    pytest.param(lambda: init_gru_params(2, 3, rng=True), id="init_gru_params-True"),
])
def test_a_seed_of_the_wrong_type_is_a_type_error(call):
    with pytest.raises(TypeError, match="must be an integer"):
        call()


# -- torch's layout ----------------------------------------------------------------------------


def _torch_arrays(d=4, h=6):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((3 * h, d)), rng.standard_normal((3 * h, h)),
            rng.standard_normal(3 * h), rng.standard_normal(3 * h))


@pytest.mark.parametrize("reset_after", [
    pytest.param("no", id="'no'"), pytest.param(0, id="0"), pytest.param(None, id="None"),
    pytest.param(1.0, id="1.0")])
def test_torch_layout_reset_after_must_be_a_bool(reset_after):
    with pytest.raises(TypeError, match="reset_after must be True or False"):
        GRUParams.from_torch_layout(*_torch_arrays(), reset_after=reset_after)


def test_torch_layout_takes_numpy_bools():
    assert GRUParams.from_torch_layout(*_torch_arrays(), reset_after=np.True_).reset_after


@pytest.mark.parametrize("d, h", [pytest.param(4, 6, id="D=4,H=6"),
                                  pytest.param(3, 5, id="D=3,H=5"),
                                  pytest.param(6, 4, id="D=6,H=4")])
def test_a_transposed_weight_ih_is_named(d, h):
    weight_ih, weight_hh, bias_ih, bias_hh = _torch_arrays(d, h)
    with pytest.raises(ValueError, match="weight_ih"):
        GRUParams.from_torch_layout(weight_ih.T, weight_hh, bias_ih, bias_hh, reset_after=True)


@pytest.mark.parametrize("bad, error", [
    pytest.param(lambda a: (a[0].tolist(), *a[1:]), TypeError, id="weight_ih-list"),
    pytest.param(lambda a: (a[0], a[1][:, :5], *a[2:]), ValueError, id="weight_hh-shape"),
    pytest.param(lambda a: (*a[:2], a[2][:17], a[3]), ValueError, id="bias_ih-shape"),
    pytest.param(lambda a: (*a[:3], a[3][None]), ValueError, id="bias_hh-2d"),
    pytest.param(lambda a: (a[0][:0], *a[1:]), ValueError, id="weight_ih-empty"),
])
def test_bad_torch_arrays(bad, error):
    with pytest.raises(error):
        GRUParams.from_torch_layout(*bad(_torch_arrays()), reset_after=True)


# -- labels and token ids ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model():
    return SentimentModel.create(VOCAB, hidden_size=3, embedding_size=2, rng=0)


@pytest.mark.parametrize("labels, error", [
    pytest.param([1.0, 2.0], ValueError, id="2"),
    pytest.param([-1.0, 0.0], ValueError, id="-1"),
    pytest.param([0.5, 1.0], ValueError, id="0.5"),
    pytest.param([np.nan, 1.0], ValueError, id="nan"),
    pytest.param([1.0], ValueError, id="too-few"),
    pytest.param(["yes", "no"], TypeError, id="strings"),
])
def test_bad_labels(small_model, labels, error):
    with pytest.raises(error, match="targets"):
        small_model.loss(["good", "not bad"], np.array(labels))


def test_good_labels(small_model):
    for labels in ([True, False], np.array([1, 0]), np.array([1.0, 0.0], np.float32)):
        loss, _ = small_model.loss(["good", "not bad"], labels)
        assert loss == pytest.approx(np.log(2))  # the head starts at zero


@pytest.mark.parametrize("change, error", [
    pytest.param(lambda ids: ids - 1, ValueError, id="id=-1"),
    pytest.param(lambda ids: ids + len(VOCAB), ValueError, id="id>=V"),
    pytest.param(lambda ids: np.full_like(ids, len(VOCAB)), ValueError, id="id=V"),
    pytest.param(lambda ids: ids.astype(np.float64), TypeError, id="float-ids"),
    pytest.param(lambda ids: ids[:, 0], ValueError, id="1-d-ids"),
])
@pytest.mark.parametrize("fast_path", [False, True], ids=["reference", "fast"])
def test_bad_token_ids(change, error, fast_path):
    model = SentimentModel.create(VOCAB, hidden_size=3, embedding_size=2, rng=0,
                                  fast_path=fast_path)
    ids, mask = VOCAB.encode(["good", "this is not bad"])
    model.forward(ids, mask)
    with pytest.raises(error, match="token ids"):
        model.forward(change(ids), mask)


def test_token_ids_of_one_hot_inputs_are_checked_too():
    model = SentimentModel.create(VOCAB, hidden_size=3, embedding_size=None, rng=0)
    ids, mask = VOCAB.encode(["good"])
    with pytest.raises(ValueError, match=rf"token ids must lie in \[0, {len(VOCAB)}\)"):
        model.forward(ids + len(VOCAB), mask)

"""The vocabulary, the figures and the widgets refuse bad input with a message naming it."""

import matplotlib

matplotlib.use("Agg")

from types import SimpleNamespace  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gru_lib.data import TRAIN_DATA, Vocabulary, split_labelled  # noqa: E402
from gru_lib.plots import (  # noqa: E402
    hidden_state_pca,
    plot_gate_heatmaps,
    plot_hidden_trajectories,
    plot_training_history,
)
from gru_lib.widgets import activation_explorer, sentence_explorer  # noqa: E402

# -- the vocabulary --------------------------------------------------------------------------


@pytest.mark.parametrize("words, error, message", [
    pytest.param("bad", TypeError, "not a single str", id="bare-str"),
    pytest.param(b"bad", TypeError, "not a single bytes", id="bytes"),
    pytest.param({"good", "bad"}, TypeError, "not a set", id="set"),
    pytest.param(5, TypeError, "iterable", id="int"),
    pytest.param(["good", 3], TypeError, "word 1 must be a str", id="int-word"),
    pytest.param([None], TypeError, "word 0 must be a str", id="none-word"),
    pytest.param([b"good"], TypeError, "must be a str", id="bytes-word"),
    pytest.param([""], ValueError, "empty string", id="empty-word"),
    pytest.param(["Good"], ValueError, "'Good'.*would give \\['good'\\]", id="capital"),
    pytest.param(["good!"], ValueError, "'good!'", id="punctuation"),
    pytest.param(['"good"'], ValueError, "not a word as tokenize", id="quotes"),
    pytest.param(["very good"], ValueError, "'very good'", id="two-words"),
    pytest.param([" good"], ValueError, "' good'", id="space"),
    pytest.param(["?!"], ValueError, "'\\?!'", id="only-punctuation"),
    pytest.param(["<pad>"], ValueError, "reserved", id="pad"),
    pytest.param(["good", "bad", "good"], ValueError, "repeated words: good", id="repeated"),
])
def test_bad_vocabularies(words, error, message):
    with pytest.raises(error, match=message):
        Vocabulary(words)


def test_good_vocabularies_and_unchanged_encoding():
    built = Vocabulary.from_sentences(TRAIN_DATA)
    by_hand = Vocabulary(built.words[1:])
    ids, mask = by_hand.encode(["this is not good", "good"])
    ref_ids, ref_mask = built.encode(["this is not good", "good"])
    assert np.array_equal(ids, ref_ids) and np.array_equal(mask, ref_mask)
    assert ids.dtype == np.int64 and mask.dtype == np.float64
    assert Vocabulary(w for w in ["don't", "café"]).words == ["<pad>", "don't", "café"]
    assert Vocabulary({"good": 1, "bad": 0}).words == ["<pad>", "good", "bad"]


@pytest.mark.parametrize("call", [
    pytest.param(lambda: Vocabulary.from_sentences("this is good"), id="from_sentences"),
    pytest.param(lambda: Vocabulary(["good"]).unknown_words("this is good"), id="unknown_words"),
])
def test_a_bare_sentence_is_not_a_list_of_sentences(call):
    with pytest.raises(TypeError, match="list of sentences"):
        call()


@pytest.mark.parametrize("data, error, message", [
    pytest.param(["good"], TypeError, "must be a non-empty dict", id="list"),
    pytest.param({}, ValueError, "non-empty dict", id="empty"),
    pytest.param({3: True}, TypeError, "sentence must be a str", id="int-sentence"),
    pytest.param({"good": 1}, TypeError, "must be a bool", id="int-label"),
])
def test_bad_labelled_data(data, error, message):
    with pytest.raises(error, match=message):
        split_labelled(data)


# -- figures ---------------------------------------------------------------------------------


def fake_trace(words=("this", "is", "good"), hidden=4, seed=0, **changes):
    rng = np.random.default_rng(seed)
    t = len(words)
    trace = SimpleNamespace(words=list(words), z=rng.uniform(0, 1, (t, hidden)),
                            r=rng.uniform(0, 1, (t, hidden)),
                            h_tilde=rng.uniform(-1, 1, (t, hidden)),
                            h=rng.uniform(-1, 1, (t, hidden)), probability=0.7)
    vars(trace).update(changes)
    return trace


@pytest.mark.parametrize("units, error, message", [
    pytest.param([], ValueError, "units is empty", id="empty"),
    pytest.param([0, 4], ValueError, r"in \[0, 4\).*\[4\]", id="too-large"),
    pytest.param([-1], ValueError, r"in \[0, 4\).*\[-1\]", id="negative"),
    pytest.param([[0, 1]], ValueError, "1-D", id="2-d"),
    pytest.param([True, False, True, False], TypeError, "integer", id="bool-mask"),
    pytest.param([0.0, 1.0], TypeError, "integer", id="floats"),
])
def test_gate_heatmaps_refuse_bad_units(units, error, message):
    with pytest.raises(error, match=message):
        plot_gate_heatmaps(fake_trace(), units=units)


@pytest.mark.parametrize("trace, title, error, message", [
    pytest.param(None, None, TypeError, "GateTrace", id="none"),
    pytest.param(fake_trace(words=()), None, ValueError, "no words", id="no-words"),
    pytest.param(fake_trace(h=np.zeros((2, 4))), None, ValueError, r"trace.h has shape \(2, 4\)",
                 id="rows-not-words"),
    pytest.param(fake_trace(r=np.zeros((3, 5))), None, ValueError, "trace.r", id="other-h"),
    pytest.param(fake_trace(z=[[0.5]] * 3), None, TypeError, "trace.z", id="list-gate"),
    pytest.param(fake_trace(), 3, TypeError, "title", id="title-int"),
])
def test_gate_heatmaps_refuse_bad_traces(trace, title, error, message):
    with pytest.raises(error, match=message):
        plot_gate_heatmaps(trace, title=title)


def test_gate_heatmaps_label_a_subset_with_its_units():
    fig = plot_gate_heatmaps(fake_trace(), units=[3, 1])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["3", "1"]
    plt.close(fig)


def history(loss=(0.7, 0.5), train=(0.5, 0.75), test=(0.5, 0.5)):
    return SimpleNamespace(loss=list(loss), train_accuracy=list(train),
                           test_accuracy=list(test), epochs=len(loss))


@pytest.mark.parametrize("value, error, message", [
    pytest.param(history((), (), ()), ValueError, "no epochs", id="empty"),
    pytest.param(history(train=(0.5,)), ValueError, "one entry per epoch", id="lengths"),
    pytest.param(SimpleNamespace(loss=[1.0]), TypeError, "TrainingHistory", id="not-history"),
])
def test_training_history_refuses(value, error, message):
    with pytest.raises(error, match=message):
        plot_training_history(value)


@pytest.mark.parametrize("traces, n, error, message", [
    pytest.param([], 2, ValueError, "traces is empty", id="no-traces"),
    pytest.param(fake_trace(), 2, TypeError, "list of GateTrace", id="not-a-list"),
    pytest.param([fake_trace(hidden=1)], 2, ValueError, "at most 1", id="more-than-hidden"),
    pytest.param([fake_trace(words=("good",))], 2, ValueError, "at most 1", id="one-state"),
    pytest.param([fake_trace()], 0, ValueError, "n_components", id="zero"),
    pytest.param([fake_trace()], 2.0, TypeError, "n_components", id="float"),
    pytest.param([fake_trace(), fake_trace(hidden=5)], 2, ValueError, "one hidden size",
                 id="two-sizes"),
    pytest.param([fake_trace(h=np.ones((3, 4)))], 2, ValueError, "do not vary", id="constant"),
    pytest.param([fake_trace(h=np.full((3, 4), np.nan))], 2, ValueError, "NaN", id="nan"),
])
def test_pca_refuses(traces, n, error, message):
    with pytest.raises(error, match=message):
        hidden_state_pca(traces, n)


TWO = [fake_trace(("this", "is", "good"), seed=1), fake_trace(("not", "good"), seed=2)]


@pytest.mark.parametrize("labels, annotate, error, message", [
    pytest.param([True], (), ValueError, "one label per trace", id="too-few-labels"),
    pytest.param([True, 0.5], (), ValueError, r"labels\[1\]", id="label-half"),
    pytest.param([True, "no"], (), TypeError, r"labels\[1\] must be a bool", id="label-str"),
    pytest.param("ab", (), TypeError, "labels must be a list", id="labels-str"),
    pytest.param([True, False], "this is good", TypeError, "annotate must be a list",
                 id="annotate-str"),
    pytest.param([True, False], ["this is bad"], ValueError, "not among the traces",
                 id="annotate-unknown"),
])
def test_trajectories_refuse(labels, annotate, error, message):
    with pytest.raises(error, match=message):
        plot_hidden_trajectories(TWO, labels, annotate=annotate)


def test_trajectories_accept_float_labels_and_read_annotations_like_sentences():
    fig = plot_hidden_trajectories(TWO, np.array([1.0, 0.0]), annotate=["This is GOOD!"])
    assert {t.get_text() for t in fig.axes[0].texts} == {"this", "is", "good"}
    plt.close(fig)


# -- widgets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("initial, error, message", [
    pytest.param(20.0, ValueError, r"within the slider's range \[-8, 8\]", id="above"),
    pytest.param(-8.5, ValueError, "within the slider's range", id="below"),
    pytest.param(np.nan, ValueError, "finite", id="nan"),
    pytest.param("1", TypeError, "initial", id="str"),
    pytest.param(True, TypeError, "initial", id="bool"),
])
def test_activation_explorer_refuses_what_the_slider_cannot_show(initial, error, message):
    with pytest.raises(error, match=message):
        activation_explorer(initial=initial)


def test_activation_explorer_title_matches_the_slider_at_the_edge():
    box = activation_explorer(initial=8)
    assert box.children[0].value == 8.0
    assert plt.gcf().axes[0].get_title().startswith("sigmoid(8.0) = ")
    plt.close("all")


@pytest.mark.parametrize("model, initial, message", [
    pytest.param(None, "good", "SentimentModel", id="none"),
    pytest.param("model", "good", "SentimentModel", id="str"),
    pytest.param(SimpleNamespace(trace=lambda s: fake_trace()), 3, "initial", id="initial-int"),
])
def test_sentence_explorer_refuses(model, initial, message):
    with pytest.raises(TypeError, match=message):
        sentence_explorer(model, initial=initial)


def test_sentence_explorer_reports_a_nan_model_rather_than_negative(capsys):
    model = SimpleNamespace(trace=lambda s: fake_trace(probability=float("nan")))
    sentence_explorer(model, initial="this is good")
    printed = capsys.readouterr().out
    assert "NaN or infinity" in printed and "negative" not in printed
    plt.close("all")

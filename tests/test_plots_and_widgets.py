"""The figure and widget helpers draw labelled figures and handle bad sentences gracefully."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gru_lib.data import TRAIN_DATA  # noqa: E402
from gru_lib.plots import (  # noqa: E402
    hidden_state_pca,
    plot_gate_heatmaps,
    plot_hidden_trajectories,
    plot_training_history,
)
from gru_lib.train import train_sentiment  # noqa: E402
from gru_lib.widgets import activation_explorer, sentence_explorer  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    return train_sentiment(epochs=5, hidden_size=8)


def labelled(ax):
    return ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_gate_heatmaps(trained):
    model, _ = trained
    fig = plot_gate_heatmaps(model.trace("this is not good"))
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 4 and all(ax.get_title() and ax.get_xlabel() for ax in image_axes)
    assert [t.get_text() for t in image_axes[0].get_xticklabels()] == ["this", "is", "not", "good"]
    assert len(fig.axes) == 8  # four heatmaps and four colour bars
    plt.close(fig)


def test_training_history(trained):
    _, history = trained
    fig = plot_training_history(history)
    assert all(labelled(ax) for ax in fig.axes)
    assert len(fig.axes[1].lines) == 2
    plt.close(fig)


def test_hidden_trajectories(trained):
    model, _ = trained
    sentences = list(TRAIN_DATA)[:10]
    traces = [model.trace(s) for s in sentences]
    paths, explained = hidden_state_pca(traces)
    assert [p.shape for p in paths] == [(len(t.words), 2) for t in traces]
    assert np.all(np.diff(explained) <= 0) and explained.sum() <= 1
    fig = plot_hidden_trajectories(traces, [TRAIN_DATA[s] for s in sentences],
                                   annotate=[sentences[4]])
    assert labelled(fig.axes[0])
    plt.close(fig)


def test_sentence_explorer_reports_unknown_words(trained, capsys):
    model, _ = trained
    box = sentence_explorer(model)
    text, _ = box.children
    capsys.readouterr()
    # Without a kernel front end, an Output widget's text goes to stdout.
    text.value = "this is superb"
    printed = capsys.readouterr().out
    assert "Cannot read that sentence" in printed and "superb" in printed
    text.value = "   "
    assert "empty" in capsys.readouterr().out
    text.value = "i am happy"
    assert "P(positive) =" in capsys.readouterr().out
    plt.close("all")


def test_activation_explorer_updates():
    box = activation_explorer(initial=0.0)
    slider, _ = box.children
    assert plt.gcf().axes[0].get_title().startswith("sigmoid(0.0) = 0.5000")
    slider.value = 3.0  # redraws for the new value
    assert plt.gcf().axes[0].get_title().startswith("sigmoid(3.0) = 0.9526")
    assert plt.gcf().axes[1].get_title().startswith("tanh(3.0) = 0.9951")
    plt.close("all")

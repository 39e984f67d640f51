"""Figures used throughout the book: gate heatmaps, training curves and hidden-state paths.

Every function draws with matplotlib and returns the ``Figure``, so a notebook can show it,
save it, or add to it.
"""

import numbers

import matplotlib.pyplot as plt
import numpy as np

from gru_lib.checks import check_positive_int
from gru_lib.data import tokenize

GATE_PANELS = (
    ("z", "update gate z", "viridis", (0.0, 1.0)),
    ("r", "reset gate r", "viridis", (0.0, 1.0)),
    ("h_tilde", r"candidate $\tilde{h}$", "RdBu_r", (-1.0, 1.0)),
    ("h", "hidden state h", "RdBu_r", (-1.0, 1.0)),
)


# -- argument checks (a figure of the wrong data is a silent wrong answer too) -----------------


def _check_trace(trace, what="trace"):
    """Raise unless ``trace`` looks like a ``GateTrace``: T >= 1 words and (T, H) gate arrays."""
    words = getattr(trace, "words", None)
    if not isinstance(words, list | tuple) or not all(isinstance(w, str) for w in words):
        raise TypeError(f"{what} must be a GateTrace (from SentimentModel.trace), got "
                        f"{type(trace).__name__}")
    if not words:
        raise ValueError(f"{what} has no words")
    shape = None
    for name, _, _, _ in GATE_PANELS:
        value = getattr(trace, name, None)
        if not isinstance(value, np.ndarray) or value.ndim != 2:
            raise TypeError(f"{what}.{name} must be a 2-D array (T, H), got "
                            f"{type(value).__name__}")
        if value.shape[0] != len(words) or (shape is not None and value.shape != shape):
            raise ValueError(f"{what}.{name} has shape {value.shape}, but {what} has "
                             f"{len(words)} words" + (f" and {what}.z is {shape}" if shape else ""))
        shape = value.shape
    return shape[1]


def _check_title(title):
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")


def _check_units(units, hidden):
    """``units`` as an index array into ``hidden`` units; None means all of them.

    Negative indices are refused: NumPy would wrap them around, and the row would be labelled
    with the negative number instead of the unit shown. Bools are refused: NumPy would read them
    as a mask.
    """
    if units is None:
        return np.arange(hidden)
    units = np.asarray(units)
    if units.ndim != 1:
        raise ValueError(f"units must be a 1-D list of hidden-unit indices, got shape "
                         f"{units.shape}")
    if units.size == 0:
        raise ValueError("units is empty: give at least one hidden unit to show (or None for "
                         "all of them)")
    if units.dtype.kind not in "iu":
        raise TypeError(f"units must be integer indices of hidden units, got dtype {units.dtype}")
    bad = units[(units < 0) | (units >= hidden)]
    if bad.size:
        raise ValueError(f"units must be in [0, {hidden}) for a trace with {hidden} hidden "
                         f"units, got {bad.tolist()}")
    return units


def _check_traces(traces):
    """A non-empty list of traces with one hidden size; returns it as a list."""
    if not isinstance(traces, list | tuple):
        raise TypeError(f"traces must be a list of GateTrace objects, got "
                        f"{type(traces).__name__}")
    if not traces:
        raise ValueError("traces is empty: give at least one trace")
    sizes = {_check_trace(t, f"traces[{i}]") for i, t in enumerate(traces)}
    if len(sizes) != 1:
        raise ValueError(f"all traces must have one hidden size, got {sorted(sizes)}")
    return list(traces)


def _check_labels(labels, count):
    """A label per trace: a bool, or a number 0 or 1 (such as ``split_labelled``'s floats)."""
    if isinstance(labels, str) or not hasattr(labels, "__len__"):
        raise TypeError(f"labels must be a list of bools, got {type(labels).__name__}")
    if len(labels) != count:
        raise ValueError(f"labels must have one label per trace ({count}), got {len(labels)}")
    out = []
    for i, label in enumerate(labels):
        if not isinstance(label, numbers.Real | np.bool_):
            raise TypeError(f"labels[{i}] must be a bool, got {type(label).__name__} {label!r}")
        if label not in (0, 1):
            raise ValueError(f"labels[{i}] must be True/False (or 1/0), got {label!r}")
        out.append(bool(label))
    return out


# -- figures ---------------------------------------------------------------------------------


def plot_gate_heatmaps(trace, *, units=None, title=None):
    """Heatmaps of z, r, h_tilde and h for one sentence: words across, hidden units down.

    Args:
        trace: a ``GateTrace`` (from ``SentimentModel.trace``), with (T, H) arrays.
        units: optional index array of the hidden units to show (default: all): a non-empty
            list of integers in [0, H), each row labelled with its unit's number.
        title: the figure title (default: the sentence and its probability).

    Raises TypeError or ValueError, naming the problem, for a malformed trace, empty or
    out-of-range ``units`` or a title that is not a str.
    """
    units = _check_units(units, _check_trace(trace))
    _check_title(title)
    steps = len(trace.words)
    # Wide enough for the words, but capped so that a page does not have to shrink the text.
    fig, axes = plt.subplots(1, 4, figsize=(min(13.0, max(10.0, 1.4 * steps + 4)), 4.2),
                             sharey=True,
                             layout="constrained")
    for ax, (name, label, cmap, (vmin, vmax)) in zip(axes, GATE_PANELS, strict=True):
        values = getattr(trace, name)[:, units].T  # (units, T): one column per word
        image = ax.imshow(values, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax,
                          interpolation="nearest")
        ax.set_title(label)
        ax.set_xticks(range(steps), trace.words, rotation=45, ha="right")
        ax.set_xlabel("word (time step)")
        fig.colorbar(image, ax=ax, shrink=0.8)
    axes[0].set_ylabel("hidden unit")
    if len(units) <= 32:  # label rows with the units' own numbers, which a subset renumbers
        axes[0].set_yticks(range(len(units)), [str(u) for u in units])
    if title is None:
        title = f"\"{' '.join(trace.words)}\": P(positive) = {trace.probability:.3f}"
    fig.suptitle(title)
    return fig


def plot_training_history(history, *, title="Training on the sentiment data"):
    """Loss (log scale) and train/test accuracy per epoch from a ``TrainingHistory``.

    Raises TypeError for an object without the history's lists, ValueError for a history with
    no epochs or with lists of different lengths.
    """
    lists = {name: getattr(history, name, None)
             for name in ("loss", "train_accuracy", "test_accuracy")}
    for name, value in lists.items():
        if not isinstance(value, list | tuple | np.ndarray):
            raise TypeError(f"history must be a TrainingHistory; its {name} is "
                            f"{type(value).__name__}")
    lengths = {name: len(value) for name, value in lists.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"history's lists must have one entry per epoch, got lengths {lengths}")
    if lengths["loss"] == 0:
        raise ValueError("history has no epochs to plot")
    _check_title(title)
    epochs = np.arange(1, lengths["loss"] + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    ax_loss.semilogy(epochs, history.loss, color="C0", label="training loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("mean binary cross-entropy (log scale)")
    ax_loss.set_title("Loss")
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    ax_acc.plot(epochs, 100 * np.asarray(history.train_accuracy), color="C1", label="train")
    ax_acc.plot(epochs, 100 * np.asarray(history.test_accuracy), color="C2", ls="--",
                label="test")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_ylim(0, 105)
    ax_acc.set_title("Accuracy")
    ax_acc.legend(loc="lower right")
    ax_acc.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def hidden_state_pca(traces, n_components=2):
    """Project the hidden states of several traces onto their first principal components.

    Returns ``(paths, explained)``: a list of (T_i, n_components) arrays, one per trace, and the
    fraction of variance each component explains.

    Raises ValueError for no traces, states that are not finite or do not vary, or more
    components than hidden units or states (a path would silently get fewer columns).
    """
    traces = _check_traces(traces)
    n_components = check_positive_int("n_components", n_components)
    states = np.concatenate([t.h for t in traces], axis=0)
    if n_components > min(states.shape):
        raise ValueError(f"n_components must be at most {min(states.shape)} (the number of "
                         f"states, {states.shape[0]}, and of hidden units, {states.shape[1]}), "
                         f"got {n_components}")
    if not np.all(np.isfinite(states)):
        raise ValueError("the traces' hidden states contain NaN or infinity")
    mean = states.mean(axis=0)
    _, singular, vt = np.linalg.svd(states - mean, full_matrices=False)
    total = np.sum(singular**2)
    if not total > 0:
        raise ValueError("the hidden states do not vary: there are no principal components")
    explained = singular**2 / total
    basis = vt[:n_components].T
    return [(t.h - mean) @ basis for t in traces], explained[:n_components]


def plot_hidden_trajectories(traces, labels, *, annotate=(), title=None):
    """2-D PCA paths of the hidden state, one line per sentence, coloured by label.

    Args:
        traces: ``GateTrace`` objects. labels: a bool per trace (True = positive).
        annotate: a list of sentences (str) whose path gets its words written beside it; each
            must be one of the traces' sentences (compared as ``tokenize`` reads them).
    """
    traces = _check_traces(traces)
    labels = _check_labels(labels, len(traces))
    if isinstance(annotate, str) or not isinstance(annotate, list | tuple | set | frozenset):
        # A str would be searched for substrings: "this is good" would match "is good".
        raise TypeError(f"annotate must be a list of sentences, got {type(annotate).__name__}")
    annotate = {" ".join(tokenize(s)) for s in annotate}
    unmatched = annotate - {" ".join(t.words) for t in traces}
    if unmatched:
        raise ValueError(f"annotate names sentences that are not among the traces: "
                         f"{sorted(unmatched)}")
    _check_title(title)
    paths, explained = hidden_state_pca(traces)
    fig, ax = plt.subplots(figsize=(8, 6.5), layout="constrained")
    for trace, label, path in zip(traces, labels, paths, strict=True):
        color = "C2" if label else "C3"
        ax.plot(path[:, 0], path[:, 1], color=color, alpha=0.45, lw=1)
        ax.scatter(path[-1, 0], path[-1, 1], color=color, s=18, zorder=3)
        if " ".join(trace.words) in annotate:
            ax.plot(path[:, 0], path[:, 1], color=color, lw=2.5)
            for word, (px, py) in zip(trace.words, path, strict=True):
                ax.annotate(word, (px, py), fontsize=9, xytext=(3, 3),
                            textcoords="offset points")
    ax.plot([], [], color="C2", label="positive sentence")
    ax.plot([], [], color="C3", label="negative sentence")
    ax.scatter([], [], color="grey", s=18, label="final state")
    ax.set_xlabel(f"principal component 1 ({100 * explained[0]:.0f}% of variance)")
    ax.set_ylabel(f"principal component 2 ({100 * explained[1]:.0f}% of variance)")
    ax.set_title(title or "How the hidden state moves, word by word")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return fig

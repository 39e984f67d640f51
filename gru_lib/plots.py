"""Figures used throughout the book: gate heatmaps, training curves and hidden-state paths.

Every function draws with matplotlib and returns the ``Figure``, so a notebook can show it,
save it, or add to it.
"""

import matplotlib.pyplot as plt
import numpy as np

GATE_PANELS = (
    ("z", "update gate z", "viridis", (0.0, 1.0)),
    ("r", "reset gate r", "viridis", (0.0, 1.0)),
    ("h_tilde", r"candidate $\tilde{h}$", "RdBu_r", (-1.0, 1.0)),
    ("h", "hidden state h", "RdBu_r", (-1.0, 1.0)),
)


def plot_gate_heatmaps(trace, *, units=None, title=None):
    """Heatmaps of z, r, h_tilde and h for one sentence: words across, hidden units down.

    Args:
        trace: a ``GateTrace`` (from ``SentimentModel.trace``), with (T, H) arrays.
        units: optional index array of the hidden units to show (default: all).
        title: the figure title (default: the sentence and its probability).
    """
    units = np.arange(trace.h.shape[1]) if units is None else np.asarray(units)
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
    """Loss (log scale) and train/test accuracy per epoch from a ``TrainingHistory``."""
    epochs = np.arange(1, history.epochs + 1)
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
    """
    states = np.concatenate([t.h for t in traces], axis=0)
    mean = states.mean(axis=0)
    _, singular, vt = np.linalg.svd(states - mean, full_matrices=False)
    explained = singular**2 / np.sum(singular**2)
    basis = vt[:n_components].T
    return [(t.h - mean) @ basis for t in traces], explained[:n_components]


def plot_hidden_trajectories(traces, labels, *, annotate=(), title=None):
    """2-D PCA paths of the hidden state, one line per sentence, coloured by label.

    Args:
        traces: ``GateTrace`` objects. labels: a bool per trace (True = positive).
        annotate: sentences (as strings) whose path gets its words written beside it.
    """
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

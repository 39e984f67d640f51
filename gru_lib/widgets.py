"""Interactive explorers for the book (ipywidgets). Each returns a widget to display.

In the HTML book there is no kernel, so a widget shows its initial state only; every chapter
that uses one also shows static figures of the same lesson.
"""

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from gru_lib.activations import sigmoid, sigmoid_grad, tanh, tanh_grad
from gru_lib.checks import check_real
from gru_lib.plots import plot_gate_heatmaps

# The activation explorer's slider range: wide enough to show both functions saturate.
A_RANGE = (-8.0, 8.0)


def activation_explorer(initial=1.0):
    """A slider for a pre-activation a: plots sigmoid and tanh with their values and slopes at a.

    ``initial`` must be a real number in ``A_RANGE`` ([-8, 8]): a slider clamps a value outside
    its range, and the figure would then describe another ``a`` than the slider shows.
    """
    initial = check_real("initial", initial)
    if not A_RANGE[0] <= initial <= A_RANGE[1]:
        raise ValueError(f"initial must be within the slider's range [{A_RANGE[0]:g}, "
                         f"{A_RANGE[1]:g}], got {initial!r}")
    slider = widgets.FloatSlider(value=initial, min=A_RANGE[0], max=A_RANGE[1], step=0.1,
                                 description="pre-activation a",
                                 style={"description_width": "initial"},
                                 layout=widgets.Layout(width="480px"))
    out = widgets.Output()
    grid = np.linspace(*A_RANGE, 401)

    def draw(a):
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
            for ax, fn, grad, name in ((axes[0], sigmoid, sigmoid_grad, "sigmoid"),
                                       (axes[1], tanh, tanh_grad, "tanh")):
                ax.plot(grid, fn(grid), label=f"{name}(a)")
                ax.plot(grid, grad(grid), ls="--", label=f"{name}'(a)")
                value, slope = float(fn(a)), float(grad(a))
                ax.plot([a], [value], "o", color="C0")
                ax.plot([a], [slope], "o", color="C1")
                ax.set_title(f"{name}({a:.1f}) = {value:.4f},  slope = {slope:.4f}")
                ax.set_xlabel("pre-activation a")
                ax.set_ylabel("value")
                ax.grid(alpha=0.3)
                ax.legend(loc="upper left")
            plt.show()

    slider.observe(lambda change: draw(change["new"]), names="value")
    draw(slider.value)  # what the slider shows, so the two can never disagree
    return widgets.VBox([slider, out])


def sentence_explorer(model, initial="this is not at all good"):
    """A text box: type a sentence, see P(positive) and the gate heatmaps of ``model``.

    Unknown words, empty input and the like produce a message naming the problem, not a traceback.
    ``model`` must have a ``trace(sentence)`` method (a ``SentimentModel``), checked here rather
    than at the first keystroke; ``initial`` must be a str.
    """
    if not callable(getattr(model, "trace", None)):
        raise TypeError(f"model must be a SentimentModel (with a trace method), got "
                        f"{type(model).__name__}")
    if not isinstance(initial, str):
        raise TypeError(f"initial must be a str, got {type(initial).__name__}")
    text = widgets.Text(value=initial, description="sentence", continuous_update=False,
                        layout=widgets.Layout(width="480px"))
    out = widgets.Output()

    def draw(sentence):
        with out:
            out.clear_output(wait=True)
            try:
                trace = model.trace(sentence)
            except (ValueError, TypeError) as err:
                print(f"Cannot read that sentence: {err}")
                return
            if not np.isfinite(trace.probability):  # NaN >= 0.5 is False: not "negative"
                print(f"The model's output is {trace.probability}: its weights contain NaN or "
                      f"infinity")
                return
            label = "positive" if trace.probability >= 0.5 else "negative"
            print(f"P(positive) = {trace.probability:.3f}  ->  {label}")
            plot_gate_heatmaps(trace)
            plt.show()

    text.observe(lambda change: draw(change["new"]), names="value")
    draw(initial)
    return widgets.VBox([text, out])

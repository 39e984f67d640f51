"""Interactive explorers for the book (ipywidgets). Each returns a widget to display.

In the HTML book there is no kernel, so a widget shows its initial state only; every chapter
that uses one also shows static figures of the same lesson.
"""

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from gru_lib.activations import sigmoid, sigmoid_grad, tanh, tanh_grad
from gru_lib.plots import plot_gate_heatmaps


def activation_explorer(initial=1.0):
    """A slider for a pre-activation a: plots sigmoid and tanh with their values and slopes at a."""
    slider = widgets.FloatSlider(value=initial, min=-8.0, max=8.0, step=0.1,
                                 description="pre-activation a",
                                 style={"description_width": "initial"},
                                 layout=widgets.Layout(width="480px"))
    out = widgets.Output()
    grid = np.linspace(-8, 8, 401)

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
    draw(initial)
    return widgets.VBox([slider, out])


def sentence_explorer(model, initial="this is not at all good"):
    """A text box: type a sentence, see P(positive) and the gate heatmaps of ``model``.

    Unknown words, empty input and the like produce a message naming the problem, not a traceback.
    """
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
            label = "positive" if trace.probability >= 0.5 else "negative"
            print(f"P(positive) = {trace.probability:.3f}  ->  {label}")
            plot_gate_heatmaps(trace)
            plt.show()

    text.observe(lambda change: draw(change["new"]), names="value")
    draw(initial)
    return widgets.VBox([text, out])

"""plot_gru_cell draws one GRU step, forward and backward, with every label a learner needs."""

import matplotlib

matplotlib.use("Agg")  # no display in CI

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from gru_lib.cell_diagram import CELL_COLORS, CELL_PATHS, CELL_TERMS  # noqa: E402
from gru_lib.diagrams import plot_gru_cell  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig):
    """Every string drawn in the figure: axes texts, the title, the legend, the equation row."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def full_colour_lines(fig):
    """The colours of the lines drawn at full strength (the faded background uses tints)."""
    return {line.get_color() for ax in fig.axes for line in ax.lines}


VARIANTS = [dict(reset_after=ra, backward=bw, highlight=hl)
            for ra, bw, hl in [(False, False, None), (True, False, None), (False, True, None),
                               (True, True, None), (True, False, "reset gate"),
                               (False, True, "direct")]]


@pytest.mark.parametrize("options", VARIANTS, ids=lambda o: "-".join(
    [("reset-after" if o["reset_after"] else "cho"), ("backward" if o["backward"] else "forward"),
     (o["highlight"] or "all").replace(" ", "-")]))
def test_every_variant_is_drawn_with_its_labels(options):
    fig = plot_gru_cell(**options)
    assert isinstance(fig, Figure)
    drawn = texts(fig)
    joined = " ".join(drawn)
    for title in ("update gate", "reset gate", "candidate"):
        assert title in drawn
    assert r"$x_t$" in drawn
    assert r"W_{hz}" in joined and r"W_{hr}" in joined  # the gates' equations
    form = "reset-after form" if options["reset_after"] else "Cho form"
    assert form in fig.axes[0].get_title()
    fig.canvas.draw()  # renders (every mathtext label parses)


def test_the_cho_form_resets_before_the_product_and_the_other_after():
    cho = " ".join(texts(plot_gru_cell()))
    assert r"(r \odot h_{t-1})\, W_{hh}" in cho and r"$r \odot h_{t-1}$" in cho
    assert "b_{hn}" not in cho
    after = " ".join(texts(plot_gru_cell(reset_after=True)))
    assert r"$n = h_{t-1} W_{hh} + b_{hn}$" in after and r"r \odot n" in after
    for joined in (cho, after):  # the blend, the bold highway's label
        assert r"$z \odot h_{t-1}$" in joined and r"$(1 - z) \odot \tilde h$" in joined


@pytest.mark.parametrize("reset_after", [False, True], ids=["cho", "reset-after"])
def test_backward_labels_each_path_with_its_term(reset_after):
    fig = plot_gru_cell(reset_after=reset_after, backward=True)
    drawn = texts(fig)
    for path in CELL_PATHS:
        assert drawn.count(CELL_TERMS[reset_after][path]) == 2  # on the path and in the sum
        assert f"{path} path" in drawn  # the legend
    assert r"$\delta h_t$" in drawn and r"$\delta h_{t-1}$" in drawn
    assert set(CELL_COLORS.values()) <= full_colour_lines(fig)
    assert CELL_TERMS[False]["candidate"] != CELL_TERMS[True]["candidate"]


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("path", CELL_PATHS)
def test_highlight_draws_that_path_alone(path, backward):
    fig = plot_gru_cell(highlight=path, backward=backward)
    colours = full_colour_lines(fig)
    assert CELL_COLORS[path] in colours
    assert not colours & {CELL_COLORS[p] for p in CELL_PATHS if p != path}
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == [f"{path} path"]
    assert path in fig.axes[0].get_title()


def test_the_forward_drawing_has_no_gradient_paths():
    fig = plot_gru_cell()
    assert not full_colour_lines(fig) & {CELL_COLORS["direct"]}
    assert fig.axes[0].get_legend() is None
    assert not any(t.startswith(r"$\delta") for t in texts(fig))


@pytest.mark.parametrize("options, error", [
    (dict(reset_after="yes"), TypeError),
    (dict(reset_after=1), TypeError),
    (dict(backward=None), TypeError),
    (dict(highlight="forget gate"), ValueError),
    (dict(highlight="Direct"), ValueError),
    (dict(highlight=2), TypeError),
], ids=["reset_after-str", "reset_after-int", "backward-None", "unknown-path", "wrong-case",
        "path-not-a-str"])
def test_bad_arguments_raise(options, error):
    with pytest.raises(error):
        plot_gru_cell(**options)


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        plot_gru_cell(True)

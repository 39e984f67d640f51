"""Diagrams of how the pieces of a model connect (as opposed to ``plots``, which show data).

``plot_gru_cell`` draws one GRU step gate by gate, forward or backward (the four paths by which
the gradient reaches h_{t-1}); ``plot_deep_gru`` draws the stacking of ``gru_lib.deep``: one box
per GRU state, one arrow per value passed on. Each function returns the matplotlib ``Figure``.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from gru_lib.cell_diagram import plot_gru_cell
from gru_lib.checks import check_bool, check_positive_int

FORWARD, REVERSE, FEED = "C0", "C1", "0.45"  # colours: forward chain, reverse chain, data flow
COLUMN = 3.0  # horizontal distance between two time steps
CELL_W, CELL_H = 1.0, 0.6  # a GRU state's box
OFFSET = 0.6  # with two directions, the forward box sits this far left of its column, reverse right
SOURCE_W, SOURCE_H = 1.7, 0.5  # an input x_t or a concatenation [h_fwd; h_rev]


def _box(ax, x, y, w, h, text, edge, face="white", **text_options):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                edgecolor=edge, facecolor=face, lw=1.4, zorder=3))
    ax.text(x, y, text, ha="center", va="center", zorder=4, **text_options)


def _arrow(ax, start, end, color, lw=1.2):
    ax.annotate("", xy=end, xytext=start, zorder=2, arrowprops=dict(
        arrowstyle="-|>", color=color, lw=lw, shrinkA=0, shrinkB=0, mutation_scale=11))


def _state_label(ax, x, y, text, color, align):
    """An ``h0[k]`` or ``h_n[k]`` label beside a chain; ``h_n`` entries are drawn bold."""
    ax.text(x, y, text, ha=align, va="center", color=color, fontsize=10,
            fontweight="bold" if text.startswith("h_n") else "normal",
            bbox=dict(boxstyle="round,pad=0.25", facecolor="white", edgecolor=color, lw=1.0))


def _state(layer, t, direction, num_directions):
    """TeX (without $) for the state of ``layer`` at step ``t``; an arrow over it gives its
    direction when there are two."""
    h = f"h^{{({layer})}}_{{{t}}}"
    if num_directions == 1:
        return h
    return rf"\{('overrightarrow', 'overleftarrow')[direction]}{{{h}}}"


def _chain(ax, layer, direction, num_directions, y, steps, sources):
    """One GRU (a layer and a direction): its T state boxes, recurrence, inputs, h0 and h_n.

    ``sources`` are the (x, y top) points its inputs come from, one per step. Returns the
    (x, y top) of every state box, where the layer's outputs leave.
    """
    reverse = direction == 1
    k = layer * num_directions + direction
    color = REVERSE if reverse else FORWARD
    shift = (OFFSET if reverse else -OFFSET) if num_directions == 2 else 0.0
    xs = [COLUMN * t + shift for t in range(steps)]
    for t, x in enumerate(xs):
        _box(ax, x, y, CELL_W, CELL_H, f"${_state(layer, t, direction, num_directions)}$",
             color, fontsize=12)
        source_x, source_top = sources[t]
        # From the source's top, a little towards this box, so the two directions' arrows part.
        _arrow(ax, (source_x + 0.5 * shift, source_top), (x, y - CELL_H / 2), FEED)
    # The recurrence: forward runs left to right, reverse right to left (it starts at the last
    # step); h0[k] enters where the chain starts and h_n[k] leaves where it ends.
    for t in range(steps - 1):
        a, b = (t + 1, t) if reverse else (t, t + 1)
        sign = 1 if b > a else -1
        _arrow(ax, (xs[a] + sign * CELL_W / 2, y), (xs[b] - sign * CELL_W / 2, y), color, lw=1.8)
    left, right = xs[0] - CELL_W / 2, xs[-1] + CELL_W / 2
    margin = 1.0
    start_label, end_label = f"h0[{k}]", f"h_n[{k}]"
    if reverse:
        _state_label(ax, right + margin, y, start_label, color, "left")
        _arrow(ax, (right + margin, y), (right, y), color, lw=1.8)
        _arrow(ax, (left, y), (left - margin, y), color, lw=1.8)
        _state_label(ax, left - margin, y, end_label, color, "right")
    else:
        _state_label(ax, left - margin, y, start_label, color, "right")
        _arrow(ax, (left - margin, y), (left, y), color, lw=1.8)
        _arrow(ax, (right, y), (right + margin, y), color, lw=1.8)
        _state_label(ax, right + margin, y, end_label, color, "left")
    name = f"layer {layer}" + ((", forward", ", reverse")[direction] if num_directions == 2 else "")
    ax.text(left - margin - 1.5, y, name, ha="right", va="center", color=color, fontsize=11,
            fontweight="bold")
    return [(x, y + CELL_H / 2) for x in xs]


def plot_deep_gru(num_layers=2, bidirectional=True, *, steps=3):
    """How the GRUs of ``deep_gru_forward`` connect, for ``steps`` time steps.

    Inputs ``x_t`` at the bottom; per layer, the forward chain (left to right) and, if
    ``bidirectional``, the reverse chain (right to left) above it; their states side by side,
    ``[h_fwd; h_rev]``, feed the next layer; the last layer's are ``out_t`` at the top. Every chain
    starts from ``h0[k]`` and ends in ``h_n[k]``, ``k`` its index in torch's order.
    """
    num_layers = check_positive_int("num_layers", num_layers)
    bidirectional = check_bool("bidirectional", bidirectional)
    steps = check_positive_int("steps", steps)
    num_directions = 2 if bidirectional else 1
    layer_height = 3.8 if bidirectional else 1.8
    y_out = 1.5 + num_layers * layer_height - (0.4 if bidirectional else 0.6)
    x_limits = (-COLUMN / 2 - (4.6 if bidirectional else 3.9),
                COLUMN * (steps - 1) + COLUMN / 2 + 2.1)
    y_limits = (-1.6 if bidirectional else -1.0, y_out + 0.7)
    # Size the figure to the drawing (equal aspect), plus room for the title.
    fig, ax = plt.subplots(figsize=(0.7 * (x_limits[1] - x_limits[0]),
                                    0.7 * (y_limits[1] - y_limits[0]) + 0.4),
                           layout="constrained")

    for t in range(steps):
        _box(ax, COLUMN * t, 0.0, SOURCE_W, SOURCE_H, f"$x_{{{t}}}$", "0.3", "0.93", fontsize=11)
    sources = [(COLUMN * t, SOURCE_H / 2) for t in range(steps)]
    y = 1.5
    for layer in range(num_layers):
        tops = [_chain(ax, layer, direction, num_directions, y + 1.2 * direction, steps, sources)
                for direction in range(num_directions)]
        if bidirectional:
            y_cat = y + 2.5
            for t in range(steps):
                label = rf"$[{_state(layer, t, 0, 2)};\,{_state(layer, t, 1, 2)}]$"
                _box(ax, COLUMN * t, y_cat, SOURCE_W, SOURCE_H, label, "0.3", "0.93", fontsize=11)
                for direction, color in ((0, FORWARD), (1, REVERSE)):
                    x_top, y_top = tops[direction][t]
                    x_end = COLUMN * t + (0.35 if direction else -0.35)
                    _arrow(ax, (x_top, y_top), (x_end, y_cat - SOURCE_H / 2), color)
            sources = [(COLUMN * t, y_cat + SOURCE_H / 2) for t in range(steps)]
        else:
            sources = tops[0]
        y += layer_height
    for t, (x, top) in enumerate(sources):
        ax.text(x, y_out + 0.25, f"out[{t}]", ha="center", va="bottom", fontsize=11)
        _arrow(ax, (x, top), (x, y_out + 0.2), FEED)

    size = f"{num_directions}H" if bidirectional else "H"
    ax.set_title(f"{num_layers}-layer {'bidirectional ' if bidirectional else ''}GRU: "
                 f"out (T, B, {size}), h0 and h_n ({num_layers * num_directions}, B, H)",
                 fontsize=12)
    note = "h0[k], h_n[k]: k = layer (torch's order)."
    if bidirectional:
        note = ("h0[k], h_n[k]: k = 2 * layer + direction (torch's order).\n"
                "Blue: forward chain. Orange: reverse chain, from the last step to the first\n"
                "(with a mask, from each sequence's last real step).")
        if num_layers > 1:
            note += ("\nLayer 1 and up read both directions' states of the layer below, "
                     "side by side.")
    ax.text(COLUMN * (steps - 1) / 2, -0.75, note, ha="center", va="top", fontsize=9.5,
            color="0.25")
    ax.set_xlim(*x_limits)
    ax.set_ylim(*y_limits)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


__all__ = ["plot_deep_gru", "plot_gru_cell"]

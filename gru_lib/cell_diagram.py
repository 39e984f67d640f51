"""A gate-by-gate drawing of one GRU step, forward and backward (``plot_gru_cell``).

Drawn from the equations of ``gru_lib.gru`` in both forms: the update gate, the reset gate
(applied before or after the ``W_hh`` product), the candidate, the blend with its ``z * h_prev``
path drawn boldly, and, backward, the gradient flowing into ``h_prev`` along its four paths
(direct, update gate, reset gate, candidate). ``gru_lib.diagrams`` is where the book finds it.
"""


import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.offsetbox import AnchoredOffsetbox, HPacker, TextArea
from matplotlib.patches import Circle, FancyBboxPatch

from gru_lib.checks import check_bool, check_choice

FORWARD, REVERSE, FEED = "C0", "C1", "0.45"  # colours: forward chain, reverse chain, data flow

CELL_PATHS = ("direct", "update gate", "reset gate", "candidate")
# One colour per gate and the candidate; the direct path (the state's own highway) in purple.
CELL_COLORS = {"direct": "#7b2d8e", "update gate": "#1f6fb4", "reset gate": "#e07b00",
               "candidate": "#2a9134"}
STATE, INPUT = "0.15", "0.55"  # the state h_{t-1}'s lines; the input x_t's
NODE_R = 0.3  # the radius of a ⊙, + or 1 − node
BOX_H = 1.3  # the height of a gate's or the candidate's box

# Where things are, in data units: columns (x) and rows (y) of the drawing.
X_DROP, X_Z, X_R, X_MUL, X_CAND, X_ONE, X_BLEND, X_OUT = 1.0, 3.6, 8.4, 11.7, 16.1, 18.0, 19.8, 21.4
Y_TOP, Y_BLEND, Y_HT, Y_GATE, Y_N, Y_HBUS, Y_XBUS = 8.4, 7.0, 5.8, 4.3, 2.55, 1.45, 0.45
W_GATE, W_CAND, W_N, N_H = 4.0, 5.4, 3.2, 0.8
TAP = 1.3  # how far left of a box's centre the h_{t-1} input enters it, and right the x_t input

# Each path's term in dh_prev, by variant (reset_after).
CELL_TERMS = {
    False: {"direct": r"$\delta h \odot z$", "update gate": r"$\delta a_z W_{hz}^\top$",
            "reset gate": r"$\delta a_r W_{hr}^\top$",
            "candidate": r"$(\delta a_h W_{hh}^\top) \odot r$"},
    True: {"direct": r"$\delta h \odot z$", "update gate": r"$\delta a_z W_{hz}^\top$",
           "reset gate": r"$\delta a_r W_{hr}^\top$",
           "candidate": r"$(\delta a_h \odot r)\, W_{hh}^\top$"},
}


def _tint(color, amount):
    """``color`` mixed with white: 0 gives white, 1 the colour itself (opaque, so it hides the
    lines drawn under a box)."""
    return tuple(1 - amount * (1 - c) for c in to_rgb(color))


def _cell_box(ax, x, y, w, title, equation, color, faded, h=BOX_H):
    """A box: its ``title`` in its colour above the ``equation`` (or the equation alone)."""
    edge = _tint(color, 0.45) if faded else color
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle="round,pad=0.02,rounding_size=0.15", edgecolor=edge,
                                facecolor=_tint(color, 0.07 if faded else 0.12), lw=1.6,
                                zorder=5))
    ink = _tint(color, 0.5) if faded else color
    if title:
        ax.text(x, y + 0.28, title, ha="center", va="center", color=ink, fontsize=10.5,
                fontweight="bold", zorder=6)
    ax.text(x, y - (0.27 if title else 0.0), equation, ha="center", va="center", fontsize=9.5,
            color="0.55" if faded else "0.1", zorder=6)


def _cell_node(ax, x, y, symbol, color, faded):
    edge = _tint(color, 0.45) if faded else color
    ax.add_patch(Circle((x, y), NODE_R, facecolor="white", edgecolor=edge, lw=1.5, zorder=5))
    ax.text(x, y, symbol, ha="center", va="center", fontsize=12 if len(symbol) < 3 else 9,
            color=edge, zorder=6)


def _line(ax, points, color, lw, *, arrow=True, zorder=2, hop=False, alpha=1.0):
    """A polyline through ``points``, with an arrowhead at its end. ``hop``: drawn over a white
    band, so that lines it crosses show a gap (they pass under it)."""
    xs, ys = zip(*points, strict=True)
    effects = [patheffects.Stroke(linewidth=lw + 5, foreground="white"),
               patheffects.Normal()] if hop else None
    ax.plot(xs if not arrow else xs[:-1] + (xs[-1],), ys, color=color, lw=lw, zorder=zorder,
            solid_capstyle="butt", solid_joinstyle="miter", path_effects=effects, alpha=alpha)
    if arrow:
        ax.annotate("", xy=points[-1], xytext=points[-2], zorder=zorder, arrowprops=dict(
            arrowstyle="-|>", color=color, lw=lw, shrinkA=0, shrinkB=0,
            mutation_scale=10 + 3 * lw, alpha=alpha))


def _dot(ax, x, y, color, zorder=3):
    ax.add_patch(Circle((x, y), 0.085, color=color, zorder=zorder))


def _label(ax, x, y, text, color, **options):
    options = dict(ha="center", va="center", fontsize=11, color=color, zorder=7) | options
    ax.text(x, y, text, bbox=dict(boxstyle="round,pad=0.12", facecolor="white",
                                  edgecolor="none", alpha=0.9), **options)


def _forward_cell(ax, reset_after, faded, backward):
    """The step itself: inputs, buses, the gates, the candidate and the blend. ``faded``: in
    light colours, as the background of paths drawn over it; ``backward``: without arrowheads
    (the arrows are then the gradient's)."""

    def link(points, color, lw, arrow=True, **options):
        _line(ax, points, color, lw, arrow=arrow and not backward, **options)

    state = _tint(STATE, 0.35) if faded else STATE
    inputs = _tint(INPUT, 0.5) if faded else INPUT
    z_col, r_col, c_col = (CELL_COLORS[k] for k in ("update gate", "reset gate", "candidate"))
    lines = {k: (_tint(c, 0.4) if faded else c) for k, c in
             (("z", z_col), ("r", r_col), ("c", c_col))}
    top = Y_GATE + BOX_H / 2
    bottom = Y_GATE - BOX_H / 2
    h_last = X_MUL  # the last box that reads h_{t-1} from the bus
    # x_t: a bus along the bottom, a tap up into each box that reads it (passing under the
    # h_{t-1} bus where they cross).
    ax.text(-0.15, Y_XBUS, r"$x_t$", ha="right", va="center", fontsize=15)
    link([(0.0, Y_XBUS), (X_CAND + TAP, Y_XBUS)], inputs, 1.4, arrow=False)
    for x in (X_Z + TAP, X_R + TAP, X_CAND + TAP):
        link([(x, Y_XBUS), (x, bottom)], inputs, 1.4)
        if x < X_CAND:
            _dot(ax, x, Y_XBUS, inputs)
    # h_{t-1}: the highway along the top (bold: z * h_{t-1} rides it to the blend), and a drop
    # to the bus that feeds the gates and the candidate.
    ax.text(-0.15, Y_TOP, r"$\delta h_{t-1}$" if backward else r"$h_{t-1}$", ha="right",
            va="center", fontsize=15)
    link([(0.0, Y_TOP), (X_Z - NODE_R, Y_TOP)], state, 3.2)
    link([(X_DROP, Y_TOP), (X_DROP, Y_HBUS), (h_last, Y_HBUS)], state, 1.6, arrow=False,
          hop=True)
    _dot(ax, X_DROP, Y_TOP, state)
    taps = [X_Z - TAP, X_R - TAP]
    for x in taps:
        link([(x, Y_HBUS), (x, bottom)], state, 1.6)
        _dot(ax, x, Y_HBUS, state)
    # The gates.
    _cell_box(ax, X_Z, Y_GATE, W_GATE, "update gate",
              r"$z = \sigma(x_t W_{xz} + h_{t-1} W_{hz} + b_z)$", z_col, faded)
    _cell_box(ax, X_R, Y_GATE, W_GATE, "reset gate",
              r"$r = \sigma(x_t W_{xr} + h_{t-1} W_{hr} + b_r)$", r_col, faded)
    # The reset gate meets the state before W_hh (Cho) or meets h_{t-1} W_hh + b_hn (after).
    link([(X_R + W_GATE / 2, Y_GATE), (X_MUL - NODE_R, Y_GATE)], lines["r"], 1.6)
    _label(ax, (X_R + W_GATE / 2 + X_MUL - NODE_R) / 2, Y_GATE + 0.3, r"$r$", lines["r"])
    _cell_node(ax, X_MUL, Y_GATE, "⊙", r_col, faded)
    if reset_after:
        _cell_box(ax, X_MUL, Y_N, W_N, "", r"$n = h_{t-1} W_{hh} + b_{hn}$", c_col, faded,
                  h=N_H)
        link([(X_MUL, Y_HBUS), (X_MUL, Y_N - N_H / 2)], state, 1.6)
        link([(X_MUL, Y_N + N_H / 2), (X_MUL, Y_GATE - NODE_R)], lines["c"], 1.6)
        _label(ax, X_MUL + 0.3, (Y_N + N_H / 2 + Y_GATE - NODE_R) / 2, r"$n$", lines["c"],
               ha="left")
        into_candidate = r"$r \odot n$"
        equation = r"$\tilde h = \tanh(x_t W_{xh} + b_h + r \odot n)$"
    else:
        link([(X_MUL, Y_HBUS), (X_MUL, Y_GATE - NODE_R)], state, 1.6)
        into_candidate = r"$r \odot h_{t-1}$"
        equation = r"$\tilde h = \tanh(x_t W_{xh} + (r \odot h_{t-1})\, W_{hh} + b_h)$"
    _dot(ax, X_MUL, Y_HBUS, state)
    left = X_CAND - W_CAND / 2
    link([(X_MUL + NODE_R, Y_GATE), (left, Y_GATE)], lines["r"], 1.6)
    _label(ax, (X_MUL + NODE_R + left) / 2, Y_GATE + 0.32, into_candidate, lines["r"],
           fontsize=10)
    _cell_box(ax, X_CAND, Y_GATE, W_CAND, "candidate", equation, c_col, faded)
    # The blend h_t = z * h_{t-1} + (1 - z) * h_tilde.
    link([(X_Z, top), (X_Z, Y_TOP - NODE_R)], lines["z"], 1.6)
    _label(ax, X_Z - 0.3, (top + Y_BLEND) / 2, r"$z$", lines["z"], ha="right")
    _dot(ax, X_Z, Y_BLEND, lines["z"])
    link([(X_Z, Y_BLEND), (X_ONE - NODE_R, Y_BLEND)], lines["z"], 1.6)
    _cell_node(ax, X_ONE, Y_BLEND, "1−", z_col, faded)
    link([(X_ONE + NODE_R, Y_BLEND), (X_BLEND - NODE_R, Y_BLEND)], lines["z"], 1.6)
    link([(X_CAND, top), (X_CAND, Y_HT), (X_BLEND, Y_HT), (X_BLEND, Y_BLEND - NODE_R)],
          lines["c"], 1.6)
    _label(ax, (X_CAND + X_BLEND) / 2, Y_HT + 0.3, r"$\tilde h$", lines["c"])
    _cell_node(ax, X_Z, Y_TOP, "⊙", z_col, faded)
    _cell_node(ax, X_BLEND, Y_BLEND, "⊙", z_col, faded)
    link([(X_BLEND, Y_BLEND + NODE_R), (X_BLEND, Y_TOP - NODE_R)], lines["c"], 1.6)
    _label(ax, X_BLEND - 0.3, (Y_BLEND + Y_TOP) / 2, r"$(1 - z) \odot \tilde h$", lines["c"],
           ha="right", fontsize=10)
    link([(X_Z + NODE_R, Y_TOP), (X_BLEND - NODE_R, Y_TOP)], state, 3.2)
    _label(ax, (X_Z + X_BLEND) / 2, Y_TOP + 0.6, r"$z \odot h_{t-1}$", state)
    _cell_node(ax, X_BLEND, Y_TOP, "+", STATE, faded)
    link([(X_BLEND + NODE_R, Y_TOP), (X_OUT, Y_TOP)], state, 3.2)
    ax.text(X_OUT + 0.15, Y_TOP, r"$\delta h_t$" if backward else r"$h_t$", ha="left",
            va="center", fontsize=15)


def _route(path, reset_after):
    """The way the gradient of ``path`` goes from h_t back to h_{t-1}: a list of polylines
    (the update gate's has two, through z * h_{t-1} and through (1 - z) * h_tilde)."""
    drop = [(X_DROP, Y_HBUS), (X_DROP, Y_TOP)]
    to_candidate = [(X_OUT, Y_TOP), (X_BLEND, Y_TOP), (X_BLEND, Y_HT), (X_CAND, Y_HT),
                    (X_CAND, Y_GATE), (X_MUL, Y_GATE)]
    if path == "direct":
        return [[(X_OUT, Y_TOP), (X_DROP, Y_TOP)]]
    if path == "update gate":
        down = [(X_Z, Y_BLEND), (X_Z, Y_GATE), (X_Z - TAP, Y_GATE), (X_Z - TAP, Y_HBUS)] + drop
        return [[(X_OUT, Y_TOP), (X_Z, Y_TOP)] + down,
                [(X_BLEND, Y_TOP), (X_BLEND, Y_BLEND), (X_Z, Y_BLEND)]]
    if path == "reset gate":
        return [to_candidate + [(X_R, Y_GATE), (X_R - TAP, Y_GATE), (X_R - TAP, Y_HBUS)] + drop]
    return [to_candidate + [(X_MUL, Y_HBUS)] + drop]


# Each path's lane: its distance to the left of the line it follows (the way it travels). Read
# along the top from h_t: direct outermost, then the update gate, then the two that turn down to
# the candidate first, so that no lane crosses another where it leaves a shared stretch.
LANES = {"direct": -0.2, "update gate": 0.0, "reset gate": 0.18, "candidate": 0.36}
SUM_X, SUM_R = X_DROP - 0.15, 0.55  # the node where the four paths add up into dh_prev


def _offset(points, distance):
    """``points`` moved ``distance`` to the left of the direction of travel (a parallel lane)."""
    p = np.asarray(points, dtype=float)
    d = np.diff(p, axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    normals = np.stack([-d[:, 1], d[:, 0]], axis=1)
    out = p.copy()
    out[0] += distance * normals[0]
    out[-1] += distance * normals[-1]
    for i in range(1, len(p) - 1):
        n1, n2 = normals[i - 1], normals[i]
        out[i] += distance * (n1 + n2) / (1 + n1 @ n2)
    return [tuple(q) for q in out]


def _to_circle(points, cx, cy, radius):
    """``points`` with the last one moved back along the last segment onto the circle."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    d = np.array([x1 - x0, y1 - y0])
    length = np.linalg.norm(d)
    d /= length
    f = np.array([x0 - cx, y0 - cy])
    # |f + t d| = radius, the smaller root t beyond the start of the segment
    b, c = f @ d, f @ f - radius ** 2
    t = -b - np.sqrt(max(b * b - c, 0.0))
    return points[:-1] + [(x0 + t * d[0], y0 + t * d[1])]


def _term_positions(reset_after):
    """Where each path's term is written, beside the stretch that only it takes."""
    below = (Y_GATE - BOX_H / 2 + Y_HBUS) / 2
    candidate = ((X_MUL + W_N / 2 + 0.15, Y_N, "left") if reset_after
                 else (X_MUL + 0.45, below, "left"))
    return {"direct": ((X_DROP + X_Z) / 2 + 0.1, Y_TOP + 0.62, "center"),
            "update gate": (X_Z, below, "center"), "reset gate": (X_R, below, "center"),
            "candidate": candidate}


def _equation(ax, pieces, y):
    """A row of (text, colour) pieces centred at height ``y`` of the axes (0 to 1)."""
    row = HPacker(children=[TextArea(t, textprops=dict(color=c, fontsize=13))
                            for t, c in pieces], align="baseline", pad=0, sep=3)
    ax.add_artist(AnchoredOffsetbox(loc="center", child=row, frameon=False,
                                    bbox_to_anchor=(0.5, y), bbox_transform=ax.transAxes))


def _backward_paths(ax, reset_after, paths, backward, emphasised):
    lw = 3.4 if emphasised else 2.4
    for path in paths:
        color = CELL_COLORS[path]
        for k, polyline in enumerate(_route(path, reset_after)):
            points = _offset(polyline, 0.0 if emphasised else LANES[path])
            if not backward:
                _line(ax, points[::-1], color, lw, zorder=4)
            elif k == 0:  # the first polyline ends in dh_prev's sum, the others join it
                _line(ax, _to_circle(points, SUM_X, Y_TOP, SUM_R), color, lw, zorder=4)
            else:
                _line(ax, points, color, lw, arrow=False, zorder=4)
        if backward:
            x, y, align = _term_positions(reset_after)[path]
            _label(ax, x, y, CELL_TERMS[reset_after][path], color, ha=align, fontsize=12)
    handles = [Line2D([], [], color=CELL_COLORS[p], lw=lw, label=f"{p} path") for p in paths]
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 0.0), frameon=False,
              fontsize=11, handlelength=2.2)
    if backward:
        ax.add_patch(Circle((SUM_X, Y_TOP), SUM_R, facecolor="white", edgecolor="0.2", lw=1.6,
                            zorder=6))
        ax.text(SUM_X, Y_TOP, "+", ha="center", va="center", fontsize=15, zorder=7)
        _line(ax, [(SUM_X - SUM_R, Y_TOP), (-0.05, Y_TOP)], "0.1", 2.0, zorder=6)


def plot_gru_cell(*, reset_after=False, backward=False, highlight=None):
    """One GRU step drawn gate by gate, exactly as ``gru_step_forward`` computes it.

    Inputs x_t and h_{t-1} on the left; the update gate z, the reset gate r and the candidate
    h_tilde, each in its colour; the reset gate applied to h_{t-1} before the product with W_hh
    (``reset_after=False``, the Cho form) or to n = h_{t-1} W_hh + b_hn after it (True); the
    blend h_t = z * h_{t-1} + (1 - z) * h_tilde, with the z * h_{t-1} highway drawn boldly.

    ``backward=True`` draws the gradient flowing back from dh_t into h_{t-1} along the four paths
    of ``gru_step_backward`` (direct, update gate, reset gate, candidate), each labelled with its
    term and summed into dh_prev. ``highlight``, one of those names, draws that path alone,
    emphasised (without ``backward``: the way h_{t-1} reaches h_t along it). Returns the Figure.
    """
    reset_after = check_bool("reset_after", reset_after)
    backward = check_bool("backward", backward)
    if highlight is not None:
        highlight = check_choice("highlight", highlight, CELL_PATHS)
    fig, ax = plt.subplots(figsize=(12.5, 6.6), layout="constrained")
    _forward_cell(ax, reset_after, faded=backward or highlight is not None, backward=backward)
    if backward or highlight is not None:
        paths = CELL_PATHS if highlight is None else (highlight,)
        _backward_paths(ax, reset_after, paths, backward, highlight is not None)
    terms = CELL_TERMS[reset_after]
    if backward:
        pieces = [(r"$\delta h_{t-1}\ =$", "0.1")]
        for i, path in enumerate(CELL_PATHS):
            shown = highlight in (None, path)
            pieces += [(r"$+$", "0.1")] if i else []
            pieces.append((terms[path], CELL_COLORS[path] if shown else "0.75"))
    else:
        pieces = [(r"$h_t = z \odot h_{t-1}$", STATE), (r"$+$", "0.1"),
                  (r"$(1 - z) \odot \tilde h$", CELL_COLORS["candidate"])]
    _equation(ax, pieces, 0.02)
    ax.set_xlim(-1.6, X_OUT + 1.1)
    ax.set_ylim(-1.2, Y_TOP + 1.1)
    ax.set_aspect("equal")
    ax.axis("off")
    form = "reset-after form (reset_after=True)" if reset_after else "Cho form (reset_after=False)"
    if backward:
        what = (f"the {highlight} path" if highlight else "the four paths") + \
            r" from $\delta h_t$ into $h_{t-1}$"
        title = f"Backward through one GRU step: {what}, {form}"
    else:
        title = "One GRU step, " + form + (f": the {highlight} path" if highlight else "")
    ax.set_title(title, fontsize=13)
    return fig


__all__ = ["plot_gru_cell"]

"""Draw the book's logo and favicon: a gate, i.e. a sigmoid curve inside a recurrent cell.

The PNGs are committed in book/_static/; re-run this script only to change the drawing:

    .venv/bin/python tools/make_logo.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "book" / "_static"
CELL = "#1f3b5a"
GATE = "#f28e2b"
WIRE = "#e8eef5"


def draw(size_px: int, path: Path, detail: bool) -> None:
    # The figure is 1 inch (72 points) wide whatever its size in pixels: line widths are in points.
    fig = plt.figure(figsize=(1, 1), dpi=size_px)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")

    # The cell.
    ax.add_patch(
        FancyBboxPatch(
            (0.06, 0.06),
            0.88,
            0.88,
            boxstyle="round,pad=0,rounding_size=0.16",
            facecolor=CELL,
            edgecolor="none",
        )
    )

    # The gate: a sigmoid from 0 to 1.
    x = np.linspace(-6, 6, 200)
    y = 1 / (1 + np.exp(-x))
    ax.plot(0.18 + 0.64 * (x + 6) / 12, 0.22 + 0.5 * y, color=GATE, linewidth=6)

    if detail:
        # The recurrent state flowing through the cell, and the gate's elementwise product (a dot
        # in a circle).
        ax.add_patch(
            FancyArrowPatch(
                (0.14, 0.82),
                (0.86, 0.82),
                arrowstyle="-|>",
                mutation_scale=12,
                color=WIRE,
                linewidth=2.5,
            )
        )
        ax.add_patch(Circle((0.5, 0.82), 0.07, facecolor=CELL, edgecolor=GATE, linewidth=2))
        ax.add_patch(Circle((0.5, 0.82), 0.022, facecolor=GATE, edgecolor="none"))

    fig.savefig(path, transparent=True, metadata={"Software": None})
    plt.close(fig)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    draw(256, OUT / "logo.png", detail=True)
    draw(64, OUT / "favicon.png", detail=False)
    print(f"wrote {OUT / 'logo.png'} and {OUT / 'favicon.png'}")


if __name__ == "__main__":
    main()

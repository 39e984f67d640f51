"""Execute notebooks in place, so that the outputs stored in them are fresh and reproducible.

    python tools/execute_notebooks.py book/quick_tour.ipynb [more.ipynb ...]

(`make notebooks` runs it on every notebook in book/, `make notebook NB=...` on one.)

Each notebook runs in a new `python3` kernel with its own folder as working directory, as in
the book build. The file is then written so that running the script twice on unchanged code
gives byte-identical files, and a diff shows only real changes:

- no execution timing metadata (`record_timing=False`);
- no saved widget state (`metadata.widgets`, which changes every run; the book build embeds
  the state it makes itself);
- widget model ids, random on every run, are replaced by ids numbered in order of appearance.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TIMEOUT_S = 300
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def _widget_view_outputs(nb: nbformat.NotebookNode):
    """Yield the widget-view data of every cell output, in order."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW_MIME)
            if view is not None:
                yield view


def renumber_widget_ids(nb: nbformat.NotebookNode) -> int:
    """Replace random widget model ids by deterministic ones; return how many were replaced."""
    new_ids: dict[str, str] = {}
    for view in _widget_view_outputs(nb):
        old = view.get("model_id")
        if not isinstance(old, str):
            continue
        if old not in new_ids:
            new_ids[old] = f"{len(new_ids) + 1:032x}"
        view["model_id"] = new_ids[old]
    # A model id that shows up anywhere else (in text output, say) would leak the random id.
    leftover = [old for old in new_ids if old in nbformat.writes(nb)]
    if leftover:
        raise RuntimeError(f"widget model ids left in the notebook: {leftover}")
    return len(new_ids)


def strip_volatile_metadata(nb: nbformat.NotebookNode) -> None:
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timing written by other executors


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        record_timing=False,
        # A busy machine can deliver one print in several stream messages; merge them so the
        # stored output does not depend on timing.
        coalesce_streams=True,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    client.execute()
    strip_volatile_metadata(nb)
    renumber_widget_ids(nb)
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"not a notebook: {path}")
    for path in args.notebooks:
        print(f"executing {path}", flush=True)
        execute(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write the student edition of the book: its notebooks without the cells tagged `solution`.

    python tools/make_student.py                       # book/*.ipynb -> _build/student/
    python tools/make_student.py --source DIR --out DIR

A learner opens the copies in _build/student/ and fills in the exercises. The cells are removed
with nbconvert's TagRemovePreprocessor (remove_cell_tags={"solution"}), so a removed cell takes
its outputs with it; every other cell is kept as it is. A notebook without a solution cell is
copied byte for byte. Needs nbconvert (pinned in requirements-lab.txt).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
OUT = ROOT / "_build" / "student"
SOLUTION_TAG = "solution"


def solution_cells(nb) -> int:
    """How many cells of the notebook ``nb`` are tagged `solution`."""
    return sum(SOLUTION_TAG in cell.get("metadata", {}).get("tags", []) for cell in nb.cells)


def student_text(nb) -> str:
    """The notebook ``nb`` without its solution cells, as the text of an .ipynb file."""
    from nbconvert import NotebookExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = NotebookExporter()
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}, enabled=True), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    return body


def write_student_edition(source: Path = BOOK, out: Path = OUT) -> list[tuple[Path, int]]:
    """Write the student copy of every ``source/*.ipynb`` into ``out``.

    Returns (written path, number of solution cells removed) for each notebook, in name order.
    """
    notebooks = sorted(Path(source).glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks (*.ipynb) in {source}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        removed = solution_cells(nb)
        target = out / path.name
        if removed:
            target.write_text(student_text(nb), encoding="utf-8")
        else:
            shutil.copyfile(path, target)
        written.append((target, removed))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=BOOK, help="folder of the notebooks")
    parser.add_argument("--out", type=Path, default=OUT, help="where the copies go")
    args = parser.parse_args(argv)
    try:
        import nbconvert  # noqa: F401 (checked here, so a missing package is one clear line)
    except ImportError:
        print("make_student.py needs nbconvert (pinned in requirements-lab.txt; `make lab` "
              "installs it)", file=sys.stderr)
        return 1
    for target, removed in write_student_edition(args.source, args.out):
        print(f"{target}: {removed} solution cell{'' if removed == 1 else 's'} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Check the pages in book/ before the tests run (`make test` calls this).

1. Every page (.md or .ipynb) under book/ is listed in _toc.yml. The build only builds listed
   pages and says nothing about the others.
2. Every notebook under book/ is stored executed: each code cell that has source has an
   execution count. Strict nbval compares only the outputs stored in a notebook, so one saved
   without running would pass while testing nothing. `make notebooks` stores the outputs.
   A cell tagged `skip-execution` is exempt.

Exit status 1 with one line per problem, 0 if all is well.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
PAGE_SUFFIXES = {".md", ".ipynb"}


def toc_files(toc_path: Path) -> set[str]:
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    files = {toc["root"]}

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.add(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key))
    # Entries may be written with or without the extension.
    return {str(Path(f).with_suffix("")) if Path(f).suffix in PAGE_SUFFIXES else f for f in files}


def pages() -> list[Path]:
    found = []
    for path in sorted(BOOK.rglob("*")):
        parts = path.relative_to(ROOT).parts
        if path.suffix not in PAGE_SUFFIXES or not path.is_file():
            continue
        if any(p.startswith((".", "_")) for p in parts):
            continue  # .ipynb_checkpoints, _static, _build, ...
        found.append(path)
    return found


def unexecuted_cells(path: Path) -> list[int]:
    nb = nbformat.read(path, as_version=4)
    missing = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if "skip-execution" in cell.metadata.get("tags", []):
            continue
        if cell.get("execution_count") is None:
            missing.append(index)
    return missing


def main() -> int:
    listed = toc_files(ROOT / "_toc.yml")
    problems = []
    for path in pages():
        rel = path.relative_to(ROOT)
        if str(rel.with_suffix("")) not in listed:
            problems.append(f"{rel}: not listed in _toc.yml, so the book does not include it")
        if path.suffix == ".ipynb":
            missing = unexecuted_cells(path)
            if missing:
                problems.append(
                    f"{rel}: code cells {missing} (0-based) have no stored execution: "
                    f"run `make notebook NB={rel}`"
                )
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"check_notebooks: {len(pages())} pages in book/, all listed and executed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""tools/make_student.py removes the cells tagged `solution`, and nothing else, from notebooks.

Runs on a small notebook made here, not on the book's.
"""

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbconvert", reason="nbconvert is not installed: the student edition tool "
                                        "needs it (it is pinned in requirements-lab.txt only)")

TOOL = Path(__file__).resolve().parent.parent / "tools" / "make_student.py"
spec = importlib.util.spec_from_file_location("make_student", TOOL)
make_student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_student)


def code(source, output, tags=()):
    cell = nbformat.v4.new_code_cell(source, execution_count=1,
                                     outputs=[nbformat.v4.new_output("stream", text=output)])
    cell.metadata["tags"] = list(tags)
    return cell


def markdown(source, tags=()):
    cell = nbformat.v4.new_markdown_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def exercise_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        markdown("# Exercise: write the step"),
        code("def step(x):\n    raise NotImplementedError", "", tags=["exercise"]),
        code("def step(x):\n    return 2 * x", "SOLUTION OUTPUT", tags=["solution"]),
        markdown("The solution, explained.", tags=["solution", "hide-input"]),
        code("print(step(3))", "6\n", tags=["hide-input"]),
    ]
    return nb


@pytest.fixture
def book(tmp_path):
    source = tmp_path / "book"
    source.mkdir()
    nbformat.write(exercise_notebook(), source / "exercise.ipynb")
    plain = nbformat.v4.new_notebook(cells=[markdown("# No exercise"), code("1 + 1", "2\n")])
    # Written with an unusual layout: a copy that is "unchanged" keeps even that.
    (source / "plain.ipynb").write_text(json.dumps(plain, indent=3, sort_keys=False) + "\n",
                                        encoding="utf-8")
    return source


def test_solution_cells_are_removed_and_the_others_kept(book, tmp_path):
    written = dict(make_student.write_student_edition(book, tmp_path / "student"))
    student_path = tmp_path / "student" / "exercise.ipynb"
    assert written[student_path] == 2
    student = nbformat.read(student_path, as_version=4)
    nbformat.validate(student)
    original = exercise_notebook()
    kept = [cell for cell in original.cells if "solution" not in cell.metadata.get("tags", [])]
    assert [c.source for c in student.cells] == [c.source for c in kept]
    assert [c.cell_type for c in student.cells] == ["markdown", "code", "code"]
    for mine, theirs in zip(student.cells, kept, strict=True):  # kept as they were
        assert mine.metadata.get("tags", []) == theirs.metadata.get("tags", [])
        assert mine.get("outputs") == theirs.get("outputs")
    text = student_path.read_text(encoding="utf-8")
    assert "SOLUTION OUTPUT" not in text and "return 2 * x" not in text
    assert "The solution, explained." not in text


def test_a_notebook_without_solutions_is_copied_unchanged(book, tmp_path):
    written = dict(make_student.write_student_edition(book, tmp_path / "student"))
    copy = tmp_path / "student" / "plain.ipynb"
    assert written[copy] == 0
    assert copy.read_bytes() == (book / "plain.ipynb").read_bytes()


def test_the_source_is_left_alone_and_the_command_line_works(book, tmp_path, capsys):
    before = {p.name: p.read_bytes() for p in book.iterdir()}
    assert make_student.main(["--source", str(book), "--out", str(tmp_path / "out")]) == 0
    assert "exercise.ipynb: 2 solution cells removed" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(before)
    assert {p.name: p.read_bytes() for p in book.iterdir()} == before


def test_a_folder_without_notebooks_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no notebooks"):
        make_student.write_student_edition(tmp_path, tmp_path / "out")

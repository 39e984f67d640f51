"""gru_lib installs from its git repository, the way a reader on Colab installs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Modules that must always be there (a floor, so that the git listing below cannot make the
# test vacuous).
CORE_MODULES = ["gru_lib", "gru_lib.gru", "gru_lib.rnn", "gru_lib.model", "gru_lib.train",
                "gru_lib.plots", "gru_lib.widgets", "gru_lib.gradcheck"]


def committed_modules():
    """Every module of the package in the commit that ``git+file://`` installs (HEAD).

    What a reader gets is the commit, not the working tree: a module not committed yet is not
    installed, and is not asked for here.
    """
    listing = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", "HEAD",
                              "gru_lib"], check=True, capture_output=True, text=True).stdout
    names = [Path(line) for line in listing.splitlines() if line.endswith(".py")]
    return sorted({"gru_lib" if p.name == "__init__.py" else "gru_lib." + p.stem
                   for p in names if p.parent == Path("gru_lib")})


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout of the project")
def test_installs_from_its_git_repository(tmp_path):
    modules = committed_modules()
    assert set(CORE_MODULES) <= set(modules), modules
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), f"git+file://{ROOT}"],
        check=True, capture_output=True, text=True)
    # Import every module in a child whose path has only the installed copy; report each.
    code = ("import importlib, json, sys\n"
            "out = {}\n"
            f"for m in {modules!r}:\n"
            "    try:\n"
            "        out[m] = importlib.import_module(m).__file__\n"
            "    except Exception as err:\n"
            "        out[m] = f'FAILED: {type(err).__name__}: {err}'\n"
            "print(json.dumps(out))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                            capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(target)})
    files = json.loads(result.stdout)
    assert list(files) == modules
    wrong = {m: f for m, f in files.items() if not f.startswith(str(target))}
    assert not wrong, wrong

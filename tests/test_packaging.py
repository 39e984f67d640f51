"""gru_lib installs from its git repository, the way a reader on Colab installs it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout of the project")
def test_installs_from_its_git_repository(tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), f"git+file://{ROOT}"],
        check=True, capture_output=True, text=True)
    modules = ["gru_lib", "gru_lib.gru", "gru_lib.rnn", "gru_lib.model", "gru_lib.train",
               "gru_lib.plots", "gru_lib.widgets", "gru_lib.gradcheck"]
    code = f"import importlib; print([importlib.import_module(m).__file__ for m in {modules}])"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                            capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(target)})
    files = eval(result.stdout)  # a list of paths printed by the child
    assert all(f.startswith(str(target)) for f in files), files

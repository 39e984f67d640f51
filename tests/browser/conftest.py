"""Browser tests of the built book. `make test` runs them after the strict book build:

    BOOK_BROWSER_TESTS=1 pytest tests/browser

Without BOOK_BROWSER_TESTS=1 (a plain `pytest`, the unit-test run) nothing here is collected:
the tests need the built site in _build/html and Chromium.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from browser_check import Chromium  # noqa: E402

# The fixture book holds a notebook: never collect it (nbval would run it).
collect_ignore = ["cdn_book"]
if os.environ.get("BOOK_BROWSER_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]

REPO = HERE.parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def site_dir() -> Path:
    site = Path(os.environ.get("BOOK_HTML", REPO / "_build" / "html"))
    if not (site / "index.html").is_file():
        pytest.fail(f"no built book in {site}: run `make book` first")
    return site


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = REPO / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def chromium():
    browser = Chromium()
    yield browser
    browser.close()

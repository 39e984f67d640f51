"""The built book works in a real browser with no network.

Every page listed in _toc.yml is opened in headless Chromium, served from 127.0.0.1, with no
host name resolvable (see browser_check.py), and must show: every formula rendered by MathJax,
every widget view rendered, every image loaded, no broken local link, no request leaving the
machine, and no JavaScript error outside browser_check.ALLOWED_CONSOLE_ERRORS. A screenshot of
each page goes to artifacts/screenshots/.

The last test builds a tiny book with Jupyter Book's default (CDN) settings and checks that the
same checks fail on it, so a pass above means something.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser_check import (
    ALLOWED_CONSOLE_ERRORS,
    SiteChecker,
    SiteServer,
    _parse_file,
    toc_docnames,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PAGES = toc_docnames(REPO)

# url(...) or @import in a style sheet that reaches another server.
CSS_NETWORK = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def checker(chromium, site_dir, screenshot_dir):
    with SiteServer(site_dir) as server:
        yield SiteChecker(chromium, site_dir, server, screenshot_dir)


@pytest.mark.parametrize("docname", PAGES)
def test_page_renders_offline(checker, site_dir, docname):
    relpath = f"{docname}.html"
    assert (site_dir / relpath).is_file(), f"{relpath} is listed in _toc.yml but was not built"
    report = checker.check_page(docname, relpath)
    print(report.summary())
    problems = report.problems()
    assert not problems, f"{docname} ({report.url}):\n  " + "\n  ".join(problems)


def test_no_file_of_the_site_loads_from_the_network(site_dir):
    problems = []
    for page in sorted(site_dir.rglob("*.html")):
        rel = page.relative_to(site_dir)
        problems += [f"{rel}: {tag}" for tag in _parse_file(page).network_tags]
    for sheet in sorted(site_dir.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        rel = sheet.relative_to(site_dir)
        problems += [f"{rel}: {m.group(0)}" for m in CSS_NETWORK.finditer(text)]
    assert not problems, "\n".join(problems)


def test_search_finds_the_root_page(checker, site_dir):
    root = PAGES[0]
    title = re.search(r"<h1>(.*?)<", (site_dir / f"{root}.html").read_text(encoding="utf-8"))
    assert title, f"no <h1> in {root}.html"
    word = max(re.findall(r"[A-Za-z]{4,}", title.group(1)), key=len)
    hrefs, report = checker.evaluate_page(
        f"search.html?q={word}",
        "Array.from(document.querySelectorAll('#search-results li a')).map((a) => a.href)",
    )
    print(f"search for {word!r}: {len(hrefs)} results")
    assert any(f"{root}.html" in href for href in hrefs), f"search for {word!r} gave {hrefs}"
    assert not report.console_errors, report.console_errors


def test_allowed_console_errors_have_reasons():
    for pattern, reason in ALLOWED_CONSOLE_ERRORS:
        assert pattern and len(reason) > 20, (pattern, reason)


def test_the_check_fails_on_a_book_that_uses_cdns(chromium, tmp_path, screenshot_dir):
    book = tmp_path / "cdn_book"
    shutil.copytree(HERE / "cdn_book", book)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book if jupyter_book.exists() else "jupyter-book"), "build", str(book)]
    build = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    site = book / "_build" / "html"

    with SiteServer(site) as server:
        checker = SiteChecker(chromium, site, server, screenshot_dir / "cdn_book")
        math = checker.check_page("math", "math.html")
        widget = checker.check_page("widget", "widget.html")
    print(math.summary())
    print(widget.summary())

    # The formulas are in the page but MathJax never arrives.
    assert math.math_nodes >= 2
    assert math.mjx_containers == 0
    assert len(math.unrendered_math) == math.math_nodes
    assert any(p.startswith("math:") for p in math.problems())
    # The widget's view is in the page but the widget bundle never arrives.
    assert widget.widget_views >= 1
    assert widget.unrendered_widgets == widget.widget_views
    assert any(p.startswith("widgets:") for p in widget.problems())
    # ... because the pages ask other servers for them.
    assert any("mathjax" in url.lower() for url in math.external_requests), math.external_requests
    assert widget.external_requests
    assert math.network_tags and widget.network_tags


def test_the_check_fails_on_broken_links_images_and_errors(chromium, tmp_path):
    site = tmp_path / "site"
    (site / "sub").mkdir(parents=True)
    (site / "ok.png").write_bytes(b"not a PNG at all")
    (site / "sub" / "page.html").write_text(
        "<!DOCTYPE html><html><head><title>t</title></head><body>"
        '<h1 id="top">Broken page</h1>'
        '<a href="#top">fine</a> <a href="#nowhere">no anchor</a> '
        '<a href="../missing.html">no file</a> <a href="../ok.png">a file</a>'
        '<img src="../ok.png" alt="bad bytes"> <img src="gone.svg" alt="missing">'
        "<script>undefinedFunction();</script>"
        "</body></html>",
        encoding="utf-8",
    )
    with SiteServer(site) as server:
        report = SiteChecker(chromium, site, server).check_page("broken", "sub/page.html")
    print(report.summary())
    problems = "\n".join(report.problems())
    assert "no id 'nowhere'" in problems
    assert "no file missing.html" in problems
    assert not any("'../ok.png'" in b for b in report.broken_links)  # that file exists
    assert "gone.svg: not loaded in the browser" in problems
    assert "ok.png: not a PNG/SVG/JPEG/GIF/WebP image" in problems
    assert any("undefinedFunction" in e for e in report.console_errors)
    assert any("404" in e for e in report.console_errors)

"""Sphinx extension: write each <script> tag once per page.

Sphinx 7.4 adds an inline script registered by an extension after the builder started (for
example sphinx-thebe's `const THEBE_JS_URL = ...` and sphinx-togglebutton's selector) a second
time while preparing to write, because the copy it re-reads has `''` as file name instead of
`None`. A repeated `const` declaration raises "SyntaxError: Identifier 'THEBE_JS_URL' has
already been declared" in the browser. This drops the repeats just before each page is written.
"""

from __future__ import annotations

from typing import Any


def _key(script: Any) -> tuple:
    filename = getattr(script, "filename", None) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app) -> dict[str, Any]:
    # Late priority: after the extensions that add page-specific scripts.
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Check built HTML pages in a real browser: headless Chromium driven through the DevTools
protocol over a pipe (no extra Python package, no open debugging port).

For each page, `SiteChecker.check_page` loads it from a local HTTP server on 127.0.0.1 and
reports: formulas that MathJax did not render, widget views that were not rendered, images that
did not load (in the browser, and fetched from the server: non-empty, with a valid image
header), local links that point to nothing, JavaScript errors seen by the browser (uncaught
exceptions, console.error, failed loads), and every request that left 127.0.0.1. It also saves
a screenshot. Chromium runs with a host resolver that resolves no name, so a page that needs a
CDN fails here even on a machine that is online.
"""

from __future__ import annotations

import base64
import fcntl
import functools
import http.server
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORT = (1280, 1600)
LOAD_TIMEOUT_S = 30.0
# Like --virtual-time-budget=15000: after the load event, wait at most this long for the page
# to settle (no request in flight, no DOM change, MathJax done) before reading it.
SETTLE_BUDGET_S = 15.0
QUIET_S = 0.5
WIDGET_VIEW_TYPE = "application/vnd.jupyter.widget-view+json"
# Elements that hold one formula each: MathJax replaces their TeX by an <mjx-container>.
MATH_CLASSES = {"math", "text_latex"}

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
    # Resolve no host name: only 127.0.0.1 (the test server) can be reached.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]

# Installed before any script of the page runs: records when the DOM last changed.
OBSERVER_JS = """
window.__lastMutation = performance.now();
new MutationObserver(() => { window.__lastMutation = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""

# Milliseconds since the DOM last changed, or -1 while MathJax is still starting up.
QUIET_MS_JS = """
(async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    const ready = await Promise.race([
      mj.startup.promise.then(() => true, () => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 200)),
    ]);
    if (!ready) { return -1; }
  }
  return performance.now() - (window.__lastMutation || 0);
})()
"""

# Reads the rendered page. Runs in the page; returns plain JSON.
MATH_SELECTOR = ", ".join(f".{c}" for c in sorted(MATH_CLASSES))
MEASURE_JS = """
(() => {
  const mathSelector = MATH_SELECTOR;
  const viewSelector = 'script[type="VIEW_TYPE"]';
  const hasWidgetClass = (el) =>
    Array.from(el.classList).some((c) => c.startsWith("jupyter-widgets"));
  const math = Array.from(document.querySelectorAll(mathSelector));
  const views = Array.from(document.querySelectorAll(viewSelector));
  const unrenderedViews = views.filter((s) => {
    const area = s.parentElement;
    return !area || !Array.from(area.querySelectorAll("*")).some(hasWidgetClass);
  });
  return {
    mjxContainers: document.querySelectorAll("mjx-container").length,
    unrenderedMath: math.filter((e) => !e.querySelector("mjx-container"))
                        .map((e) => e.textContent.trim().slice(0, 80)),
    widgetViews: views.length,
    unrenderedWidgets: unrenderedViews.length,
    widgetElements: Array.from(document.querySelectorAll("*")).filter(hasWidgetClass).length,
    widgetErrors: Array.from(document.querySelectorAll(".jupyter-widgets"))
                       .filter((e) => e.textContent.includes("Error displaying widget")).length,
    images: Array.from(document.images).map((i) => ({
      src: i.currentSrc || i.src, complete: i.complete, naturalWidth: i.naturalWidth})),
  };
})()
""".replace("MATH_SELECTOR", json.dumps(MATH_SELECTOR)).replace("VIEW_TYPE", WIDGET_VIEW_TYPE)

# JavaScript errors that are expected and harmless, as (substring of the message, reason).
# Keep it empty unless a message is understood; every entry needs its reason.
ALLOWED_CONSOLE_ERRORS: list[tuple[str, str]] = []


# --------------------------------------------------------------------------------------------
# The table of contents


def toc_docnames(book_root: Path) -> list[str]:
    """Every document listed in _toc.yml (root first), as docnames like 'book/intro'."""
    toc = yaml.safe_load((book_root / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "glob" in entry:
                raise ValueError("_toc.yml: 'glob' entries are not supported by this test")
            if "file" in entry:
                names.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return [
        str(Path(n).with_suffix("")) if Path(n).suffix in {".md", ".ipynb"} else n for n in names
    ]


# --------------------------------------------------------------------------------------------
# The page as written on disk


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.math_nodes = 0
        self.widget_views = 0
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.network_tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if MATH_CLASSES & set((a.get("class") or "").split()):
            self.math_nodes += 1
        if tag == "script" and a.get("type") == WIDGET_VIEW_TYPE:
            self.widget_views += 1
        for attr in ("href", "src"):
            value = a.get(attr)
            if value is None:
                continue
            self.refs.append((tag, attr, value))
            # Tags that make the browser load something by themselves (a link is not one).
            loads = tag in {"script", "img", "iframe", "source", "video", "audio", "embed"} or (
                tag == "link"
                and set((a.get("rel") or "").split())
                & {"stylesheet", "preload", "modulepreload", "icon", "prefetch"}
            )
            if loads and _is_network(value):
                self.network_tags.append(f"<{tag} {attr}={value!r}>")


def _is_network(url: str) -> bool:
    scheme = urllib.parse.urlsplit(url).scheme
    return url.startswith("//") or scheme in {"http", "https", "ws", "wss", "ftp"}


@functools.cache
def _parse_file(path: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser


def broken_local_links(site: Path, page: Path) -> list[str]:
    """Local href/src values of `page` that resolve to no file (or, for <a>, to no anchor)."""
    broken = []
    site, page = site.resolve(), page.resolve()
    for tag, attr, value in _parse_file(page).refs:
        parts = urllib.parse.urlsplit(value)
        if parts.scheme or value.startswith("//"):
            continue  # mailto:, data:, javascript:, external sites
        if parts.path:
            target = (page.parent / urllib.parse.unquote(parts.path)).resolve()
        else:
            target = page
        if target.is_dir():
            target = target / "index.html"
        try:
            target.relative_to(site)
        except ValueError:
            broken.append(f"<{tag} {attr}={value!r}> points outside the site")
            continue
        if not target.is_file():
            broken.append(f"<{tag} {attr}={value!r}>: no file {target.relative_to(site)}")
            continue
        fragment = urllib.parse.unquote(parts.fragment)
        if tag == "a" and fragment and target.suffix == ".html":
            if fragment not in _parse_file(target).ids:
                broken.append(f"<a href={value!r}>: no id {fragment!r} in that page")
    return broken


# --------------------------------------------------------------------------------------------
# Serving the site


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".woff2": "font/woff2",
        ".woff": "font/woff",
        ".svg": "image/svg+xml",
    }

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class SiteServer:
    """Serves a folder on 127.0.0.1 on a free port, in a thread."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def image_problem(url: str) -> str | None:
    """None if `url` (local or data:) holds a non-empty PNG, SVG, JPEG, GIF or WebP image."""
    if url.startswith("data:"):
        header, _, payload = url.partition(",")
        data = (
            base64.b64decode(payload)
            if header.endswith(";base64")
            else urllib.parse.unquote_to_bytes(payload)
        )
    else:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                data = response.read()
        except (urllib.error.URLError, OSError) as err:
            return f"{url}: cannot fetch ({err})"
    if not data:
        return f"{url}: empty file"
    head = data[:512].lstrip()
    if (
        data.startswith(b"\x89PNG\r\n\x1a\n")
        or data.startswith(b"\xff\xd8\xff")
        or data.startswith((b"GIF87a", b"GIF89a"))
        or (data.startswith(b"RIFF") and data[8:12] == b"WEBP")
        or head.startswith(b"<svg")
        or (head.startswith(b"<?xml") and b"<svg" in data[:2048])
    ):
        return None
    return f"{url}: not a PNG/SVG/JPEG/GIF/WebP image (starts with {data[:8]!r})"


# --------------------------------------------------------------------------------------------
# Chromium over the DevTools protocol


class DevToolsError(RuntimeError):
    pass


class Chromium:
    """A headless Chromium, driven through --remote-debugging-pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary: str = CHROMIUM) -> None:
        if not shutil.which(binary):
            raise FileNotFoundError(f"Chromium not found at {binary} (make test installs it)")
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, from_child_w = os.pipe()

        def plumb():  # in the child, before exec: our pipe ends become its fds 3 and 4
            high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
            high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
            os.dup2(high_r, 3)  # dup2 makes 3 and 4 inheritable; everything else is close-on-exec
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=plumb,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._messages: queue.Queue = queue.Queue()
        self._events: dict[str, list[dict]] = {}
        threading.Thread(target=self._read, daemon=True).start()
        self.call("Browser.getVersion", timeout=30)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_child_r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._messages.put(None)
                return
            buffer += chunk
            *complete, buffer = buffer.split(b"\0")
            for raw in complete:
                self._messages.put(json.loads(raw))

    def _dispatch(self, message: dict) -> None:
        session = message.get("sessionId")
        if session in self._events:
            self._events[session].append(message)

    def pump(self, timeout: float) -> None:
        """Wait up to `timeout` s for protocol messages and file the events among them."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                message = self._messages.get(timeout=remaining)
            except queue.Empty:
                return
            if message is None:
                raise DevToolsError("Chromium exited")
            self._dispatch(message)

    def call(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 30.0,
    ) -> dict:
        self._next_id += 1
        request = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        os.write(self._to_child_w, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DevToolsError(f"{method}: no answer in {timeout} s")
            try:
                message = self._messages.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                raise DevToolsError(f"{method}: Chromium exited")
            if message.get("id") == request["id"]:
                if "error" in message:
                    raise DevToolsError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._dispatch(message)

    def open_session(self) -> tuple[str, str]:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self._events[session] = []
        return target, session

    def events(self, session: str) -> list[dict]:
        return self._events[session]

    def close_session(self, target: str, session: str) -> None:
        self._events.pop(session, None)
        self.call("Target.closeTarget", {"targetId": target})

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except DevToolsError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child_w, self._from_child_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Checking one page


@dataclass
class PageReport:
    name: str
    url: str
    math_nodes: int = 0  # in the page as written
    mjx_containers: int = 0  # in the page as rendered
    unrendered_math: list[str] = field(default_factory=list)
    widget_views: int = 0
    widget_elements: int = 0
    unrendered_widgets: int = 0
    widget_errors: int = 0
    images: int = 0
    image_problems: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    network_tags: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    allowed_console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    settled: bool = True

    def problems(self) -> list[str]:
        p = []
        if self.mjx_containers < self.math_nodes or self.unrendered_math:
            p.append(
                f"math: {self.math_nodes} formulas in the page, {self.mjx_containers} rendered; "
                f"unrendered: {self.unrendered_math[:5]}"
            )
        if self.unrendered_widgets or self.widget_errors:
            p.append(
                f"widgets: {self.unrendered_widgets} of {self.widget_views} views not rendered, "
                f"{self.widget_errors} 'Error displaying widget'"
            )
        p += [f"image: {x}" for x in self.image_problems]
        p += [f"link: {x}" for x in self.broken_links]
        p += [f"loads from the network: {x}" for x in self.network_tags]
        p += [f"request left 127.0.0.1: {x}" for x in self.external_requests]
        p += [f"console error: {x}" for x in self.console_errors]
        return p

    def summary(self) -> str:
        lines = [
            f"{self.name}: {self.mjx_containers}/{self.math_nodes} formulas rendered, "
            f"{self.widget_views - self.unrendered_widgets}/{self.widget_views} widget views "
            f"rendered, {self.images} images, {len(self.console_errors)} console errors"
            + ("" if self.settled else " (did not settle within the budget)")
        ]
        lines += [f"    console error: {e}" for e in self.console_errors]
        lines += [f"    allowed console error: {e}" for e in self.allowed_console_errors]
        return "\n".join(lines)


def _is_local(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in {"data", "blob", "about", "chrome", "devtools"}:
        return True
    return parts.hostname == "127.0.0.1"


def _console_text(event: dict) -> str | None:
    """The error message of a DevTools event, or None if the event is no error."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        details = params.get("exceptionDetails", {})
        exception = details.get("exception", {})
        text = exception.get("description") or details.get("text", "exception")
        where = details.get("url", "")
        return f"{text.splitlines()[0]} ({where}:{details.get('lineNumber', 0) + 1})"
    if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
        args = params.get("args", [])
        return "console.error: " + " ".join(
            str(a.get("value", a.get("description", a.get("type")))) for a in args
        )
    if method == "Log.entryAdded":
        entry = params.get("entry", {})
        if entry.get("level") == "error":
            return f"{entry.get('text')} ({entry.get('url', '')})"
    return None


class SiteChecker:
    def __init__(
        self, chromium: Chromium, site: Path, server: SiteServer, screenshots: Path | None = None
    ) -> None:
        self.chromium = chromium
        self.site = site
        self.server = server
        self.screenshots = screenshots

    def check_page(self, name: str, relpath: str) -> PageReport:
        url = self.server.base + relpath
        report = PageReport(name=name, url=url)
        page_file = self.site / relpath
        written = _parse_file(page_file)
        report.math_nodes = written.math_nodes
        report.widget_views = written.widget_views
        report.network_tags = list(written.network_tags)
        report.broken_links = broken_local_links(self.site, page_file)

        target, session = self.chromium.open_session()
        try:
            self._load(session, url, report)
            measured = self._evaluate(session, MEASURE_JS)
            if self.screenshots is not None:
                self.screenshots.mkdir(parents=True, exist_ok=True)
                shot = self.chromium.call("Page.captureScreenshot", {"format": "png"}, session)
                report.screenshot = self.screenshots / (name.replace("/", "__") + ".png")
                report.screenshot.write_bytes(base64.b64decode(shot["data"]))
            events = list(self.chromium.events(session))
        finally:
            self.chromium.close_session(target, session)

        report.mjx_containers = measured["mjxContainers"]
        report.unrendered_math = measured["unrenderedMath"]
        report.unrendered_widgets = measured["unrenderedWidgets"]
        report.widget_elements = measured["widgetElements"]
        report.widget_errors = measured["widgetErrors"]
        report.images = len(measured["images"])
        seen_images = set()
        for image in measured["images"]:
            src = image["src"]
            if not image["complete"] or image["naturalWidth"] == 0:
                report.image_problems.append(f"{src}: not loaded in the browser")
            if src and src not in seen_images:
                seen_images.add(src)
                if _is_local(src) and (problem := image_problem(src)):
                    report.image_problems.append(problem)

        self._read_events(events, report)
        return report

    def evaluate_page(self, relpath: str, expression: str):
        """Load a page, let it settle, and return (value of `expression`, PageReport with only
        the console errors and external requests filled in)."""
        url = self.server.base + relpath
        report = PageReport(name=relpath, url=url)
        target, session = self.chromium.open_session()
        try:
            self._load(session, url, report)
            value = self._evaluate(session, expression)
            events = list(self.chromium.events(session))
        finally:
            self.chromium.close_session(target, session)
        self._read_events(events, report)
        return value, report

    @staticmethod
    def _read_events(events: list[dict], report: PageReport) -> None:
        for event in events:
            if event.get("method") == "Network.requestWillBeSent":
                request_url = event["params"]["request"]["url"]
                if not _is_local(request_url) and request_url not in report.external_requests:
                    report.external_requests.append(request_url)
            text = _console_text(event)
            if text is None:
                continue
            if any(pattern in text for pattern, _ in ALLOWED_CONSOLE_ERRORS):
                report.allowed_console_errors.append(text)
            else:
                report.console_errors.append(text)

    def _evaluate(self, session: str, expression: str, await_promise: bool = False):
        result = self.chromium.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
            session,
            timeout=LOAD_TIMEOUT_S,
        )
        if "exceptionDetails" in result:
            raise DevToolsError(f"evaluating in the page failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def _load(self, session: str, url: str, report: PageReport) -> None:
        call = self.chromium.call
        for domain in ("Page", "Runtime", "Log", "Network"):
            call(f"{domain}.enable", session=session)
        call(
            "Emulation.setDeviceMetricsOverride",
            {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        call("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVER_JS}, session)
        call("Page.navigate", {"url": url}, session)

        events = self.chromium.events(session)
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while not any(e.get("method") == "Page.loadEventFired" for e in events):
            if time.monotonic() > deadline:
                raise DevToolsError(f"{url}: no load event in {LOAD_TIMEOUT_S} s")
            self.chromium.pump(0.05)

        # Settle: nothing in flight and no DOM change for QUIET_S, MathJax finished.
        deadline = time.monotonic() + SETTLE_BUDGET_S
        last_activity = time.monotonic()
        while True:
            self.chromium.pump(0.1)
            in_flight: set[str] = set()
            for e in events:
                method, params = e.get("method"), e.get("params", {})
                if method == "Network.requestWillBeSent":
                    in_flight.add(params["requestId"])
                elif method in {"Network.loadingFinished", "Network.loadingFailed"}:
                    in_flight.discard(params["requestId"])
            if in_flight:
                last_activity = time.monotonic()
            quiet_ms = self._evaluate(session, QUIET_MS_JS, await_promise=True)
            quiet = min(time.monotonic() - last_activity, max(quiet_ms, 0) / 1000)
            if quiet >= QUIET_S:
                return
            if time.monotonic() > deadline:
                report.settled = False
                return

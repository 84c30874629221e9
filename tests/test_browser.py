"""The built site in headless Chromium: every formula rendered by KaTeX, nothing from the network.

The site (built once by test_docs.build_site) is served on 127.0.0.1. Chromium resolves
every other host to nothing (`--host-resolver-rules`), so a page that needed the network
would fail to render, and its network log (`--log-net-log`) lists each request the page
made, so a request for another host fails the test even though it could not succeed.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_docs import HAS_MKDOCS, build_site

CHROMIUM = next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None
)
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
    ),
    pytest.mark.skipif(not HAS_MKDOCS, reason="mkdocs is not installed (.[docs])"),
]

PAGES = ["", "concepts/", "gallery/polynomial/", "gallery/jacobian/", "derivation-pages/"]
RESOURCE_ATTRIBUTES = {
    "script": "src",
    "link": "href",
    "img": "src",
    "source": "src",
    "iframe": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "object": "data",
}


class _Handler(SimpleHTTPRequestHandler):
    """Serves the site and records the paths asked for, quietly."""

    def log_message(self, format, *args):
        self.server.paths.append(self.path)


@pytest.fixture(scope="module")
def site_url():
    site = build_site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=site))
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", server.paths
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def open_in_chromium(url: str, folder: Path) -> tuple[str, list[str]]:
    """The DOM after the page's scripts ran, and the URLs the page requested."""
    netlog = folder / "netlog.json"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-features=AutofillServerCommunication,Translate,OptimizationHints",
        f"--user-data-dir={folder / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--log-net-log={netlog}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, page_requests(netlog, url)


def page_requests(netlog: Path, url: str) -> list[str]:
    """URLs requested on behalf of the page (not Chromium's own background traffic)."""
    log = json.loads(netlog.read_text())
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    site = f"{urlsplit(url).scheme}://{urlsplit(url).hostname}"
    requests = []
    for event in log["events"]:
        params = event.get("params") or {}
        if names.get(event["type"]) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        # The page and what it loads (initiated by its origin); Chromium's own requests on
        # the page's behalf, such as autofill queries, have no initiating origin.
        if str(params.get("initiator", "")).startswith(site) or params["url"] == url:
            requests.append(params["url"])
    return requests


class _Text(HTMLParser):
    """Visible text, without scripts, styles, code and KaTeX's TeX annotations."""

    SKIP = {"script", "style", "pre", "code", "annotation", "noscript", "template"}

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


@pytest.mark.parametrize("path", PAGES)
def test_formulas_render_with_no_network(site_url, path, tmp_path):
    """Every formula becomes KaTeX, no TeX is left as text, no request leaves 127.0.0.1."""
    base, served = site_url
    url = base + path
    html = (build_site() / path / "index.html").read_text()
    formulas = html.count('class="arithmatex"')
    assert formulas > 0, "the page has no formulas to render"

    dom, requests = open_in_chromium(url, tmp_path)

    assert dom.count('class="katex"') >= formulas
    assert "katex-error" not in dom
    text = visible_text(dom)
    for raw in ("$$", "\\(", "\\)", "\\[", "\\]", "\\frac", "\\begin"):
        assert raw not in text, f"unrendered {raw!r} on {path or 'the home page'}"

    assert any(r.endswith("/assets/katex/katex.min.js") for r in requests), requests
    assert any(r.endswith(".woff2") for r in requests), "KaTeX's fonts were not loaded"
    outside = [r for r in requests if urlsplit(r).hostname != "127.0.0.1"]
    assert not outside, f"requests that left the machine: {outside}"
    assert any(p.startswith("/assets/katex/fonts/") for p in served)


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attribute = RESOURCE_ATTRIBUTES.get(tag)
        for name, value in attrs:
            if value and (name == attribute or name == "srcset"):
                self.urls.append(value)
            if name == "style" and value and "url(" in value:
                self.urls += re.findall(r"url\(['\"]?([^'\")]+)", value)


def test_the_built_site_references_nothing_outside():
    """No script, style sheet, font or image of the built site comes from another host."""
    site = build_site()
    external = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
    found = []
    for page in site.rglob("*.html"):
        parser = _Resources()
        parser.feed(page.read_text())
        found += [f"{page.relative_to(site)}: {u}" for u in parser.urls if external.match(u)]
    for sheet in site.rglob("*.css"):
        for target in re.findall(r"(?:url\(|@import\s+)['\"]?([^'\")\s;]+)", sheet.read_text()):
            if external.match(target):
                found.append(f"{sheet.relative_to(site)}: {target}")
    assert not found, found
    assert (site / "assets" / "katex" / "katex.min.js").is_file()
    assert len(list((site / "assets" / "katex" / "fonts").glob("*.woff2"))) >= 10

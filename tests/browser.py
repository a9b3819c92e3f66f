"""Browser tests' plumbing: the app on a local port, Debian's chromium under Playwright, and a fence.

The viewer must work on an air-gapped network, so every browser test runs behind a fence: each
request is recorded, and any that is not for 127.0.0.1 is blocked and kept as evidence, so a test
can assert that the page needed nothing from outside (no CDN, no web font, no telemetry). Console
errors and uncaught page errors are collected the same way.

Never `playwright install`: the browser is the system's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, Route, sync_playwright

from graph_service.neo4j_local.server import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_HOSTS = frozenset({"127.0.0.1"})
#: Schemes that never leave the page (inline images, generated downloads).
INLINE_SCHEMES = frozenset({"data", "blob", "about"})
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@dataclass
class Traffic:
    """What a page asked for and complained about while a test drove it."""

    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def outside(self) -> list[str]:
        """Every requested URL that was not for 127.0.0.1 (blocked or not)."""
        return [url for url in self.requests if not is_local(url)]


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in INLINE_SCHEMES or parts.hostname in LOCAL_HOSTS


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def fence(page: Page, traffic: Traffic) -> None:
    """Record every request and console error of `page`; abort any request leaving 127.0.0.1."""

    def route(route: Route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            traffic.blocked.append(url)
            route.abort("blockedbyclient")

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            traffic.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def request(req: Request) -> None:
        traffic.requests.append(req.url)

    page.on("request", request)
    page.on("console", console)
    page.on("pageerror", lambda error: traffic.page_errors.append(str(error)))
    page.route("**/*", route)


@contextmanager
def fenced_page(base_url: str, *, width: int = 1600, height: int = 1000) -> Iterator[tuple[Page, Traffic]]:
    """A fresh chromium page at `base_url`'s origin, fenced; closed (with the browser) on exit."""
    traffic = Traffic()
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            # Service workers would serve requests past page.route: keep them out.
            context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height},
                                          service_workers="block")
            page = context.new_page()
            fence(page, traffic)
            yield page, traffic
            context.close()
        finally:
            browser.close()


@contextmanager
def serving(app: Any, *, timeout: float = 30.0) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free 127.0.0.1 port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the app did not start on 127.0.0.1:{port} (see the log above)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"the app did not start on 127.0.0.1:{port} within {timeout:.0f}s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)


def wait_ready(page: Page, timeout_ms: float = 30_000) -> None:
    """Wait until the viewer is idle: no request in flight, no layout running, no search pending."""
    page.wait_for_function("() => window.gracegraph && window.gracegraph.ready === true", timeout=timeout_ms)


@contextmanager
def clean_viewer(base_url: str, path: str) -> Iterator[tuple[Page, Traffic]]:
    """The viewer opened at `path`, ready; on leaving, the test fails if the page asked for anything
    outside 127.0.0.1 or logged an error, so every viewer test checks the air gap for free."""
    with fenced_page(base_url) as (page, traffic):
        page.goto(path)
        wait_ready(page)
        yield page, traffic
        assert traffic.outside() == [], f"requests left 127.0.0.1: {traffic.outside()}"
        assert traffic.blocked == []
        assert traffic.console_errors == [], traffic.console_errors
        assert traffic.page_errors == [], traffic.page_errors


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under artifacts/ (gitignored) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path

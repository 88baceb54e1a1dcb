"""The web apps in a real browser: Debian's Chromium driven by Playwright, against a whole local stack.

`web_stack` starts `python -m local run` once per session with free ports, the web apps served at a
port of their own (a separate origin from the API, so every call takes the real CORS path) and the
demo shop with its tax rates and shipping methods. `page` is a fresh browser context per test (no
cookies, storage or cart carried over). At teardown each test is held to two rules of issue 15:
no console error (a test that provokes one on purpose lists it in `allowed_console_errors`), and no
request anywhere but the web app, the API, the local user pool (moto) and the local Stripe — others are
blocked, and named in the failure.

Chromium is the system's (`/usr/bin/chromium`, or `CHROMIUM_PATH`), never one Playwright downloads;
`make test` installs it with apt when missing. Without it these tests skip and say why.
"""

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, expect, sync_playwright

from tests.e2e.localstack import ROOT, LocalStack, free_port, start, stop, wait_ready

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium")
DIST = ROOT / "web" / "dist"
# The demo shop with its order history and pricing: slower to seed than the API suites' stacks.
START_DEADLINE = 300.0
ACTION_TIMEOUT_MS = 15_000  # one click, fill or expect(...): a cold function's first answer is slow here
expect.set_options(timeout=ACTION_TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


@dataclass
class WebStack(LocalStack):
    """A local stack that also serves the web apps: `web` is their origin (`http://127.0.0.1:PORT`)."""

    web: str = ""

    @property
    def shop(self) -> str:
        return f"{self.web}/"

    @property
    def console(self) -> str:
        return f"{self.web}/admin/"

    def allowed_origins(self) -> set[str]:
        """Where the browser may go: the web apps, the API, the local user pool and the local Stripe."""
        state = self.state()
        urls = [self.web, state["apiUrl"], state["awsEndpoint"], state.get("stripeUrl") or ""]
        return {_origin(u) for u in urls if u}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        reason = f"found {found} instead: set CHROMIUM_PATH" if found else "`make chromium` (apt-get install chromium)"
        pytest.skip(f"no Chromium at {CHROMIUM} for the browser tests: {reason}")
    return CHROMIUM


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Iterator[WebStack]:
    if not (DIST / "index.html").is_file() or not (DIST / "admin" / "index.html").is_file():
        pytest.fail(f"{DIST} has no built web apps: run `make web` first (make test does)", pytrace=False)
    state_dir = tmp_path_factory.mktemp("web-stack")
    web_port = free_port()
    process, log = start(state_dir, web_port=web_port, demo_pricing=True)
    try:
        api = wait_ready(process, log, within=START_DEADLINE)
        yield WebStack(api, state_dir, process, log, web=f"http://127.0.0.1:{web_port}")
    finally:
        stop(process)


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Root (CI, containers) cannot use Chromium's user-namespace sandbox.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageLog:
    """What a page did that the teardown judges: console errors and requests to foreign origins."""

    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)


@pytest.fixture
def allowed_console_errors() -> list[str]:
    """Regular expressions of console errors a test provokes on purpose (e.g. a declined card's 402)."""
    return []


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


def guard(browser: Browser, web_stack: WebStack, page_log: PageLog, **options: Any) -> BrowserContext:
    """A fresh context with one page whose requests outside the local stack are blocked and whose console
    errors are kept, both in `page_log`; a test with several people (shopper, admin) opens one each."""
    allowed = web_stack.allowed_origins()
    context = browser.new_context(base_url=web_stack.web, locale="en-GB", timezone_id="Europe/Berlin", **options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)

    def gatekeeper(route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or _origin(url) in allowed:
            route.continue_()
        else:
            page_log.foreign_requests.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", gatekeeper)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            page_log.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: page_log.console_errors.append(f"uncaught: {error}"))
    return context


@pytest.fixture
def page(browser: Browser, web_stack: WebStack, page_log: PageLog, allowed_console_errors: list[str]) -> Iterator[Page]:
    context = guard(browser, web_stack, page_log)
    try:
        yield context.pages[0]
    finally:
        context.close()
    unexpected = [e for e in page_log.console_errors if not any(re.search(p, e) for p in allowed_console_errors)]
    assert not page_log.foreign_requests, f"requests outside the local stack: {page_log.foreign_requests}"
    assert not unexpected, f"console errors: {unexpected}"

"""Browser tests: Playwright for Python driving Debian's Chromium against a real ``techx serve``.

The server runs on a fresh PostgreSQL database seeded by ``techx demo`` (the same exchange a
newcomer sees after ``make run``), with the test clock so a test can move time. Every page is
opened in a context that refuses any request to a host other than 127.0.0.1 (the site must work
offline and in mainland China) and in a time zone other than Beijing's (the pages, not the
browser, write Beijing time). A failing test leaves a screenshot in ``test-artifacts/browser/``.

Chromium and a CJK font come from Debian (``scripts/ensure-browser``); Playwright's own browser
download cannot work here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from exchange.server.demo.data import DEMO_PASSWORD, OPERATOR_EMAIL, ORGS
from tests.e2e.conftest import Api, ServerProcess, fresh_pg_database

playwright_sync = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
EMAILS = {org.key: org.email for org in ORGS} | {"ops": OPERATOR_EMAIL}
PHONE = {"width": 375, "height": 740}  # the WeChat browser on a small phone


def chromium_executable() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Debian's chromium is not installed (scripts/ensure-browser installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``techx demo`` then ``techx serve`` on a fresh PostgreSQL database, for one test module."""
    with fresh_pg_database("techx_portal") as url:
        server = ServerProcess(url, tmp_path_factory.mktemp("portal"))
        server.techx("demo", timeout=300)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def api(demo_server: ServerProcess) -> Iterator[Api]:
    client = Api(demo_server)
    yield client
    client.close()


# Per module: Playwright's synchronous API runs an event loop in this thread while it is started, and
# the asynchronous tests collected after the browser tests need the thread free of one.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_executable()
    with playwright_sync.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@dataclass
class Visit:
    """A browser context on the portal: its pages, and the requests it tried to send elsewhere."""

    base_url: str
    context: Any
    page: Any
    foreign: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # scripts, styles, images the page could not load

    def open(self, path: str, **kw: Any) -> Any:
        response = self.page.goto(self.base_url + path, **kw)
        return response

    def sign_in(self, who: str) -> None:
        self.open(f"/login?next={self.page.url and '/'}")
        self.page.fill("#email", EMAILS[who])
        self.page.fill("#password", DEMO_PASSWORD)
        self.page.click("form[action='/login'] button[type=submit]")
        self.page.wait_for_load_state()

    def axe_violations(self, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
        """axe-core's WCAG 2.1 A/AA violations of the current page at the given impacts."""
        self.page.add_script_tag(path=str(AXE))
        found = self.page.evaluate(
            "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
        )
        return [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in found
            if v["impact"] in impacts
        ]

    def horizontal_overflow(self) -> int:
        """How many pixels the page is wider than the viewport (0: no horizontal scrolling)."""
        return int(self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def _visit(
    browser: Any, server: ServerProcess, request: pytest.FixtureRequest, **context_options: Any
) -> Iterator[Visit]:
    context = browser.new_context(locale="zh-CN", timezone_id="Europe/London", **context_options)
    visit = Visit(server.base_url, context, context.new_page())

    def guard(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", None) or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            visit.foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)

    def loaded(response: Any) -> None:
        if response.status >= 400 and response.request.resource_type in ("stylesheet", "script", "image", "font"):
            visit.broken.append(f"{response.status} {response.url}")

    visit.page.on("response", loaded)
    yield visit
    failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call"))
    if failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = request.node.nodeid.replace("/", "_").replace("::", "__")
        visit.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    assert not visit.foreign, f"the page tried to reach other hosts: {visit.foreign}"
    assert not visit.broken, f"the page could not load: {visit.broken}"


@pytest.fixture
def visit(browser: Any, demo_server: ServerProcess, request: pytest.FixtureRequest) -> Iterator[Visit]:
    """A desktop browser (1280 × 800) on the portal."""
    yield from _visit(browser, demo_server, request, viewport={"width": 1280, "height": 800})


@pytest.fixture
def phone(browser: Any, demo_server: ServerProcess, request: pytest.FixtureRequest) -> Iterator[Visit]:
    """A phone-sized browser (375 px wide) on the portal."""
    yield from _visit(browser, demo_server, request, viewport=PHONE, is_mobile=True, has_touch=True)

"""Browser test harness: a real `streamlit run` server and headless Debian chromium.

Fixtures
--------
- ``shared_servers``: app path -> URL of a ``python -m streamlit run <app>`` this test
  process started once (the project's one harness, ``playground.loadtest.server.Server``,
  which waits for ``/_stcore/health``), stopped when the process ends.
- ``app_url``: the URL of a started app: by default the live_plot demo page; another
  app with ``@pytest.mark.parametrize("app_url", ["streamlit_app.py"], indirect=True)``.
  Tests of several learners or of speed share it too: a closed tab's run stops within
  the scheduler's ``IDLE_STOP_S``, and the windows a test opens are closed after it.
- ``browser`` (one chromium per module; the windows a test opens are closed after it,
  a failed test's screenshotted first into ``test-artifacts/failed/``, except a context
  the module shares on purpose, ``keep_open``) and ``page`` (one per test, 1280x900
  viewport).
- ``artifacts``: the ``test-artifacts/`` folder (gitignored) for screenshots.

Every test in this folder is marked ``browser`` and skipped, with the reason, when
/usr/bin/chromium or Playwright is missing.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from playground.loadtest.server import Server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
DEMO_APP = "tests/system/browser/live_plot_demo_app.py"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

NO_CHROMIUM = f"{CHROMIUM} is missing: install Debian chromium (apt-get install -y chromium)"


def _missing() -> str:
    """Why browser tests cannot run here, or '' when they can."""
    if not CHROMIUM.exists():
        return NO_CHROMIUM
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test collected under this folder as a browser test; skip them all,
    before any server starts, where chromium or Playwright is missing."""
    here = Path(__file__).parent
    why = _missing()
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if why:
                item.add_marker(pytest.mark.skip(reason=why))


@contextlib.contextmanager
def start_server(app_path: str | Path = DEMO_APP, *extra_args: str) -> Iterator[str]:
    """``streamlit run <app_path> [extra args]`` on a free port (the project's one server
    harness, ``loadtest.server.Server``); yields its URL, then stops it."""
    args = ("--server.fileWatcherType", "none", *extra_args)
    with Server(app=str(app_path), args=args) as server:
        yield server.url


@pytest.fixture(scope="session")
def shared_servers() -> Iterator[dict[str, str]]:
    """App path -> URL of a server this test process started once and shares: a server
    starts in seconds on a busy machine, and every test opens sessions of its own (a
    class its own code), so they need no server of their own."""
    with contextlib.ExitStack() as stack:

        class Started(dict):
            def __missing__(self, app_path: str) -> str:
                self[app_path] = stack.enter_context(start_server(app_path))
                return self[app_path]

        yield Started()


@pytest.fixture
def app_url(request: pytest.FixtureRequest, shared_servers: dict[str, str]) -> str:
    """URL of a running app: ``request.param`` (indirect parametrize) or the demo page,
    shared by the tests of this test process."""
    return shared_servers[str(getattr(request, "param", DEMO_APP))]


@pytest.fixture(scope="module")
def running_browser() -> Iterator[Browser]:
    """Headless Debian chromium, one a module; skips (not fails) where it or Playwright
    is missing. (One a test process was tried: the class tests, a teacher's and
    learners' tabs, then failed in 3 of 4 runs, their pictures or tiles stuck.)"""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    pw_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with pw_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


CALL_FAILED = pytest.StashKey[bool]()  # the test itself failed (not its setup)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


def close_windows(contexts: list, request: pytest.FixtureRequest) -> None:
    """Close a test's browser contexts; if the test failed, screenshot each of their
    windows first, whole, into test-artifacts/failed/, to tell why."""
    failed = request.node.stash.get(CALL_FAILED, False)
    for i, context in enumerate(contexts):
        for j, window in enumerate(context.pages if failed else []):
            with contextlib.suppress(Exception):  # a window that hangs says nothing more
                shot = ARTIFACTS / "failed" / f"{request.node.name}-{i}-{j}.png"
                shot.parent.mkdir(parents=True, exist_ok=True)
                window.screenshot(path=str(shot), full_page=True, timeout=10_000)
        context.close()


# Contexts a module's tests share on purpose (``keep_open``): not closed after each test.
KEPT: weakref.WeakSet[BrowserContext] = weakref.WeakSet()


@pytest.fixture(scope="session")
def keep_open() -> Callable[[BrowserContext], BrowserContext]:
    """Marks a context to outlive the test that made it (the fixture that made it closes
    it). A fixture, not an import: a test module importing this file gets a second copy
    of it, whose ``KEPT`` the ``browser`` fixture would not see."""

    def keep(context: BrowserContext) -> BrowserContext:
        KEPT.add(context)
        return context

    return keep


@pytest.fixture
def browser(running_browser: Browser, request: pytest.FixtureRequest) -> Iterator[Browser]:
    """The shared chromium, and after the test every window it left open closed: a tab
    left playing would take CPU from the tests after it."""
    yield running_browser
    close_windows([c for c in running_browser.contexts if c not in KEPT], request)


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    close_windows([context], request)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

"""Browser test harness: a real `streamlit run` server and headless Debian chromium.

Fixtures
--------
- ``streamlit_server``: a factory. ``streamlit_server("streamlit_app.py")`` starts
  ``python -m streamlit run <app>`` from the repo root on a free port, waits for
  ``/_stcore/health`` and returns the base URL; every server is stopped after the test.
- ``app_url``: the URL of a started app: by default the live_plot demo page; another
  app with ``@pytest.mark.parametrize("app_url", ["streamlit_app.py"], indirect=True)``.
- ``browser`` (one per module) and ``page`` (one per test, 1280x900 viewport).
- ``artifacts``: the ``test-artifacts/`` folder (gitignored) for screenshots.

Every test in this folder is marked ``browser`` and skipped, with the reason, when
/usr/bin/chromium or Playwright is missing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
DEMO_APP = "tests/browser/live_plot_demo_app.py"
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
STARTUP_TIMEOUT_S = 60.0

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"streamlit not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # The server runs in its own process group, so this stops exactly what we started.
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextlib.contextmanager
def start_server(app_path: str | Path = DEMO_APP, *extra_args: str, log_dir: Path | None = None):
    """``streamlit run <app_path> [extra args]`` on a free port; yields its URL, then stops it."""
    port = _free_port()
    log = Path(log_dir or tempfile.gettempdir()) / f"streamlit-{port}.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        *extra_args,
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc, log)
        yield url
    finally:
        _stop(proc)


@pytest.fixture
def streamlit_server(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Factory: start ``streamlit run <app_path> [extra args]`` and return its URL."""
    with contextlib.ExitStack() as stack:

        def start(app_path: str | Path = DEMO_APP, *extra_args: str) -> str:
            return stack.enter_context(start_server(app_path, *extra_args, log_dir=tmp_path))

        yield start


@pytest.fixture
def app_url(request: pytest.FixtureRequest, streamlit_server: Callable[..., str]) -> str:
    """URL of a running app: ``request.param`` (indirect parametrize) or the demo page."""
    return streamlit_server(getattr(request, "param", DEMO_APP))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian chromium; skips (not fails) where it or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    pw_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with pw_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

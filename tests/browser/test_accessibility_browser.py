"""WCAG 2.1 A/AA in a real browser (issue 23): axe-core on every page of the app, the
Playground also while playing and with its expanders open. One test per view; each
prints the violations it found (rule, impact, nodes) and fails on any critical or
serious one. The counts of every view:

    .venv/bin/python -m pytest tests/browser/test_accessibility_browser.py -k axe -s

axe runs the bundled axe.min.js of ``axe-playwright-python`` (no network).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.browser.conftest import start_server
from tests.browser.test_playground_browser import APP, BOUNDARY, WAIT_MS, epoch, wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"critical", "serious"}
LAPTOP = {"width": 1400, "height": 1000}
EXPANDERS = (
    "Save, load and export",  # the data panel
    "For teachers: a link for your class",  # the teacher panel
    "Your network as code (Keras, JAX)",  # the code panel
    "Challenges",
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One app server for the module's views (each view is a session of its own)."""
    with start_server(APP, log_dir=tmp_path_factory.mktemp("a11y")) as url:
        yield url


def settle(page: Page) -> None:
    """Wait until the page's script has run (the lessons train their models first)."""
    page.get_by_role("heading").first.wait_for(timeout=WAIT_MS)
    running = page.locator('[data-testid="stStatusWidget"]')
    wait_until(page, lambda: running.count() == 0, "the page's script to finish")
    page.wait_for_timeout(1500)
    wait_until(page, lambda: running.count() == 0, "the page's script to finish")


def open_playground(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(f"() => !!({BOUNDARY})()?.dataset.frames", timeout=WAIT_MS)
    settle(page)


def playing(page: Page, url: str) -> None:
    open_playground(page, url)
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=WAIT_MS)
    wait_until(page, lambda: epoch(page) > 5, "training to start")


def expanders_open(page: Page, url: str) -> None:
    open_playground(page, url)
    for title in EXPANDERS:
        summary = page.locator("summary", has_text=title).first
        summary.scroll_into_view_if_needed()
        summary.click()
        settle(page)


def lesson(path: str) -> Callable[[Page, str], None]:
    def open_lesson(page: Page, url: str) -> None:
        page.goto(f"{url}/{path}")
        settle(page)

    return open_lesson


def class_wall(page: Page, url: str) -> None:
    """The teacher's wall of a new class (what a teacher sees after "Create a class")."""
    page.goto(f"{url}/class")
    settle(page)
    page.get_by_role("button", name="Create a class").click()
    page.get_by_text("Invite your learners").first.wait_for(timeout=WAIT_MS)
    settle(page)


VIEWS: dict[str, Callable[[Page, str], None]] = {
    "playground": open_playground,
    "playground-playing": playing,
    "playground-expanders": expanders_open,
    "bends": lesson("bends_regions"),
    "linear": lesson("lesson_linear"),
    "backprop": lesson("lesson_backprop"),
    "gradients": lesson("lesson_gradients"),
    "softmax": lesson("lesson_softmax"),
    "sgd": lesson("lesson_sgd"),
    "overfit": lesson("lesson_overfit"),
    "finetune": lesson("lesson_finetune"),
    "code": lesson("lesson_code"),
    "class": lesson("class"),
    "class-wall": class_wall,
}


def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}}
    return Axe().run(page, options=options).response["violations"]


def violation_counts(violations: list[dict]) -> dict[str, int]:
    """Nodes per "impact: rule", e.g. ``{"serious: color-contrast": 3}``."""
    return {f"{v['impact']}: {v['id']}": len(v["nodes"]) for v in violations}


@pytest.mark.parametrize("view", list(VIEWS))
def test_axe_finds_nothing_serious(view: str, app: str, browser: Browser, artifacts: Path):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    try:
        VIEWS[view](page, app)
        violations = axe_violations(page)
    finally:
        if "page" in locals():
            (artifacts / "a11y").mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / "a11y" / f"axe-{view}.png"))
        context.close()
    counts = violation_counts(violations)
    print(f"\naxe {view}: {json.dumps(counts)}")
    blocking = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:10],
            "summary": v["nodes"][0].get("failureSummary", ""),
        }
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert not blocking, json.dumps(blocking, indent=1)

"""A layout defect of issue 25 (defect 10) in a real browser: after a pause the
boundary's picture says the epoch the readouts say. (Its other one, plot titles under
Plotly's toolbar, is checked where the accessibility tests open those pages at a
phone's and a laptop's size: ``test_accessibility_browser.assert_titles_clear_the_toolbar``.)

Every wait is for an event, with a generous timeout: never for how fast the machine is.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.system.browser.test_playground_browser import (
    APP,
    WAIT_MS,
    boundary,
    counter,
    epoch,
    open_app,
    press_play_until_epoch,
    wait_until,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page


def picture_epoch(page: Page) -> int | None:
    """The epoch the boundary's picture says (its canvas caption), None if it says none."""
    label = boundary(page, "e.dataset.label ?? ''")
    if not label.startswith("epoch "):
        return None
    return int(label.removeprefix("epoch ").replace(",", ""))


@pytest.mark.parametrize("app_url", [APP], indirect=True)
def test_after_a_pause_the_picture_says_the_readouts_epoch(
    app_url: str, page: Page, artifacts: Path
) -> None:
    open_app(page, app_url)
    press_play_until_epoch(page, 30)
    wait_until(page, lambda: counter(page, "played") > 5, "pictures played")
    drawn = counter(page, "updates")
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=WAIT_MS)
    # The paused page's own run has reached the chart; frames still in flight may follow.
    wait_until(page, lambda: counter(page, "updates") > drawn, "the paused page's picture")
    page.wait_for_timeout(1500)
    paused = epoch(page)
    assert picture_epoch(page) == paused, (boundary(page, "e.dataset.label"), paused)
    page.wait_for_timeout(1500)  # and it stays so
    assert (picture_epoch(page), epoch(page)) == (paused, paused)
    page.screenshot(path=str(artifacts / "playground-paused.png"))

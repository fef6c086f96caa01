"""Two layout defects of issue 25 (defect 10) in a real browser: after a pause the
boundary's picture says the epoch the readouts say, and no plot title runs under
Plotly's toolbar icons, on a phone (390x844) or a laptop (1400x1000).

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

SIZES = {"phone": (390, 844), "laptop": (1400, 1000)}
# The Playground, and a lesson whose long titles ran under the icons on a phone.
PAGES = {"playground": ("", 4), "gradients": ("lesson_gradients", 6)}
BOXES = """() => [...document.querySelectorAll('.js-plotly-plot')].map(p => {
  const box = (el) => { if (!el) return null; const b = el.getBoundingClientRect();
    return [b.left, b.top, b.right, b.bottom]; };
  return {title: p.querySelector('.gtitle')?.textContent ?? '',
          titleBox: box(p.querySelector('.gtitle')), toolbar: box(p.querySelector('.modebar'))};
})"""


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


def overlaps(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("app_url", [APP], indirect=True)
def test_plot_titles_clear_the_toolbar(app_url: str, page: Page, artifacts: Path, size: str):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    for name, (path, plots) in PAGES.items():
        page.goto(f"{app_url}/{path}")
        titled = "document.querySelectorAll('.js-plotly-plot .gtitle').length"
        page.wait_for_function(f"() => {titled} >= {plots}", timeout=WAIT_MS)  # lessons train
        page.wait_for_timeout(1500)  # late margin changes settle
        page.screenshot(path=str(artifacts / f"titles-{name}-{width}x{height}.png"))
        figures = page.locator(".js-plotly-plot")
        checked = 0
        for i in range(figures.count()):
            if not figures.nth(i).is_visible():
                continue  # in a closed expander
            figures.nth(i).hover()  # the toolbar shows while the pointer is over the plot
            found = page.evaluate(BOXES)[i]
            if not found["title"]:
                continue
            assert found["toolbar"], f"{name}: no toolbar on {found['title']!r}"
            assert not overlaps(found["titleBox"], found["toolbar"]), (name, found)
            if not checked:  # to look at: a title with the toolbar shown above it
                page.screenshot(path=str(artifacts / f"titles-{name}-{width}x{height}-hover.png"))
            checked += 1
        assert checked >= plots, name

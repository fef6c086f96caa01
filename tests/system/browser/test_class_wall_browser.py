"""A class in a real browser: a teacher creates it on /class, three learners (three
browser contexts) join with names and press Play, the wall shows their tiles with
moving epochs, a spotlight shows one learner's boundary (and tells that learner), and
"Send to class" reaches all three. Screenshots of the wall go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.system.browser.test_playground_browser import APP, BOUNDARY, WAIT_MS, wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

NAMES = ("Ana", "Ben", "<b>Cy</b>")
SETUP = "hidden=4&batch_size=10&n_points=200&speed=fast"


def create_class(page: Page, url: str) -> str:
    page.goto(url + "/class")
    page.get_by_role("button", name="Create a class").click()
    page.wait_for_url("**teacher=**", timeout=WAIT_MS)  # the class's page
    join = page.locator('[data-testid="stCode"]').first.inner_text().strip()
    assert "class=" in join and "teacher=" not in join
    assert "teacher=" in page.url  # the teacher's own link is the page's address
    return join


def tile_epochs(page: Page) -> dict[str, int]:
    """Each tile's learner name and epoch, as the wall shows them."""
    # One read in the page: the wall redraws every second, and a tile read piece by
    # piece could be half of one draw and half of the next.
    found = page.evaluate(
        """() => [...document.querySelectorAll('[class*="st-key-tile_"]')]
          .filter(t => t.offsetParent !== null)
          .map(t => [t.querySelector('[data-testid="stText"]')?.innerText ?? '',
                     t.querySelector('[data-testid="stCaptionContainer"]')?.innerText ?? ''])"""
    )
    out = {}
    for name, caption in found:
        epoch = re.search(r"epoch ([\d,]+)", caption)
        out[name] = int(epoch.group(1).replace(",", "")) if epoch else -1
    return out


def join(browser: Browser, link: str, name: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    # The join link with the learner's name and the small network of the test.
    page.goto(f"{link}&name={name}&{SETUP}")
    page.wait_for_function(f"() => !!({BOUNDARY})()?.dataset.frames", timeout=WAIT_MS)
    return page


@pytest.mark.parametrize("own_app_url", [APP], indirect=True)
@pytest.mark.slow
def test_a_teacher_watches_three_learners_spotlights_one_and_sends_an_exercise(
    own_app_url: str, browser: Browser, artifacts: Path
) -> None:
    teacher = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    link = create_class(teacher, own_app_url)
    learners = {name: join(browser, link, name) for name in NAMES}
    for name, page in learners.items():
        # The name is shown as typed: plain text, never HTML.
        page.get_by_text(f"you appear as: {name}").wait_for(timeout=WAIT_MS)
        page.get_by_role("button", name="Play").click()
        page.get_by_role("button", name="Pause").wait_for(timeout=WAIT_MS)

    wait_until(teacher, lambda: set(tile_epochs(teacher)) == set(NAMES), "the three tiles")
    first = tile_epochs(teacher)
    wait_until(
        teacher,
        lambda: all(tile_epochs(teacher).get(n, -1) > max(first[n], 0) for n in NAMES),
        "every tile's epoch to move",
    )
    assert teacher.locator('[class*="st-key-tile_"] img[alt$="decision boundary"]').count() == 3
    teacher.get_by_text("Invite your learners").click()  # folded: the wall in view
    teacher.get_by_text("Stuck first").wait_for()
    teacher.screenshot(path=str(artifacts / "class_wall_3_1400x1000.png"))

    # Spotlight Ana: her boundary, large, on the teacher's page; she is told.
    ana = teacher.locator('[class*="st-key-tile_"]').filter(has_text="Ana")
    ana.get_by_role("button", name="Show on screen").click()
    teacher.get_by_text("On screen: Ana").wait_for(timeout=WAIT_MS)
    spot = teacher.locator(".st-key-live_plot-spot_boundary")
    spot.locator(".gtitle").filter(has_text="Ana's network").wait_for(timeout=WAIT_MS)
    # Her output is painted: the canvas under the plot has pixels of both classes' colours.
    painted = spot.evaluate(
        """e => { const c = e.querySelector('canvas.live-plot-canvas');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let blue = 0, orange = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i + 2] > 150 && d[i] < 100) blue++;
            if (d[i] > 200 && d[i + 2] < 100) orange++;
          }
          return [blue, orange]; }"""
    )
    assert min(painted) > 1000, painted
    learners["Ana"].get_by_text("Your teacher shows your network").wait_for(timeout=WAIT_MS)
    teacher.set_viewport_size({"width": 1920, "height": 1080})
    teacher.screenshot(path=str(artifacts / "class_spotlight_1920x1080.png"))

    # Send a preset that fixes controls: it applies by itself on every learner's page.
    form = teacher.locator('[data-testid="stExpander"]').filter(has_text="Send to class")
    pick = form.locator('[data-testid="stSelectbox"] input').first

    def choose_preset() -> bool:
        # A busy machine redraws the page (the spotlight came): open and type again.
        if not pick.is_visible():
            teacher.get_by_text("Send a new exercise to the class").click()
            teacher.wait_for_timeout(2_000)  # it opens before the next look
            return False
        if not pick.input_value().startswith("Exercise: Fewest"):
            pick.click()
            pick.fill("Fewest")  # the list filters as one types; Enter takes the first match
            pick.press("Enter")
        return pick.input_value().startswith("Exercise: Fewest")

    wait_until(teacher, choose_preset, "the preset chosen")
    try:
        form.get_by_text("Task: One hidden layer").wait_for(timeout=WAIT_MS)
    finally:
        teacher.screenshot(path=str(artifacts / "class_send_exercise.png"))
    form.get_by_role("button", name="Send to class").click()
    teacher.get_by_text("Sent: every learner is told").wait_for(timeout=WAIT_MS)
    for page in learners.values():
        page.get_by_text("One hidden layer of ReLUs", exact=False).first.wait_for(timeout=WAIT_MS)

"""A class experiment and the class leaderboard in a real browser: the teacher starts
a class of three learning rates from a 4-ReLU XOR network, three learners join and get
three different locked values, the wall's plot shows three points; two learners solve
xor-4, press Submit, and the wall's leaderboard lists them."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from playground.ui.challenge_panel import challenge_title
from tests.system.browser.test_playground_browser import (
    APP,
    BOUNDARY,
    WAIT_MS,
    epoch,
    pause,
    play,
    wait_until,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

RATES = ("0.01", "0.0316228", "0.1")


def set_number(page: Page, label: str, value: str) -> None:
    box = page.get_by_role("spinbutton", name=label)
    box.fill(value)
    box.press("Enter")
    page.wait_for_timeout(800)  # the rerun that takes it


def choose_challenge(box, name: str) -> bool:
    """Open the Challenge box, type ``name`` and take the first match with Enter; whether
    the box now shows that challenge's title. (A click that lands while the page reruns
    opens no list, and Enter then leaves the typed text, which no option was taken for.)"""
    from playwright.sync_api import Error as PlaywrightError

    try:
        box.click(timeout=5_000)
        box.page.get_by_role("option").first.wait_for(timeout=5_000)
        box.fill(name)
        box.press("Enter")
    except PlaywrightError:
        box.page.keyboard.press("Escape")
        return False
    return box.input_value() == challenge_title(name)


def wait_shown(locator, timeout_ms: int = 20_000) -> bool:
    """Whether ``locator`` shows within ``timeout_ms``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        locator.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        return False
    return True


def learner_accuracy(page: Page) -> float:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
    return float(tile.locator('[data-testid="stMetricValue"]').inner_text().rstrip("%")) / 100


def submit_until_passed(page: Page) -> None:
    """Submit, and read the grade. A network at 97 % on the run's 250 test points can
    still miss 0.95 on the challenge's own 2,000 (it did, beside two CPU hogs): it
    trains 100 epochs more and is submitted again, as a learner would."""
    passed = page.get_by_text(re.compile(r"^Passed: "))
    failed = page.get_by_text(re.compile(r"^Not passed: "))
    seen: list[str] = []
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        assert time.monotonic() < deadline, f"the challenge never passed: {seen}"
        page.get_by_role("button", name="Submit").click()
        wait_until(
            page,
            lambda seen=seen: passed.count() > 0 or failed.all_inner_texts() not in ([], seen),
            "the grade",
        )
        if passed.count():
            return
        seen = failed.all_inner_texts()  # it names the step graded: the next grade differs
        start = epoch(page)
        play(page)
        wait_until(page, lambda start=start: epoch(page) >= start + 100, "100 epochs more")
        pause(page)


@pytest.mark.parametrize("app_url", [APP], indirect=True)
@pytest.mark.slow
def test_three_learners_three_values_and_a_leaderboard(
    app_url: str, browser: Browser, artifacts: Path
) -> None:
    teacher = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    # The class starts from the teacher's Playground: XOR with one layer of 4 ReLUs, at
    # the normal 30 epochs/s. (Fast, a pause that a busy machine took seconds to land
    # came millions of steps late, and at 0.1 the network had left its solution: graded
    # 0.73, and it did not pass again before the test gave up.)
    teacher.goto(app_url + "/?hidden=4")
    teacher.wait_for_function(f"() => !!({BOUNDARY})()", timeout=WAIT_MS)
    teacher.get_by_role("link", name="Class").click()  # the same session
    teacher.get_by_text("Run a class experiment").click()
    set_number(teacher, "From", "0.01")
    set_number(teacher, "To", "0.1")
    set_number(teacher, "Values (N)", "3")
    teacher.get_by_role("button", name="Create a class").click()
    teacher.wait_for_url("**teacher=**", timeout=WAIT_MS)
    join = teacher.locator('[data-testid="stCode"]').first.inner_text().strip()

    learners = []
    for name, rate in zip(("Ann", "Bo", "Cid"), RATES, strict=True):
        page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        page.goto(f"{join}&name={name}")
        page.get_by_text("Your value in the class experiment").wait_for(timeout=WAIT_MS)
        assert f"learning rate {rate}" in page.get_by_text("Your value in").inner_text()
        learners.append(page)
    for page in learners:  # after every join: a playing run would slow the joins
        play(page)

    # The wall's plot: one point per learner in each panel.
    points = teacher.locator(".st-key-live_plot-exp_plot .scatterlayer .point")
    wait_until(teacher, lambda: points.count() == 6, "three points in both panels")
    teacher.screenshot(path=str(artifacts / "class_experiment_3_1400x1000.png"))
    pause(learners[0])  # Ann submits nothing: her training would only slow Bo's and Cid's

    # Two learners solve xor-4 and submit; the wall's leaderboard shows both.
    for page in learners[1:]:
        try:
            wait_until(page, lambda p=page: learner_accuracy(p) >= 0.97, "XOR solved")
            pause(page)
        finally:
            page.screenshot(path=str(artifacts / "class_experiment_learner.png"))
        page.get_by_text("Challenges", exact=True).click()
        pick = page.get_by_role("combobox", name="Challenge")
        terms = page.get_by_text("at most 4 ReLUs").first
        # A busy machine may drop keys typed while the page reruns: chosen again until
        # the page shows xor-4's terms.
        deadline = time.monotonic() + WAIT_MS / 1000
        while not (choose_challenge(pick, "xor-4") and wait_shown(terms)):
            assert time.monotonic() < deadline, f"xor-4 never chosen: {pick.input_value()!r}"
        submit_until_passed(page)
    board = teacher.locator('[data-testid="stTable"]').first
    rows = board.locator("tbody tr")
    tables = teacher.locator('[data-testid="stTable"]')
    wait_until(
        teacher,
        lambda: rows.count() == 2,
        "both on the wall's leaderboard",
        tell=lambda: f"the wall's tables: {tables.all_inner_texts()}",
    )
    cells = [[c.inner_text() for c in r.locator("td, th").all()] for r in rows.all()]
    assert [c[:2] for c in cells] in (
        [["1", "Bo"], ["2", "Cid"]],
        [["1", "Cid"], ["2", "Bo"]],  # ranked by steps: whoever trained fewer
    ), cells
    board.scroll_into_view_if_needed()
    teacher.screenshot(path=str(artifacts / "class_leaderboard_1400x1000.png"))

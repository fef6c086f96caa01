"""The first five minutes in a real browser (issue 10): the lessons' "Try it" links land
on the Playground with their settings; a model file loaded through the page shows its
own network at once; Enter / Space on Play keeps the keyboard on Play / Pause; on a
phone the plot and Play are in the first screen and nothing overlaps.

Every wait is for an event, with a generous timeout: never for how fast the machine is.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.system.browser.test_playground_browser import BOUNDARY, WAIT_MS, canvas_checksum, epoch

if TYPE_CHECKING:
    from playwright.sync_api import Page

APP = "streamlit_app.py"
LESSON, LINKS = "lesson_linear", 6  # its Try-it links, each with settings of its own
TRY_IT = "Try it in the Playground"


def wait_for_playground(page: Page) -> None:
    page.get_by_role("heading", name="Playground").wait_for(timeout=WAIT_MS)
    page.wait_for_function(f"() => !!({BOUNDARY})()?.dataset.frames", timeout=WAIT_MS)


def readout(page: Page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    )
    return tile.locator('[data-testid="stMetricValue"]').first.inner_text()


@pytest.mark.parametrize("app_url", [APP], indirect=True)
@pytest.mark.slow
def test_lesson_links_land_on_the_playground_with_their_settings(app_url: str, page: Page):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/{LESSON}")
    buttons = page.locator("a", has_text=TRY_IT)
    buttons.nth(LINKS - 1).wait_for(timeout=WAIT_MS)  # the lesson trains its models
    assert buttons.count() == LINKS
    links = [buttons.nth(i).get_attribute("href") for i in range(LINKS)]
    assert len(set(links)) == LINKS
    # Two of them followed, of different settings: the page tests (tests/pages/
    # test_lesson_pages.py) follow every link of every lesson through AppTest, and the
    # way a link lands is one for all.
    for href in (links[0], links[-1]):
        page.goto(app_url + href)
        wait_for_playground(page)
        page.wait_for_timeout(1000)  # a "Page not found" dialog would be up by now
        assert "Page not found" not in page.inner_text("body"), href
        assert page.get_by_role("dialog").count() == 0, href
        # The page writes its config back into the address bar: the same settings.
        assert parse_qs(urlparse(page.url).query) == parse_qs(urlparse(href).query), href
        assert urlparse(page.url).path.rstrip("/") == urlparse(app_url).path.rstrip("/")


@pytest.mark.parametrize("app_url", [APP], indirect=True)
def test_a_model_loaded_in_the_browser_shows_its_own_network(
    app_url: str, page: Page, tmp_path: Path, artifacts: Path
):
    from playground.core.config import RunConfig
    from playground.core.modelfile import save_model
    from playground.figures.readouts import fmt
    from playground.live.session.live_run import LiveRun

    source = LiveRun(RunConfig(problem="circle", noise=0.2, speed="fast"))
    source.train_steps(125)
    model = tmp_path / "circle.npz"
    model.write_bytes(save_model(source.saved_model()))
    on_xor = LiveRun(RunConfig())  # the page's own XOR points, the file's weights
    on_xor.load(source.saved_model())

    page.set_viewport_size({"width": 1400, "height": 1400})
    page.goto(app_url)
    wait_for_playground(page)
    page.wait_for_function(f"() => ({BOUNDARY})()?.dataset.paints", timeout=WAIT_MS)
    before = canvas_checksum(page)
    assert readout(page, "Step") == "0"
    page.get_by_text("Save, load and export").click()
    page.locator('input[type="file"]').set_input_files(str(model))
    page.get_by_text("Loaded circle.npz at step 125").wait_for(timeout=WAIT_MS)
    assert readout(page, "Step") == "125" and readout(page, "Epoch") == "5"
    assert readout(page, "Test loss") == fmt(on_xor.metrics.test_loss)
    assert "trained on Circle, but this page shows XOR" in page.inner_text("body")
    deadline_ms = WAIT_MS
    while canvas_checksum(page) == before and deadline_ms > 0:
        page.wait_for_timeout(250)
        deadline_ms -= 250
    assert canvas_checksum(page) != before  # the boundary is the loaded network's
    page.screenshot(path=str(artifacts / "playground-model-loaded.png"), full_page=True)


def focused_label(page: Page) -> str:
    return page.evaluate("() => document.activeElement?.innerText?.trim() ?? ''")


@pytest.mark.parametrize("app_url", [APP], indirect=True)
def test_the_keyboard_stays_on_play_pause(app_url: str, page: Page):
    page.goto(app_url)
    wait_for_playground(page)
    page.get_by_role("button", name="Play").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Pause").wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)  # a few live refreshes of the page
    assert focused_label(page) == "Pause"
    page.keyboard.press("Space")
    page.get_by_role("button", name="Play").wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1000)
    assert focused_label(page) == "Play"
    stopped = epoch(page)
    page.keyboard.press("Enter")  # and it still works from the keyboard
    page.get_by_role("button", name="Pause").wait_for(timeout=WAIT_MS)
    assert focused_label(page) == "Pause"
    deadline_ms = WAIT_MS
    while epoch(page) <= stopped and deadline_ms > 0:
        page.wait_for_timeout(250)
        deadline_ms -= 250
    assert epoch(page) > stopped


def boxes(page: Page, key: str, selector: str) -> list[dict]:
    """Bounding boxes of the elements under ``selector`` in the live plot ``key``."""
    return page.evaluate(
        """([key, sel]) => [...document.querySelectorAll('.live-plot')]
            .filter(e => e.dataset.key === key)
            .flatMap(e => [...e.querySelectorAll(sel)])
            .map(e => e.getBoundingClientRect())
            .filter(r => r.width > 0 && r.height > 0)
            .map(r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom}))""",
        [key, selector],
    )


def overlap(a: dict, b: dict, slack: float = 1.0) -> bool:
    return (
        a["left"] < b["right"] - slack
        and b["left"] < a["right"] - slack
        and a["top"] < b["bottom"] - slack
        and b["top"] < a["bottom"] - slack
    )


def assert_apart(first: list[dict], second: list[dict], what: str) -> None:
    for a in first:
        for b in second:
            assert not overlap(a, b), f"{what}: {a} overlaps {b}"


@pytest.mark.parametrize("app_url", [APP], indirect=True)
def test_on_a_phone_the_plot_and_play_are_in_the_first_screen(
    app_url: str, page: Page, artifacts: Path
):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(app_url + "/?show_test=1")  # a legend of three rows and more
    wait_for_playground(page)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "playground-phone.png"))
    play = page.get_by_role("button", name="Play").bounding_box()
    plot = page.locator('.live-plot[data-key="boundary"]').bounding_box()
    assert play["y"] + play["height"] < 844 and plot["y"] < 844, (play, plot)
    rows = {round(t["top"]) for t in boxes_of(page, '[data-testid="stMetric"]')}
    assert len(rows) <= 2, rows  # readouts share rows, not one a row
    for key in ("boundary", "metric", "loss", "grads", "thumbs"):
        page.locator(f'.live-plot[data-key="{key}"]').scroll_into_view_if_needed()
        ticks = boxes(page, key, ".xtick text, .ytick text")
        titles = boxes(page, key, ".xtitle, .ytitle")
        legend = boxes(page, key, ".legend")
        notes = boxes(page, key, ".annotation")
        assert_apart(titles, ticks, f"{key}: axis title and tick labels")
        assert_apart(legend, titles + ticks, f"{key}: legend and axis")
        for i, a in enumerate(notes):
            assert_apart([a], notes[i + 1 :], f"{key}: titles of the unit pictures")
        # The toolbar shows on hover: it must not cover the plot's title.
        page.locator(f'.live-plot[data-key="{key}"] .nsewdrag').first.hover()
        page.wait_for_timeout(300)
        assert_apart(boxes(page, key, ".modebar"), boxes(page, key, ".gtitle"), f"{key}: toolbar")


def boxes_of(page: Page, selector: str) -> list[dict]:
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect())
            .map(r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom}))""",
        selector,
    )

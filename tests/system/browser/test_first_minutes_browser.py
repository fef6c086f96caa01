"""The first five minutes in a real browser (issue 10): the lessons' "Try it" links land
on the Playground with their settings; a model file loaded through the page shows its
own network at once. (Enter / Space on Play keeping the keyboard on Play / Pause, and on
a phone the plot and Play in the first screen with nothing overlapping, are in
``test_accessibility_browser``: its keyboard test and its phone size of the Playground.)

Every wait is for an event, with a generous timeout: never for how fast the machine is.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from playground.ui.links import TRY_IT
from tests.system.browser.test_playground_browser import APP, BOUNDARY, WAIT_MS, canvas_checksum

if TYPE_CHECKING:
    from playwright.sync_api import Page

LESSON, LINKS = "lesson_linear", 6  # its Try-it links, each with settings of its own


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
    # One followed by a new visit, as a shared link is: the page tests (tests/pages/
    # test_lesson_pages.py) follow every link of every lesson through AppTest, and the
    # keyboard test of test_accessibility_browser follows another lesson's in its tab.
    page.goto(app_url + links[-1])
    assert_landed(page, app_url, links[-1])


def assert_landed(page: Page, app_url: str, href: str) -> None:
    """A Try-it link ``href`` landed on the Playground with its settings."""
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

"""The network figure, the weight editor, time travel and comparing runs in a real
browser (issue 22): the figure titled "Network" shows the trained weights at the pause;
then, by keyboard only, edit a bias, rewind to the first step, continue from there, pin the
run, restart from the same weights, train, and see both runs compared."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from playground.figures.boundary import PICKED_BEND as PICKED
from tests.system.browser.test_playground_browser import (
    APP,
    WAIT_MS,
    epoch,
    open_app,
    pause,
    play,
    wait_until,
)

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Page

NETWORK = """() => [...document.querySelectorAll('.live-plot')].find(
    e => e.dataset.key === 'network')"""


def link_widths(page: Page) -> str:
    """The stroke widths of the network's links as drawn (Plotly's shape paths)."""
    return page.evaluate(
        f"() => {{ const e = ({NETWORK})(); if (!e) return '';"
        " return [...e.querySelectorAll('.shapelayer path')]"
        ".map(p => p.style.strokeWidth).join(','); }"
    )


def show_network(page: Page) -> None:
    """Scroll the Network into view: a chart away from the screen is not drawn again
    until it comes near (as a person scrolls to it)."""
    page.locator(".st-key-live_plot-network").scroll_into_view_if_needed()


def readout(page: Page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text()


def expander(page: Page, title: str):
    """An expander's header (a <summary>: Enter opens it)."""
    return page.locator('[data-testid="stExpander"] summary', has_text=title).first


def press(page: Page, locator, key: str = "Enter") -> None:
    """Reach a control by keyboard focus and press a key on it."""
    locator.focus()
    page.keyboard.press(key)


def pause_by_keyboard(page: Page) -> None:
    """Enter on the focused Pause button until the button reads Play (a key pressed
    while the page redraws the button can be lost; Pause is pressed again only while it
    still reads Pause)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(WAIT_MS // 20_000):
        pause = page.get_by_role("button", name="Pause")
        if pause.count():
            press(page, pause)
        try:
            page.get_by_role("button", name="Play").wait_for(timeout=20_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the button never read Play")


@pytest.mark.parametrize("app_url", [APP], indirect=True)
def test_network_edit_rewind_continue_pin_restart_compare(
    app_url: str, page: Page, artifacts: Path
):
    open_app(page, app_url, "?hidden=4,3&speed=normal")
    page.locator(".gtitle", has_text="Network").first.wait_for(timeout=WAIT_MS)
    wait_until(page, lambda: link_widths(page) != "", "the network's links")
    start = link_widths(page)
    assert len(start.split(",")) == 2 * 4 + 4 * 3 + 3  # every weight is a link

    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=WAIT_MS)
    wait_until(page, lambda: epoch(page) >= 3, "three epochs")
    pause_by_keyboard(page)
    # Drawn again at the pause: the links moved with training.
    show_network(page)
    wait_until(page, lambda: link_widths(page) not in ("", start), "the links to move")
    page.screenshot(path=str(artifacts / "network-paused.png"), full_page=True)
    # After playing, a page run's numbers show (the stream had patched the tiles).
    paused = epoch(page)
    press(page, page.get_by_role("button", name="Step", exact=True))
    wait_until(page, lambda: epoch(page) == paused + 1, "one more epoch after Step")

    # Edit a bias by keyboard: the loss follows at once.
    press(page, expander(page, "Edit a weight"))
    box = page.get_by_label("Bias", exact=True)
    box.wait_for(timeout=WAIT_MS)
    before = readout(page, "Train loss")
    box.fill("5")  # typed into the focused box
    box.press("Enter")
    wait_until(page, lambda: readout(page, "Train loss") != before, "the loss to follow")

    # Rewind to the first kept step with the slider's Home key, then go on from there.
    press(page, expander(page, "Rewind, continue or restart"))
    rewind = page.locator('[data-testid="stSlider"]').filter(has_text="Rewind to step")
    slider = rewind.get_by_role("slider")
    slider.wait_for(timeout=WAIT_MS)
    press(page, slider, "Home")
    wait_until(page, lambda: readout(page, "Step") == "0", "the rewind to step 0")
    press(page, page.get_by_role("button", name="Continue from here"))
    page.get_by_role("button", name="Pause").wait_for(timeout=WAIT_MS)
    wait_until(page, lambda: epoch(page) >= 1, "training from step 0 again")
    pause_by_keyboard(page)

    press(page, expander(page, "Compare with a pinned run"))
    press(page, page.get_by_role("button", name="Pin this run"))
    page.get_by_role("button", name="Unpin").wait_for(timeout=WAIT_MS)

    press(page, page.get_by_role("button", name="Restart from the same weights"))
    wait_until(page, lambda: readout(page, "Step") == "0", "the restart")
    show_network(page)
    wait_until(page, lambda: link_widths(page) == start, "the first weights' links")
    press(page, page.get_by_role("button", name="Step", exact=True))
    wait_until(page, lambda: readout(page, "Step") != "0", "a step of the new run")
    # Both boundaries side by side and both runs' losses on one chart.
    for title in ("Pinned run", "This run", "Loss: the pinned run and this one"):
        page.locator(".gtitle", has_text=title).first.wait_for(timeout=WAIT_MS)
    table = page.locator("table.compare-settings")
    assert table.count() == 0 or "Settings that differ" in table.inner_text()
    page.locator(".gtitle", has_text="Pinned run").first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "network-compare.png"))


FIGURE_DATA = """(key) => { const e = [...document.querySelectorAll('.live-plot')].find(
    c => c.dataset.key === key); const gd = e?.querySelector('.live-plot-figure');
    return gd?.data ? gd.data.map(t => ({name: t.name, x: Array.from(t.x ?? []),
    y: Array.from(t.y ?? [])})) : null; }"""
PLANE_PIXEL = """([x, y]) => { const e = [...document.querySelectorAll('.live-plot')].find(
    c => c.dataset.key === 'boundary'); const gd = e.querySelector('.live-plot-figure');
    const f = gd._fullLayout; const box = gd.getBoundingClientRect();
    return [box.left + f.xaxis._offset + f.xaxis.c2p(x),
            box.top + f.yaxis._offset + f.yaxis.c2p(y)]; }"""


def traces(page: Page, key: str) -> dict[str, dict]:
    return {t["name"]: t for t in page.evaluate(FIGURE_DATA, key) or []}


def polylines(trace: dict) -> list[list[tuple[float, float]]]:
    """A line trace's polylines (NaN / null gaps between them)."""
    out, line = [], []
    for x, y in zip(trace["x"], trace["y"], strict=True):
        if x is None or y is None or x != x or y != y:
            if line:
                out.append(line)
            line = []
        else:
            line.append((x, y))
    return out + ([line] if line else [])


def distance_to(points: list[tuple[float, float]], at: tuple[float, float]) -> float:
    """Distance from ``at`` to a polyline."""
    best = float("inf")
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        dx, dy = x1 - x0, y1 - y0
        t = max(0.0, min(1.0, ((at[0] - x0) * dx + (at[1] - y0) * dy) / (dx * dx + dy * dy)))
        best = min(best, ((x0 + t * dx - at[0]) ** 2 + (y0 + t * dy - at[1]) ** 2) ** 0.5)
    return best


@pytest.mark.parametrize("app_url", [APP], indirect=True)
def test_the_network_plays_live_and_a_click_picks_a_units_bend(
    app_url: str, page: Page, artifacts: Path
) -> None:
    open_app(page, app_url, "?hidden=4,3")
    show_network(page)
    before = link_widths(page)
    play(page)  # the Play button is above: back to the Network
    show_network(page)
    # While playing, the stream draws the Network again: its links follow the weights.
    wait_until(
        page,
        lambda: (
            int(page.evaluate(f"() => ({NETWORK})()?.dataset.streamed ?? 0")) >= 2
            and link_widths(page) != before
        ),
        "the Network drawn again while playing",
    )
    pause(page)

    # Click unit 2 of layer 1 in the Network: its bend is drawn thick on the boundary.
    units = page.locator(".st-key-live_plot-network .scatterlayer .trace").nth(1)
    units.locator(".point").nth(2 + 1).click(force=True)
    caption = page.get_by_text("Thick black line: the bend of unit 2 of layer 1")
    caption.wait_for(timeout=WAIT_MS)
    outline = (
        f"() => ({NETWORK})().querySelector('.live-plot-figure').layout.shapes"
        ".filter(s => s.name === 'picked').map(s => s.xanchor)"
    )
    # Around a unit of column 1 (the Network is drawn again with the outline).
    wait_until(page, lambda: page.evaluate(outline) == [1], "the picked unit's outline")
    page.locator(".st-key-live_plot-boundary").scroll_into_view_if_needed()
    wait_until(
        page,
        lambda: polylines(traces(page, "boundary").get(PICKED, {"x": [], "y": []})),
        "the picked bend on the boundary",
    )
    picked = polylines(traces(page, "boundary")[PICKED])
    assert len(picked) == 1 and len(picked[0]) == 2  # a first-layer unit: one straight line
    page.screenshot(path=str(artifacts / "network_picked_1400.png"), full_page=True)

    # The other way round: click on another bend of layer 2 on the plane.
    layer2 = polylines(traces(page, "boundary")["bends of layer 2"])
    line = max(layer2, key=len)
    (x0, y0), (x1, y1) = line[len(line) // 2 - 1], line[len(line) // 2]
    at = ((x0 + x1) / 2, (y0 + y1) / 2)
    page.locator(".st-key-live_plot-boundary").scroll_into_view_if_needed()
    page.mouse.click(*page.evaluate(PLANE_PIXEL, list(at)))
    page.get_by_text("Thick black line: the bend of unit").filter(has_text="of layer 2").wait_for(
        timeout=WAIT_MS
    )

    def through_click() -> bool:
        lines = polylines(traces(page, "boundary").get(PICKED, {"x": [], "y": []}))
        return bool(lines) and min(distance_to(p, at) for p in lines) < 0.05

    wait_until(page, through_click, "the clicked bend drawn thick")
    page.screenshot(path=str(artifacts / "network_picked_by_plane_1400.png"), full_page=True)

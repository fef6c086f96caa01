"""The canvas layer of live_plot in a real browser, against colours and positions
computed here from the figure's own numbers (margins, axis ranges, colour scale,
opacity), not from Plotly's or our JS's conversions.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

APP = "tests/system/browser/canvas_demo_app.py"
WAIT_MS = 60_000
MARGIN = {"l": 50, "r": 30, "t": 20, "b": 70}  # as in the demo app
# Heatmap opacity 0.5 over a white plot: red #ff0000 -> (255, 128, 128), blue likewise.
RED, BLUE, GREEN = (255, 128, 128), (128, 128, 255), (0, 255, 0)

READ = """([x, y, x0, x1]) => {
  const root = document.querySelector('.live-plot');
  const gd = root.querySelector('.live-plot-figure');
  const canvas = root.querySelector('canvas.live-plot-canvas');
  const [W, H] = [gd._fullLayout.width, gd._fullLayout.height];
  const m = %s;
  const px = m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r);
  const py = m.t + (6 - y) / 12 * (H - m.t - m.b);
  const r = canvas.width / W;
  const d = canvas.getContext('2d').getImageData(Math.floor(px * r), Math.floor(py * r), 1, 1).data;
  return {rgba: [d[0], d[1], d[2], d[3]], label: root.dataset.label ?? ''};
}""".replace("%s", str(MARGIN).replace("'", '"'))


def read(page: Page, x: float, y: float = 0.0, xrange=(-6.0, 6.0)) -> dict:
    return page.evaluate(READ, [x, y, *xrange])


def colour(page: Page, x: float, y: float = 0.0, xrange=(-6.0, 6.0)) -> tuple[int, ...]:
    return tuple(read(page, x, y, xrange)["rgba"])


def near(rgba: tuple[int, ...], rgb: tuple[int, int, int], tol: int = 3) -> bool:
    return rgba[3] == 255 and all(abs(a - b) <= tol for a, b in zip(rgba, rgb, strict=False))


def open_still(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(
        "() => +(document.querySelector('.live-plot')?.dataset.paints ?? 0) > 0",
        timeout=WAIT_MS,
    )


@pytest.mark.parametrize("app_url", [APP], indirect=True)
def test_cells_and_line_land_where_the_axes_say_and_repaint_on_zoom(
    app_url: str, page: Page
) -> None:
    open_still(page, app_url)
    assert near(colour(page, -3), RED) and near(colour(page, 3), BLUE)
    # Cells are centred on -0.5 and 0.5, so the red/blue border is exactly x = 0.
    assert near(colour(page, -0.2), RED) and near(colour(page, 0.2), BLUE)
    assert near(colour(page, 2.0), GREEN)  # the line x = 2, 4 px wide
    assert near(colour(page, 2.0, 4.5), GREEN)
    assert colour(page, -6.8)[3] == 0  # the left margin stays clear
    assert "z: 0" in hover_text(page)  # at rest, hover reads the heatmap

    # A zoom and a legend click repaint the canvas (on the same page: a load costs
    # seconds of CPU).
    page.evaluate(
        "() => Plotly.relayout(document.querySelector('.live-plot-figure'),"
        " {'xaxis.range': [0, 6]})"
    )
    page.wait_for_timeout(300)
    zoomed = (0.0, 6.0)
    assert near(colour(page, 2.0, xrange=zoomed), GREEN)
    assert near(colour(page, 1.0, xrange=zoomed), BLUE)
    assert near(colour(page, 3.0, xrange=zoomed), BLUE)
    page.locator(".legend .traces", has_text="bend").locator(".legendtoggle").click()
    page.wait_for_timeout(1000)  # Plotly waits out a double-click before it toggles
    assert near(colour(page, 2.0, xrange=zoomed), BLUE)  # the hidden line is not painted


@pytest.mark.parametrize("app_url", [APP], indirect=True)
def test_frames_play_in_order_and_show_their_own_picture(app_url: str, page: Page) -> None:
    page.goto(app_url + "/?mode=frames")
    page.wait_for_function(
        "() => +(document.querySelector('.live-plot')?.dataset.played ?? 0) > 5",
        timeout=WAIT_MS,
    )
    seen: list[int] = []
    for _ in range(40):
        # The label and the pixels read in one go: the picture shown is the labelled one.
        seq = int(re.sub(r"\D", "", read(page, 0)["label"]))
        border = -5 + seq % 11
        left, right = read(page, border - 0.3), read(page, border + 0.3)
        if left["label"] == right["label"] == f"picture {seq}":
            assert near(tuple(left["rgba"]), RED) or border - 0.3 < -6
            assert near(tuple(right["rgba"]), BLUE) or border + 0.3 > 6
        seen.append(seq)
        page.wait_for_timeout(60)
    assert seen == sorted(seen) and len(set(seen)) > 10
    played, received, queued, dropped = page.evaluate(
        "() => { const d = document.querySelector('.live-plot').dataset;"
        " return [+d.played, +d.received, +d.queued, +d.dropped]; }"
    )
    # Every picture is shown, still waiting its turn, or was dropped on purpose (the
    # player fell too far behind: a busy machine): none is lost.
    assert received == played + queued + dropped and played > 10
    assert hover_text(page) == ""  # Plotly's copy is old while pictures play


def hover_text(page: Page) -> str:
    """What Plotly's hover says over the heatmap at (-3, 0)."""
    return page.evaluate(
        "() => { const gd = document.querySelector('.live-plot-figure');"
        " Plotly.Fx.hover(gd, {xval: -3, yval: 0});"
        " return [...document.querySelectorAll('.hovertext')].map(e => e.textContent).join(); }"
    )

"""Every learner can use it (issue 23), in a real browser:

- axe-core (WCAG 2.0/2.1 A and AA rules) on every page, the Playground also while playing
  and with its expanders open: one test per view, printing what it found and failing on
  anything critical or serious. The counts of every view:

      .venv/bin/python -m pytest tests/system/browser/test_accessibility_browser.py -k axe -s

- plots that speak: every live chart is a figure with a sentence of its numbers, and
  the polite live region reads the epoch while playing; "Describe the network";
- keyboard alone: a lesson's Try-it link, Play, Pause (the focus stays on the button),
  Play again, Step (S), a wider network, and on past the live charts (no trap; Plotly's
  toolbars out of the Tab order);
- a laptop, a phone and 200 % zoom on the axe test's page (screenshots in
  test-artifacts/a11y/), reduced motion (turned on while playing); at a laptop's and a
  phone's size no plot title runs under Plotly's toolbar; on a phone the Playground's plot
  and Play are in the first screen and nothing on its live charts overlaps; the lesson
  charts' words name their numbers.

axe runs the bundled axe.min.js of ``axe-playwright-python`` (no network).
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from playground.figures.readouts import read_count
from playground.ui.links import TRY_IT
from tests.system.browser.test_first_minutes_browser import assert_landed
from tests.system.browser.test_playground_browser import (
    APP,
    BOUNDARY,
    WAIT_MS,
    epoch,
    pause,
    picture_epoch,
    play,
    wait_until,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PLAYER_JS = Path(__file__).resolve().parents[3] / "playground" / "ui" / "live_plot_js" / "player.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"critical", "serious"}
LAPTOP = {"width": 1400, "height": 1000}
EXPANDERS = (
    "Save, load and export",  # the data panel
    "For teachers: a link for your class",  # the teacher panel
    "Your network as code (Keras, JAX)",  # the code panel
    "Challenges",
)


@pytest.fixture
def app(shared_servers: dict[str, str]) -> str:
    """The app server this test process shares (each view is a session of its own)."""
    return shared_servers[APP]


def settle(page: Page) -> None:
    """Wait until the page's script has run (the lessons train their models first)."""
    page.get_by_role("heading").first.wait_for(timeout=WAIT_MS)
    running = page.locator('[data-testid="stStatusWidget"]')
    wait_until(page, lambda: running.count() == 0, "the page's script to finish")
    page.wait_for_timeout(1500)
    wait_until(page, lambda: running.count() == 0, "the page's script to finish")
    # A formula laid out before KaTeX's fonts arrive can run wider than its box: axe found
    # the backprop lesson's formulas scrollable once, on a busy machine.
    page.evaluate("() => document.fonts.ready.then(() => true)")


def open_playground(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(f"() => !!({BOUNDARY})()?.dataset.frames", timeout=WAIT_MS)
    settle(page)


def expanders_opened(page: Page) -> None:
    """The open Playground with every panel under the plots opened (in the page: no
    script runs)."""
    for title in EXPANDERS:
        panel = page.locator("details", has=page.locator("summary", has_text=title)).first
        panel.locator("summary").scroll_into_view_if_needed()
        panel.locator("summary").click()
        wait_until(page, lambda panel=panel: panel.get_attribute("open") is not None, title)
    settle(page)


def playing(page: Page) -> None:
    """The open Playground, training (its panels' buttons say "playground" too)."""
    play(page)
    wait_until(page, lambda: epoch(page) > 5, "training to start")


def by_sidebar(page: Page, path: str) -> None:
    """To another page of the open app by its sidebar, as a person goes from lesson to
    lesson (the app switches pages in place: no page load)."""
    link = page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]')
    if not link.is_visible():  # folded away (a phone's width folds it)
        page.get_by_test_id("stExpandSidebarButton").click()
    link.click()
    page.wait_for_url(lambda url: urlsplit(url).path.endswith(f"/{path}"), timeout=WAIT_MS)


def lesson(path: str) -> Callable[[Page, str], None]:
    def open_lesson(page: Page, url: str) -> None:
        if page.url.startswith(url):
            by_sidebar(page, path)
        else:
            page.goto(f"{url}/{path}")
        settle(page)

    return open_lesson


def class_wall(page: Page) -> None:
    """From the Class page, the teacher's wall of a new class (what a teacher sees after
    "Create a class")."""
    page.get_by_role("button", name="Create a class").click()
    page.get_by_text("Invite your learners").first.wait_for(timeout=WAIT_MS)
    settle(page)


def playground_with_test_points(page: Page, url: str) -> None:
    """The Playground showing its test points too: a legend of three rows, the longest
    a phone must fit."""
    open_playground(page, f"{url}/?show_test=1")


VIEWS: dict[str, Callable[[Page, str], None]] = {
    "playground": playground_with_test_points,
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
}


SHOT_VIEWS = ("playground", "gradients", "backprop", "code", "class-wall")  # at every size
# Views opened in a tab of their own; the others share one (``lesson_tab``).
OWN_TAB = ("playground",)
# Later states of a view, checked on the same page after it (a page load costs seconds
# of CPU): the Playground with its panels open, then playing; a new class's wall.
LATER_STATES: dict[str, dict[str, Callable[[Page], None]]] = {
    "playground": {"playground-expanders": expanders_opened, "playground-playing": playing},
    "class": {"class-wall": class_wall},
}


def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    # Only the violations are gathered: axe then skips the selectors of every node that
    # passed, about half its time on these pages (axe-core's API docs, "Performance").
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    return Axe().run(page, options=options).response["violations"]


def violation_counts(violations: list[dict]) -> dict[str, int]:
    """Nodes per "impact: rule", e.g. ``{"serious: color-contrast": 3}``."""
    return {f"{v['impact']}: {v['id']}": len(v["nodes"]) for v in violations}


@pytest.fixture(scope="module")
def lesson_tab(running_browser: Browser, keep_open) -> Iterator[Page]:
    """One laptop tab the lesson views of a test process share, going from view to view
    by the app's sidebar: a page load costs the browser ~4.5 s of CPU, a page switch
    ~1-2 s."""
    context = keep_open(running_browser.new_context(viewport=LAPTOP))
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("view", list(VIEWS))
def test_axe_finds_nothing_serious(
    view: str, app: str, browser: Browser, lesson_tab: Page, artifacts: Path
):
    """axe on the view, then on each of its later states (``LATER_STATES``); a view of
    ``SHOT_VIEWS`` is also fitted to a laptop, a phone and 200 % zoom before them."""
    context = browser.new_context(viewport=LAPTOP) if view in OWN_TAB else None
    page = context.new_page() if context else lesson_tab
    (artifacts / "a11y").mkdir(exist_ok=True)
    blocking: dict[str, list[dict]] = {}
    states = {view: lambda page: VIEWS[view](page, app), **LATER_STATES.get(view, {})}
    try:
        for state, reach in states.items():
            reach(page)
            violations = axe_violations(page)
            page.screenshot(path=str(artifacts / "a11y" / f"axe-{state}.png"))
            if state in SHOT_VIEWS:  # every size on the page already open: a load costs
                fits_every_size(page, state, artifacts)  # seconds of CPU
            if state in CHART_WORDS:
                assert_charts_have_words_with_numbers(page)
            print(f"\naxe {state}: {json.dumps(violation_counts(violations))}")
            blocking[state] = [
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
    finally:
        if context:
            context.close()
    assert not any(blocking.values()), json.dumps(blocking, indent=1)


# ---- plots that speak ------------------------------------------------------------------

SAID_EPOCH = re.compile(r"Epoch ([\d,.]+[kMB]?)")


def said_epoch(text: str) -> int:
    """The epoch a live-region sentence names ("Epoch 1,234, test loss ...")."""
    return read_count(SAID_EPOCH.search(text).group(1).rstrip(",."))  # "1,234," / "12.3k"


def text_of(page: Page, selector: str) -> str:
    return page.evaluate("(sel) => document.querySelector(sel)?.textContent ?? ''", selector)


@pytest.fixture
def laptop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP)
    yield context.new_page()
    context.close()


def test_the_plots_say_what_they_show_and_the_live_region_reads_the_epoch(app: str, laptop):
    """Every live chart is a figure with words; the live region reads the epoch while
    playing, and with less motion the picture changes calmly; paused, Describe reads the
    network in words."""
    page = laptop
    open_playground(page, app)
    boundary = page.locator('.live-plot[data-key="boundary"]')
    assert boundary.get_attribute("role") == "figure"
    described = boundary.get_attribute("aria-describedby")
    alt = text_of(page, f"#{described}")
    assert "Decision boundary on xor at epoch 0" in alt and "Test accuracy" in alt, alt
    region = '.live-plot[data-key="boundary"] [role="status"]'
    assert page.locator(region).get_attribute("aria-live") == "polite"

    play(page)
    wait_until(page, lambda: "Epoch" in text_of(page, region), "the live region to speak")
    first = text_of(page, region)
    # The next words may still be of the same epoch (a busy machine trains slowly): wait
    # for a later one.
    heard: list[str] = []

    def later_epoch() -> bool:
        heard.append(text_of(page, region))
        return "Epoch" in heard[-1] and said_epoch(heard[-1]) > said_epoch(first)

    wait_until(page, later_epoch, "the live region to speak of a later epoch")
    said = heard[-1]
    print(f"\nlive region: {first!r} then {said!r}")
    assert said_epoch(first) < said_epoch(said) <= epoch(page)
    assert "test loss" in said and "test accuracy" in said
    less_motion_shows_calm_pictures(page)

    pause(page)
    grads = '.live-plot[data-key="grads"] .live-plot-alt'
    wait_until(page, lambda: "smallest in the" in text_of(page, grads), "the gradients' words")
    print(text_of(page, grads))

    # "Describe the network" reads the network in words, in the live region and on the page.
    page.get_by_role("button", name="Describe the network").click()
    wait_until(page, lambda: "units alive" in text_of(page, region), "the description")
    said = text_of(page, region)
    shown = page.locator('[data-testid="stMain"] li').all_inner_texts()
    assert "A 2 → 8 → 8 → 1 network (relu), 16 hidden units." in said
    assert any(line.startswith("Hidden layer 2:") for line in shown), shown
    assert "linear regions" in said and "Largest weights" in said


def less_motion_shows_calm_pictures(page: Page) -> None:
    """With prefers-reduced-motion the playing picture changes at most once a CALM_MS
    (the JS constant), instead of playing every snapshot; it still changes."""
    calm_ms = int(re.search(r"const CALM_MS = (\d+);", PLAYER_JS.read_text()).group(1))
    played = lambda: int(page.evaluate(f"() => ({BOUNDARY})()?.dataset.played ?? 0"))  # noqa: E731
    page.emulate_media(reduced_motion="reduce")  # as a person turns it on: no reload
    try:
        start, t0 = played(), time.monotonic()
        page.wait_for_timeout(4000)  # playing, ~100 pictures; calm, at most 5
        shown, seconds = played() - start, time.monotonic() - t0
        print(f"\nreduced motion: {shown} pictures in {seconds:.1f} s")
        assert 0 < shown <= seconds * 1000 / calm_ms + 1
    finally:
        page.emulate_media(reduced_motion="no-preference")


def test_the_live_region_says_why_training_stopped(app: str, laptop):
    """A learning rate of 10 with plain SGD on x1·x2 diverges within a few steps: the
    live region says so at once, in the words of the page's own message."""
    page = laptop
    open_playground(page, f"{app}/?problem=product&optimizer=sgd&learning_rate=10")
    region = '.live-plot[data-key="boundary"] [role="status"]'
    heard: list[str] = []  # read once: the region may speak again right after

    def stop_said() -> bool:
        heard.append(text_of(page, region))
        return "Training stopped" in heard[-1]

    # The run stops within steps, so the button may never be seen reading Pause; a Play
    # click that lands while the page redraws is lost: pressed again after 20 s of
    # silence (a halted run pressed again stops again, in the same words).
    for _ in range(WAIT_MS // 20_000):
        page.get_by_role("button", name="Play").click()
        with contextlib.suppress(AssertionError):
            wait_until(page, stop_said, "the stop in words", timeout_ms=20_000)
            break
    assert heard and "Training stopped" in heard[-1], heard[-3:]
    said = heard[-1]
    alerts = page.locator('[data-testid="stAlertContainer"]')
    wait_until(page, lambda: alerts.count() > 0, "the page's own message")
    assert said.rstrip(".") in alerts.first.inner_text(), (said, alerts.first.inner_text())


# ---- keyboard ---------------------------------------------------------------------------


def focused(page: Page) -> dict:
    return page.evaluate(
        """() => { const e = document.activeElement;
            const widget = e?.closest('[data-testid="stSlider"]');
            const label = widget?.querySelector('[data-testid="stWidgetLabel"]')?.innerText;
            return { tag: e?.tagName ?? '', text: (e?.innerText ?? '').trim(),
                     role: e?.getAttribute('role') ?? '', label: label ?? '' }; }"""
    )


def tab_to(page: Page, wanted, what: str, most: int = 300) -> int:
    """Press Tab until ``wanted(focused element)``; returns how many presses it took."""
    for presses in range(1, most + 1):
        page.keyboard.press("Tab")
        if wanted(focused(page)):
            return presses
    raise AssertionError(f"{what}: not reached in {most} Tab presses")


def test_a_lesson_to_the_playground_and_training_by_keyboard_alone(app: str, laptop, artifacts):
    page = laptop
    page.goto(f"{app}/lesson_sgd")  # its Try-it link: x1·x2 on one hidden layer of 8
    page.locator("a", has_text=TRY_IT).first.wait_for(timeout=WAIT_MS)  # after its models
    settle(page)
    tab_to(page, lambda f: f["tag"] == "A" and TRY_IT in f["text"], "the Try-it link")
    href = page.evaluate("() => document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    assert_landed(page, app, href)
    settle(page)
    toolbars = page.evaluate(
        "() => [...document.querySelectorAll('.modebar-btn')]"
        ".filter(b => b.getAttribute('tabindex') !== '-1').length"
    )
    assert toolbars == 0  # Plotly's toolbar buttons are out of the Tab order

    stops = tab_to(page, lambda f: f["text"] == "Play", "Play")
    print(f"\nPlay is Tab stop {stops} after the link")
    (artifacts / "a11y").mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "a11y" / "keyboard-focus-play.png"))  # to look at
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Pause").wait_for(timeout=WAIT_MS)
    start = epoch(page)
    wait_until(page, lambda: epoch(page) > start, "training by keyboard")
    assert focused(page)["text"] == "Pause"  # the focus stays on the button while it plays
    page.keyboard.press("Space")
    page.get_by_role("button", name="Play").wait_for(timeout=WAIT_MS)
    settle(page)
    assert focused(page)["text"] == "Play"
    stopped = epoch(page)
    page.keyboard.press("Enter")  # and Play still works from the keyboard
    page.get_by_role("button", name="Pause").wait_for(timeout=WAIT_MS)
    assert focused(page)["text"] == "Pause"
    wait_until(page, lambda: epoch(page) > stopped, "training again by keyboard")
    page.keyboard.press("Space")
    page.get_by_role("button", name="Play").wait_for(timeout=WAIT_MS)
    settle(page)
    # The still picture's caption says its epoch (the tiles can lag after a streamed run:
    # see the report of issue 23).
    before = picture_epoch(page)
    page.keyboard.press("s")  # the Step shortcut: one epoch
    wait_until(page, lambda: picture_epoch(page) == before + 1, "a step by S")

    width = re.search(r"hidden=(\d+)", page.url).group(1)
    tab_to(page, lambda f: f["tag"] == "INPUT" and "width" in f["label"].lower(), "width")
    page.screenshot(path=str(artifacts / "a11y" / "keyboard-focus-width.png"))
    page.keyboard.press("ArrowRight")
    wait_until(page, lambda: f"hidden={width}" not in page.url, "a wider network")
    settle(page)
    wider = re.search(r"hidden=(\d+)", page.url).group(1)
    assert int(wider) > int(width)

    # No trap in the live charts: Tab goes on past them, to Describe (which says the new
    # network) and to the panels under the plots.
    tab_to(page, lambda f: f["text"] == "Describe the network", "the Describe button")
    page.keyboard.press("Enter")
    region = '.live-plot[data-key="boundary"] [role="status"]'
    network = f"A 2 → {wider} → 1 network"
    wait_until(page, lambda: network in text_of(page, region), "the wider network in words")
    tab_to(page, lambda f: "Challenges" in f["text"], "the Challenges panel after the charts")


# ---- zoom and motion --------------------------------------------------------------------

# 1400x1000 at 200 % browser zoom lays out as a 700x500 window drawn at twice the pixels.
SIZES = {
    "laptop": (LAPTOP, 1),
    "phone": ({"width": 390, "height": 844}, 1),
    "zoom200": ({"width": 700, "height": 500}, 2),
}


def assert_fits(page: Page, view: str, size: str, artifacts: Path) -> None:
    """A screenshot to look at (test-artifacts/a11y/), and nothing wider than the window:
    the page never scrolls sideways, and the Playground's buttons are all on screen."""
    out = artifacts / "a11y"
    out.mkdir(exist_ok=True)
    page.screenshot(path=str(out / f"{view}-{size}.png"))
    overflow = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m.scrollWidth - m.clientWidth; }"
    )
    assert overflow <= 1, f"{view} at {size} scrolls sideways by {overflow} px"
    if view == "playground":
        width = SIZES[size][0]["width"]
        for name in ("Play", "Step", "Reset"):
            box = page.get_by_role("button", name=name, exact=True).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    if (view, size) == ("playground", "phone"):
        assert_first_screen_on_a_phone(page, SIZES[size][0]["height"])
    if view in TITLED and size in ("laptop", "phone"):
        assert_titles_clear_the_toolbar(page, view, size, artifacts)


def live_plot_boxes(page: Page, key: str, selector: str) -> list[list[float]]:
    """Boxes (left, top, right, bottom) of the elements under ``selector`` in the live
    plot ``key``."""
    return page.evaluate(
        """([key, sel]) => [...document.querySelectorAll('.live-plot')]
            .filter(e => e.dataset.key === key)
            .flatMap(e => [...e.querySelectorAll(sel)])
            .map(e => e.getBoundingClientRect())
            .filter(r => r.width > 0 && r.height > 0)
            .map(r => [r.left, r.top, r.right, r.bottom])""",
        [key, selector],
    )


def assert_apart(first: list[list[float]], second: list[list[float]], what: str) -> None:
    for a in first:
        for b in second:
            assert not overlaps(a, b, slack=1.0), f"{what}: {a} overlaps {b}"


def assert_first_screen_on_a_phone(page: Page, height: int) -> None:
    """The plot and Play are in the first screen; the readouts share rows; no live
    chart's axis titles, tick labels, legend or unit titles run into each other."""
    play = page.get_by_role("button", name="Play").bounding_box()
    plot = page.locator('.live-plot[data-key="boundary"]').bounding_box()
    assert play["y"] + play["height"] < height and plot["y"] < height, (play, plot)
    rows = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
            .map(e => Math.round(e.getBoundingClientRect().top))"""
    )
    assert len(set(rows)) <= 2, rows  # readouts share rows, not one a row
    for key in ("boundary", "metric", "loss", "grads", "thumbs"):
        page.locator(f'.live-plot[data-key="{key}"]').scroll_into_view_if_needed()
        ticks = live_plot_boxes(page, key, ".xtick text, .ytick text")
        titles = live_plot_boxes(page, key, ".xtitle, .ytitle")
        legend = live_plot_boxes(page, key, ".legend")
        notes = live_plot_boxes(page, key, ".annotation")
        assert_apart(titles, ticks, f"{key}: axis title and tick labels")
        assert_apart(legend, titles + ticks, f"{key}: legend and axis")
        for i, a in enumerate(notes):
            assert_apart([a], notes[i + 1 :], f"{key}: titles of the unit pictures")


# Views whose plot titles once ran under Plotly's toolbar icons (issue 25, defect 10), with
# how many titled plots each shows: the Playground, and a lesson with long titles.
TITLED = {"playground": 4, "gradients": 6}
PLOT_BOXES = """() => [...document.querySelectorAll('.js-plotly-plot')].map(p => {
  const box = (el) => { if (!el) return null; const b = el.getBoundingClientRect();
    return [b.left, b.top, b.right, b.bottom]; };
  return {title: p.querySelector('.gtitle')?.textContent ?? '',
          titleBox: box(p.querySelector('.gtitle')), toolbar: box(p.querySelector('.modebar'))};
})"""


def overlaps(a: list[float], b: list[float], slack: float = 0.0) -> bool:
    """Whether two boxes (left, top, right, bottom) overlap by more than ``slack`` px."""
    return (
        a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack
    )


def assert_titles_clear_the_toolbar(page: Page, view: str, size: str, artifacts: Path) -> None:
    """No plot's title runs under its toolbar, shown as the pointer hovers the plot."""
    plots = TITLED[view]
    titled = "document.querySelectorAll('.js-plotly-plot .gtitle').length"
    page.wait_for_function(f"() => {titled} >= {plots}", timeout=WAIT_MS)
    figures = page.locator(".js-plotly-plot")
    checked = 0
    for i in range(figures.count()):
        if not figures.nth(i).is_visible():
            continue  # in a closed expander
        figures.nth(i).hover()  # the toolbar shows while the pointer is over the plot
        found = page.evaluate(PLOT_BOXES)[i]
        if not found["title"]:
            continue
        assert found["toolbar"], f"{view}: no toolbar on {found['title']!r}"
        assert not overlaps(found["titleBox"], found["toolbar"]), (view, size, found)
        if not checked:  # to look at: a title with the toolbar shown above it
            page.screenshot(path=str(artifacts / "a11y" / f"titles-{view}-{size}-hover.png"))
        checked += 1
    assert checked >= plots, (view, size)


TO_TOP = """() => { window.scrollTo(0, 0);
    document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')
        .forEach(e => e.scrollTo(0, 0)); }"""


def fits_every_size(page: Page, view: str, artifacts: Path) -> None:
    """``assert_fits`` at a laptop's size, on a phone, then at 200 % zoom: the same page,
    as a person resizes or zooms a page they have open (the window's CSS size and pixel
    ratio change, the page lays itself out again); then back to the laptop."""
    cdp = page.context.new_cdp_session(page)
    window = "() => [innerWidth, devicePixelRatio]"
    try:
        for size, (viewport, scale) in SIZES.items():
            page.set_viewport_size(viewport)
            metrics = {**viewport, "deviceScaleFactor": scale, "mobile": False}
            cdp.send("Emulation.setDeviceMetricsOverride", metrics)
            resized = [viewport["width"], scale]
            wait_until(page, lambda resized=resized: page.evaluate(window) == resized, size)
            page.wait_for_timeout(500)  # the plots' own resize (no script runs)
            page.evaluate(TO_TOP)  # as the page opens: the toolbar checks scroll it
            assert_fits(page, view, size, artifacts)
    finally:
        cdp.send("Emulation.clearDeviceMetricsOverride")
        cdp.detach()
        page.set_viewport_size(LAPTOP)


CHART_WORDS = ("softmax",)  # views whose st.plotly_chart charts are checked for words


def assert_charts_have_words_with_numbers(page: Page) -> None:
    """Charts drawn by st.plotly_chart get a name from the page's script: the title,
    the axes and each trace's range, as numbers."""
    charts = '[data-testid="stPlotlyChart"] .js-plotly-plot'

    def labels() -> list[str]:
        return page.evaluate(
            "(sel) => [...document.querySelectorAll(sel)].map(g => g.getAttribute('aria-label'))",
            charts,
        )

    wait_until(page, lambda: labels() and all(labels()), "every chart's words")
    found = labels()
    print("\n" + "\n".join(found))
    assert all(re.search(r"\d", text) for text in found), found
    assert any(" against " in text for text in found), found

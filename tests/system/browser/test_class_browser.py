"""A class on one server, in a real browser: four tabs (four learners) play at once and
every one of them keeps getting pictures and epochs. ``-s`` prints each tab's pictures
and epochs a second (reported, never asserted):

    .venv/bin/python -m pytest tests/browser/test_class_browser.py -s
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.system.browser.test_playground_browser import (
    APP,
    ISSUE_SETUP,
    WAIT_MS,
    counter,
    epoch,
    open_app,
    wait_until,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

TABS = 4


@pytest.mark.parametrize("own_app_url", [APP], indirect=True)
@pytest.mark.slow
def test_four_learners_play_at_once_and_none_is_starved(
    own_app_url: str, browser: Browser, artifacts: Path
) -> None:
    pages = []
    for _ in range(TABS):  # a context each: four learners, four sessions
        page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        open_app(page, own_app_url, "?" + ISSUE_SETUP)
        pages.append(page)
    for page in pages:
        page.get_by_role("button", name="Play").click()
    for page in pages:
        page.get_by_role("button", name="Pause").wait_for(timeout=WAIT_MS)
        wait_until(page, lambda p=page: counter(p, "played") >= 10, "a tab's first pictures")
    # Each tab keeps its own run: the pictures keep coming everywhere.
    start = [(counter(p, "played"), epoch(p), time.monotonic()) for p in pages]
    for page, (played, ep, _) in zip(pages, start, strict=True):
        wait_until(page, lambda p=page, n=played: counter(p, "played") >= n + 10, "10 more")
        wait_until(page, lambda p=page, e=ep: epoch(p) > e, "a later epoch")
    tabs = []
    for page, (played, ep, t) in zip(pages, start, strict=True):
        dt = time.monotonic() - t
        tabs.append(
            {
                "pictures_per_s": round((counter(page, "played") - played) / dt, 1),
                "epochs_per_s": round((epoch(page) - ep) / dt, 1),
            }
        )
    (artifacts / "class_metrics.json").write_text(json.dumps(tabs, indent=2))
    print("\nfour tabs:", json.dumps(tabs))
    assert all(t["pictures_per_s"] > 0 and t["epochs_per_s"] > 0 for t in tabs)
    for page in pages:
        page.context.close()

"""The learner's path in a real browser (issue 25): a lesson's "Try it" link opens the
Playground in the same tab and the same session (the network trained before is still
there). (The teacher's panel showing its link as text, starting with the server's
address, is checked in ``test_playground_browser``'s teacher-link test.)

Every wait is for an event, with a generous timeout: never for how fast the machine is.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from playground.ui.links import TRY_IT
from tests.system.browser.test_playground_browser import APP, WAIT_MS, epoch, open_app

if TYPE_CHECKING:
    from playwright.sync_api import Page


def wait_for_epoch(page: Page, want: int) -> None:
    page.wait_for_function(
        """want => [...document.querySelectorAll('[data-testid="stMetric"]')]
            .some(m => m.innerText.includes("Epoch") && m.innerText.trim().endsWith(want))""",
        arg=str(want),
        timeout=WAIT_MS,
    )
    assert epoch(page) == want


@pytest.mark.parametrize("app_url", [APP], indirect=True)
def test_try_it_opens_the_playground_in_this_tab_with_this_sessions_network(
    app_url: str, page: Page
) -> None:
    open_app(page, app_url)
    for n in (1, 2):
        page.get_by_role("button", name="Step").click()
        wait_for_epoch(page, n)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("From the playground to code").click()
    link = page.locator("a", has_text=TRY_IT)
    link.wait_for(timeout=WAIT_MS)
    assert link.get_attribute("target") in (None, "", "_self")  # not a new tab
    link.click()
    page.get_by_role("heading", name="Playground").wait_for(timeout=WAIT_MS)
    wait_for_epoch(page, 2)  # the same session: the network kept its two epochs
    assert len(page.context.pages) == 1

"""The page registry (ui/pages.py) is the app: every page file is in it once, with a
title and address of its own, and each page's heading is its navigation title."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground.ui.pages import PAGES, PLAYGROUND_PAGE, page_title

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_file_is_registered_once_with_its_own_title():
    files = {f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py")}
    assert sorted(p.path for p in PAGES) == sorted(files)
    assert len({p.title for p in PAGES}) == len(PAGES)
    paths = [p.url_path or Path(p.path).stem for p in PAGES]
    assert len(set(paths)) == len(paths)
    assert PAGES[0].path == PLAYGROUND_PAGE  # the default page: the app's root


@pytest.mark.parametrize("page", [p.path for p in PAGES if p.path != PLAYGROUND_PAGE][:3])
def test_a_pages_heading_is_its_navigation_title(page):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    assert [t.value for t in at.title] == [page_title(PLAYGROUND_PAGE)]
    at.switch_page(page)
    at = at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [page_title(page)]

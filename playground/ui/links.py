"""Links from the lessons into the Playground, carrying a lesson's settings in the URL.

The Playground is the app's default page, which ``st.navigation`` serves at the app's
root: its URL path is read from the pages the running app registered (as ``st.page_link``
does), so a link never points at a path the app does not serve ("Page not found").
"""

import os
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from playground.core.config import RunConfig, to_query

PLAYGROUND_PAGE = "app_pages/playground.py"  # relative to the entry script
TRY_IT = "Try it in the Playground"


def playground_path() -> str:
    """The Playground's URL path as st.navigation registered it: "" for the default page
    (the root), else its url_path; "" before any page is registered."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return ""
    target = os.path.realpath(Path(ctx.main_script_path).parent / PLAYGROUND_PAGE)
    for page in ctx.pages_manager.get_pages().values():
        if os.path.realpath(page["script_path"]) == target:
            return page.get("url_pathname") or ""
    return ""


def playground_url(cfg: RunConfig) -> str:
    """The Playground opened with ``cfg``: only settings that differ from the defaults,
    under the app's base path (``server.baseUrlPath``)."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    path = "/".join(p for p in (base, playground_path()) if p)
    query = urlencode(to_query(cfg))
    return f"/{path}" + (f"?{query}" if query else "")


def try_it(cfg: RunConfig, label: str = TRY_IT, *, key: str | None = None) -> None:
    """A button that opens the Playground (in a new tab) with the lesson's settings."""
    st.link_button(label, playground_url(cfg), icon=":material/science:", key=key)

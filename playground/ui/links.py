"""Links from the lessons into the Playground, carrying a lesson's settings in the URL."""

from urllib.parse import urlencode

import streamlit as st

from playground.core.config import RunConfig, to_query

PLAYGROUND_PATH = "/playground"  # url_path of app_pages/playground.py
TRY_IT = "Try it in the Playground"


def playground_url(cfg: RunConfig) -> str:
    """The Playground opened with ``cfg``: only settings that differ from the defaults."""
    return PLAYGROUND_PATH + "?" + urlencode(to_query(cfg))


def try_it(cfg: RunConfig, label: str = TRY_IT, *, key: str | None = None) -> None:
    """A button that opens the Playground (in a new tab) with the lesson's settings."""
    st.link_button(label, playground_url(cfg), icon=":material/science:", key=key)

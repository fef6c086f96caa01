"""Links into the Playground, carrying settings in the URL: the lessons' "Try it" and
the links a teacher hands out.

The Playground is the app's default page, which ``st.navigation`` serves at the app's
root: its URL path is read from the pages the running app registered (as ``st.page_link``
does), so a link never points at a path the app does not serve ("Page not found").
A teacher's link is opened on other machines, so it starts with the address the server is
reachable at (``app_address``), not the one the teacher's browser happens to use.
"""

import ipaddress
import os
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode, urlsplit

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from playground.core.config import RunConfig, to_query
from playground.ui.pages import CLASS_PAGE, PLAYGROUND_PAGE

TRY_IT = "Try it in the Playground"
CLASS_EXPERIMENT = "Run this as a class experiment"
# A server bound to these listens on every interface: its own address says nothing.
ANY_ADDRESS = ("", "0.0.0.0", "::")


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


def playground_query_url(query: dict[str, str]) -> str:
    """The Playground's path under the app's base path, with ``query`` (no host)."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    path = "/".join(p for p in (base, playground_path()) if p)
    text = urlencode(query)
    return f"/{path}" + (f"?{text}" if text else "")


def try_it(cfg: RunConfig, label: str = TRY_IT) -> None:
    """A link that opens the Playground with the lesson's settings in this tab (the
    lesson a Back away): the session, and the network it trained, come along.
    (``run_state.sidebar_config`` takes the settings, see ``arrived_with``.)"""
    st.page_link(
        PLAYGROUND_PAGE, label=label, icon=":material/science:", query_params=to_query(cfg)
    )


def class_experiment(knob: str, why: str) -> None:
    """For teachers, at a lesson's end: the Class page with a class experiment on
    ``knob`` preselected (``?experiment=KNOB``, read by its create form)."""
    st.page_link(
        CLASS_PAGE,
        label=CLASS_EXPERIMENT,
        icon=":material/groups:",
        query_params={"experiment": knob},
        help="For teachers: every learner of a class gets another value of this knob.",
    )
    st.caption(f"For teachers: {why}")


def arrived_with(params: dict[str, str], last_written: dict[str, str] | None) -> bool:
    """Whether the Playground was opened with settings of another page's (a lesson's
    Try-it link) rather than the ones it last wrote into the address bar itself. An
    empty query is a plain visit: pages switched in the sidebar carry none."""
    return bool(params) and params != (last_written or {})


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this computer only (localhost, 127.x.x.x, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AppAddress(NamedTuple):
    """Where learners open the app (scheme, host, port and base path; no page, no
    query), and a warning in plain words when they cannot (None when they can)."""

    url: str
    warning: str | None


def app_address(public_url: str = "") -> AppAddress:
    """The app's address for links others open, the first of: the host's ``public_url``;
    the address this browser reached the app at, unless it is a loopback one (a teacher
    who opened it over the network, perhaps through the class server's proxy, whose app
    processes listen on 127.0.0.1); the server's own ``--server.address`` and port; else
    the loopback address, with a warning."""
    if public_url:
        return AppAddress(public_url.rstrip("/"), None)
    seen = urlsplit(st.context.url or "")  # where the teacher's browser reached it
    address = str(st.get_option("server.address") or "").strip()
    port = int(st.get_option("server.port"))
    if seen.hostname and not is_loopback(seen.hostname):
        address, port = seen.hostname, seen.port
    elif address in ANY_ADDRESS or is_loopback(address):
        address = seen.hostname or address.strip() or "localhost"
        port = seen.port or port
        address = "localhost" if address in ANY_ADDRESS else address
    host = f"[{address}]" if ":" in address else address  # an IPv6 address
    scheme = seen.scheme if seen.hostname == address and seen.scheme else "http"
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    url = f"{scheme}://{host}" + (f":{port}" if port else "") + (f"/{base}" if base else "")
    warning = None
    if is_loopback(address):
        warning = (
            f"This link starts with {address}, which is this computer's own address: it "
            "opens here, but not on your learners' computers. Start the server with "
            "--server.address set to this machine's network address (or open this page "
            "at that address), or ask the host to set public_url in host.toml."
        )
    return AppAddress(url, warning)


def teacher_link(query: dict[str, str], public_url: str = "") -> tuple[str, str | None]:
    """A whole link to the Playground with ``query`` that learners can open, and a
    warning when they cannot (see ``app_address``)."""
    where = app_address(public_url)
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    path = playground_query_url(query)
    if base:  # the address already ends with the base path
        path = path.removeprefix(f"/{base}")
    return where.url + path, where.warning

"""What a process sets up once, the app and the command line alike: the disk cache of
compiled programs; and, for the app, the host's limits, read once (the one scheduler is
made from them, ``scheduler.process_scheduler``)."""

import functools

from playground.core.errors import PlaygroundError
from playground.live.engine.compile_cache import enable_compile_cache
from playground.live.engine.limits import HostLimits, load_limits

# Set by the entry (``streamlit_app.py``) when ``streamlit run`` serves the app's own routes
# beside Streamlit's (``stream.ROUTES``, ``vendor.ROUTES``); AppTest and the tests' small
# apps do not, and the page then neither streams nor asks for them.
ROUTES_SERVED = False


@functools.cache
def start_process() -> None:
    """Compiled programs go to (and come from) the disk cache: a new process or session
    starts in milliseconds. Every call after the first does nothing."""
    enable_compile_cache()


@functools.cache
def host_limits() -> HostLimits:
    """This server's limits (``host.toml``); a bad file is the host's to fix, so the app
    says so in the log and keeps the defaults rather than failing every learner."""
    try:
        return load_limits()
    except PlaygroundError as err:
        print(f"playground: host config ignored: {err}", flush=True)
        return HostLimits()

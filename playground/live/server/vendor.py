"""Plotly's browser bundle, served by the app itself: compressed once, cached for a year.

Streamlit's component asset route (``/_stcore/bidi-components/...``) reads
``plotly.min.js`` (4.8 MB) from disk and gzips it anew for every page load (~0.2 s of the
server's CPU; a class arriving at once pays it 30 times), and sends it with
``Cache-Control: public`` and no age or validator, so a browser fetches, unpacks and
compiles it again on every load. This route's path names plotly's version, so the file
behind it never changes and browsers may keep it (``immutable``).

``streamlit_app.py`` serves ``ROUTES`` (``st.App(routes=...)``) and sets
``startup.ROUTES_SERVED``; elsewhere (AppTest, a test's own small app) the page falls
back to Streamlit's route.
"""

import functools
import gzip
from pathlib import Path

import anyio
import plotly
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_PATH = f"/_playground/vendor/plotly-{plotly.__version__}.min.js"
CACHE_CONTROL = "public, max-age=31536000, immutable"


@functools.cache
def _plotly_gzipped() -> bytes:
    # mtime=0: the same bytes in every replica and every run
    return gzip.compress(PLOTLY_JS.read_bytes(), compresslevel=9, mtime=0)


async def plotly_js(request: Request) -> Response:
    """The bundle, gzipped once per process (uncompressed to a client that takes no gzip);
    Streamlit's gzip middleware passes a response that has an encoding as it is."""
    headers = {"Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = await anyio.to_thread.run_sync(_plotly_gzipped)
        headers["Content-Encoding"] = "gzip"
    else:
        body = await anyio.Path(PLOTLY_JS).read_bytes()
    return Response(body, media_type="text/javascript", headers=headers)


ROUTES = [Route(PLOTLY_PATH, plotly_js, methods=["GET"])]

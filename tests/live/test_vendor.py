"""Plotly's bundle on the app's own route (``live/server/vendor.py``): gzipped once, the
very file of the plotly package, cacheable for a year under a path that names its
version, and passed as it is by Streamlit's own gzip middleware."""

import gzip

import plotly
import pytest
from starlette.middleware import Middleware
from streamlit.web.server.starlette.starlette_gzip_middleware import SelectiveGZipMiddleware

from playground.live.server import vendor
from tests.live.conftest import RouteServer


@pytest.fixture(scope="module")
def served():
    # The middleware as Streamlit's app adds it (starlette_app: every response passes it).
    server = RouteServer(vendor.ROUTES, [Middleware(SelectiveGZipMiddleware, minimum_size=500)])
    yield server
    server.close()


def test_the_bundle_is_sent_gzipped_once_and_cacheable_for_a_year(served):
    assert plotly.__version__ in vendor.PLOTLY_PATH  # a new plotly: a new path
    bundle = vendor.PLOTLY_JS.read_bytes()
    assert b"plotly.js" in bundle[:2000]
    first = served.get(vendor.PLOTLY_PATH, {"Accept-Encoding": "gzip, deflate"})
    second = served.get(vendor.PLOTLY_PATH, {"Accept-Encoding": "gzip"})
    for status, headers, body in (first, second):
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"  # once: not gzipped again on the way
        assert gzip.decompress(body) == bundle
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "javascript" in headers["Content-Type"]
        assert len(body) < len(bundle) / 2
    assert first[2] == second[2]  # the same bytes: compressed once


def test_a_client_without_gzip_gets_the_file_itself(served):
    status, headers, body = served.get(vendor.PLOTLY_PATH, {"Accept-Encoding": "identity"})
    assert status == 200 and "Content-Encoding" not in headers
    assert body == vendor.PLOTLY_JS.read_bytes()

"""The app's own routes (the frames stream, the Plotly bundle) served by uvicorn on a
thread of this process, where a test's sessions live."""

import socket
import threading
import time
import urllib.request

import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.sync.client import connect

from playground.live.server import stream


class RouteServer:
    """``routes`` (and ``middleware``) served on a free loopback port, and ways to open
    them as a browser would."""

    def __init__(self, routes=stream.ROUTES, middleware=()):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        app = Starlette(routes=list(routes), middleware=list(middleware))
        config = uvicorn.Config(app, port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        end = time.monotonic() + 60
        while not self.server.started:
            assert time.monotonic() < end, "the test server did not start"
            time.sleep(0.05)
        self.origin = f"http://127.0.0.1:{self.port}"

    def websocket_connect(self, path: str, origin: str | None = ""):
        origin = self.origin if origin == "" else origin
        return connect(f"ws://127.0.0.1:{self.port}{path}", origin=origin, open_timeout=60)

    def get(self, path: str, headers: dict[str, str] | None = None):
        """The response to a GET (status, headers, body as sent, still encoded)."""
        request = urllib.request.Request(self.origin + path, headers=headers or {})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()

    def close(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def client():
    """The frames stream's route."""
    c = RouteServer()
    yield c
    c.close()

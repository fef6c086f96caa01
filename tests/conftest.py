"""Shared test setup: strict JAX promotion rules, no background pre-compiling, one
scan for Streamlit components a process, the slow tests handed out first; and
``redis_server`` / ``redis_url``, a throwaway Debian ``redis-server`` for the class store
(skipped, with the reason, where it is not installed)."""

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import jax
import pytest
from streamlit.components.v2 import manifest_scanner

from playground.loadtest.server import free_port

jax.config.update("jax_numpy_rank_promotion", "raise")
# No background pre-compiling of other shapes: it would compete with the tests for the CPU.
os.environ.setdefault("PLAYGROUND_PRECOMPILE", "0")

# Every new AppTest scans the metadata of every installed package for Streamlit
# components (0.5 s, six times the Playground's own script run). The packages do not
# change while the tests run: one scan a test process.
manifest_scanner.scan_component_manifests = functools.cache(
    manifest_scanner.scan_component_manifests
)


BROWSER_TESTS = Path(__file__).parent / "system" / "browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, then the browser tests (seconds each), then the rest:
    pytest-xdist hands test files out in the order of their first test (whole files:
    ``--dist loadfile --no-loadscope-reorder`` in the Makefile), and a long file started
    last would keep one worker busy while the others have nothing left. Stable: a
    module's tests stay together."""

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("slow"):
            return 0
        return 1 if BROWSER_TESTS in Path(str(item.fspath)).parents else 2

    items.sort(key=rank)


NO_REDIS = "redis-server is not installed (apt-get install redis-server; `make test` does as root)"


def redis_server_path() -> str | None:
    """Debian's redis-server; /usr/sbin and /usr/bin may be off a plain user's PATH."""
    return shutil.which("redis-server") or shutil.which(
        "redis-server", path="/usr/local/bin:/usr/bin:/usr/sbin"
    )


class RedisServer:
    """One redis-server on loopback, its data (append-only file) in ``folder``: stop and
    start it again on the same port and folder to see what survives a restart."""

    def __init__(self, binary: str, folder: Path):
        self.binary, self.folder = binary, folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "yes", "--dir", str(self.folder)]
        argv += ["--logfile", str(self.folder / "redis.log")]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log()}")
            if self.answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING in {timeout} s: {self.log()}")

    def answers(self) -> bool:
        """PONG to a PING: up and done loading its data (a loading one says LOADING)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM: Redis shuts down gracefully, flushing its append-only file."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


@contextlib.contextmanager
def started_redis(folder: Path):
    """A started RedisServer with its data in ``folder``, stopped on the way out; the
    test skips, saying why, where redis-server is not installed."""
    binary = redis_server_path()
    if binary is None:
        pytest.skip(NO_REDIS)
    server = RedisServer(binary, folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    """A started RedisServer (``.url``, ``.port``, ``.restart()``, ``.stop()``, ``.start()``),
    stopped after the test."""
    with started_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:PORT/0`` of a throwaway redis-server (``redis_server`` is the
    same server, to restart it)."""
    return redis_server.url

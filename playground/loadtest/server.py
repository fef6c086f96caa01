"""Servers as processes: ``Process`` (any command, its log, waiting for a URL, stopping
its whole group) and ``Server`` (``streamlit run`` on a free port), the one harness of
the load test and the tests; and a server's CPU and memory read from /proc (the server
and every process it started)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 90.0


# -- the server ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A command in its own process group (``stop()`` ends exactly what it started), its
    output in a log file; ``wait_ok(url)`` until that URL answers 200. The one way the
    load test and the tests start a server (an app, nginx, an image's command).

    ``env``: the whole environment (default: this process's). ``log``: where its output
    goes (default: a temporary file, deleted on stop). A context manager."""

    def __init__(
        self,
        argv: list[str],
        *,
        cwd: str | Path = REPO,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ):
        self.argv = [str(a) for a in argv]
        if log is None:
            fd, name = tempfile.mkstemp(prefix="playground-server-", suffix=".log")
            os.close(fd)
            self.log, self._own_log = Path(name), True
        else:
            self.log, self._own_log = Path(log), False
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=str(cwd),
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.proc.pid

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ok(self, url: str, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Until ``url`` answers 200; a RuntimeError with the log's end when the process
        exits or ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{' '.join(self.argv[:4])} exited with {self.proc.returncode}:\n"
                    f"{self.log_tail()}"
                )
            with contextlib.suppress(requests.RequestException):
                if requests.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"{url} not answering after {timeout:g} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self._own_log:
            with contextlib.suppress(OSError):
                self.log.unlink()

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Server(Process):
    """``streamlit run streamlit_app.py`` (or ``app``) on a free port (or ``port``),
    healthy on return; with ``replicas``, the class server instead (``python -m
    playground.serve``: that many app processes behind nginx; CPU and memory then count
    them all). ``env`` adds to (overrides) this process's environment."""

    def __init__(
        self,
        port: int | None = None,
        *,
        env: dict | None = None,
        cwd: str | Path = REPO,
        app: str = "streamlit_app.py",
        args: tuple[str, ...] = (),
        replicas: int = 0,
        log: Path | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable, "-m", "streamlit", "run", app,
            "--server.headless", "true",
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            *args,
        ]  # fmt: skip
        if replicas:
            cmd = [
                sys.executable, "-m", "playground.serve", "--replicas", str(replicas),
                "--port", str(self.port), "--", *args,
            ]  # fmt: skip
        super().__init__(cmd, cwd=cwd, env={**os.environ, **(env or {})}, log=log)
        try:
            self.wait_ok(f"{self.url}/_stcore/health")
        except BaseException:
            self.stop()
            raise


# -- server CPU and memory, from /proc ----------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the server may start helpers)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parents.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its children, in seconds."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / _TICK


def rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) of ``pid`` and its children, in MB."""
    total_kb = 0
    for p in _tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        m = re.search(r"^VmRSS:\s+(\d+)\s+kB", status, re.M)
        total_kb += int(m.group(1)) if m else 0
    return total_kb / 1024


class ServerMonitor:
    """The server's CPU (cores: CPU seconds / wall seconds) and memory over a window,
    ``start()`` to ``stop()``; RSS is sampled every ``every`` seconds in between.
    ``result()`` is the ``cpu`` argument of ``summarize``. The window's CPU time of this
    process (the load client) comes along: it shares the machine with the server."""

    def __init__(self, pid: int, every: float = 1.0):
        self.pid, self.every = pid, every
        self.rss_max = 0.0
        self.rss_samples: list[tuple[float, float]] = []  # (seconds into the window, MB)
        self._start: tuple[float, float, float] | None = None  # wall, server CPU, client CPU
        self._end: tuple[float, float, float, float] | None = None  # ... and RSS
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="rss-sampler")

    def _now(self) -> tuple[float, float, float]:
        return time.monotonic(), cpu_seconds(self.pid), time.process_time()

    def _sample(self) -> None:
        while not self._done.wait(self.every):
            rss = rss_mb(self.pid)
            self.rss_max = max(self.rss_max, rss)
            self.rss_samples.append((time.monotonic() - self._start[0], rss))

    def start(self) -> None:
        if self._start is None:
            self._start = self._now()
            self.rss_max = rss_mb(self.pid)
            self._thread.start()

    def stop(self) -> None:
        if self._end is not None:
            return
        self.start()  # a window never opened is an empty one
        self._end = (*self._now(), rss_mb(self.pid))
        self._done.set()
        self._thread.join(timeout=5)

    def result(self) -> dict[str, float | None]:
        self.stop()
        (t0, server0, client0), (t1, server1, client1, rss) = self._start, self._end
        wall = t1 - t0
        return {
            "server_cpu_cores": (server1 - server0) / wall if wall > 0 else None,
            "server_rss_mb": rss,
            "server_rss_max_mb": max(self.rss_max, rss),
            "server_rss_slope_mb_per_min": rss_slope(self.rss_samples),
            "server_rss_slope_last_half_mb_per_min": rss_slope(self.rss_samples, last=0.5),
            "client_cpu_cores": (client1 - client0) / wall if wall > 0 else None,
            "window_s": wall,
        }


def rss_slope(samples: list[tuple[float, float]], *, last: float = 1.0) -> float | None:
    """Least-squares growth of the RSS over the window, or over its ``last`` fraction,
    MB per minute (None for fewer than 10 samples): a soak's memory should stay flat, and
    memory that is still settling grows less in the window's second half than in all."""
    if samples and last < 1:
        cut = samples[-1][0] - last * (samples[-1][0] - samples[0][0])
        samples = [s for s in samples if s[0] >= cut]
    if len(samples) < 10:
        return None
    t = [a for a, _ in samples]
    mb = [b for _, b in samples]
    return 60 * statistics.linear_regression(t, mb).slope

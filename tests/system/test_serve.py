"""``python -m playground.serve``: the class server in one command, as a teacher runs it.

Opt-in with the other nginx tests (``make test-deploy``; ``.ci/run`` installs nginx
first, elsewhere this skips with the reason). It starts the launcher with two replicas on
a free port and reads what it prints, then checks through nginx: health, cookie-less
visits spread over both replicas, a visitor's cookie keeping it on one; a replica killed
and started again by the launcher; SIGTERM stopping every process the launcher started.
The tests share one launcher and run in file order: the last one stops it.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from playground import serve

pytestmark = pytest.mark.replicas

REPO = Path(__file__).resolve().parents[2]
ROUTE_COOKIE = "playground_route"
UPSTREAM_HEADER = "X-Playground-Upstream"
# Generous: two replicas import JAX and Streamlit at once on a shared 2-core machine.
STARTUP_TIMEOUT_S = 300.0
RESTART_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 60.0


def _get(url: str, headers: dict[str, str] | None = None):
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10)


def _route_cookie(resp) -> str | None:
    for line in resp.headers.get_all("Set-Cookie") or []:
        name, _, rest = line.partition("=")
        if name.strip() == ROUTE_COOKIE:
            return rest.split(";", 1)[0]
    return None


def _process_tree(root: int) -> dict[int, str]:
    """pid -> start time (clock ticks since boot) of ``root``'s descendants, from /proc."""
    parent, started = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # After the ")" that ends the command name: state ppid ... starttime (field 22).
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        pid = int(stat.parent.name)
        parent[pid], started[pid] = int(fields[1]), fields[19]
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        children = [c for c, p in parent.items() if p == pid and c not in tree]
        tree.update(children)
        todo += children
    return {pid: started[pid] for pid in tree}


def _still_running(pid: int, started: str) -> bool:
    """The same process (not a reused pid) exists and is not a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return False
    return fields[19] == started and fields[0] != "Z"


@dataclass
class Replica:
    name: str  # "replica 1", as the launcher names it
    addr: str  # host:port, as nginx's $upstream_addr names it
    pid: int


@dataclass
class Launcher:
    proc: subprocess.Popen[str]
    url: str = ""
    replicas: list[Replica] = field(default_factory=list)
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    transcript: list[str] = field(default_factory=list)

    def read(self, stream) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # end of this stream

    def expect(self, pattern: str, timeout_s: float) -> re.Match[str]:
        """The next printed line (stdout or stderr) that matches, waiting up to ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        ended = 0
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r} in {timeout_s:.0f} s:\n{self.said()}")
            if line is None:
                ended += 1
                if ended == 2:
                    pytest.fail(f"the launcher exited before printing {pattern!r}:\n{self.said()}")
                continue
            self.transcript.append(line)
            if match := re.search(pattern, line):
                return match

    def said(self) -> str:
        """All it printed so far, for a failure's message."""
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return "\n".join(self.transcript)
            if line is not None:
                self.transcript.append(line)


@pytest.fixture(scope="module")
def launcher() -> Iterator[Launcher]:
    if serve.find_nginx() is None:
        pytest.skip(f"{serve.INSTALL_HINT} (.ci/run installs it before this step)")
    port = serve.free_port()
    cmd = [sys.executable, "-m", "playground.serve", "--replicas", "2", "--port", str(port)]
    # As a host runs it: the class server compiles ahead once, for every replica.
    env = {k: v for k, v in os.environ.items() if k != serve.PRECOMPILE_ENV}
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    started = Launcher(proc)
    for stream in (proc.stdout, proc.stderr):
        threading.Thread(target=started.read, args=(stream,), daemon=True).start()
    try:
        for _ in range(2):
            name, addr, pid = started.expect(
                r"(replica \d+): http://(\S+) \(pid (\d+)\)", STARTUP_TIMEOUT_S
            ).groups()
            started.replicas.append(Replica(name, addr, int(pid)))
        started.url = started.expect(r"^Open (http://\S+)", STARTUP_TIMEOUT_S)[1]
        yield started
    finally:
        # Whatever a failed test left running: the launcher, then anything it left behind.
        leftovers = _process_tree(proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for pid, start in leftovers.items():
            if _still_running(pid, start):
                os.kill(pid, signal.SIGKILL)


def _keys_per_replica(launcher: Launcher) -> dict[str, str]:
    """First visits without a cookie until both replicas served one: replica -> route key.

    nginx deals first visits out to the replicas in turn."""
    keys: dict[str, str] = {}
    for _ in range(40):
        with _get(launcher.url + "/") as resp:
            assert resp.status == 200
            key = _route_cookie(resp)
            assert key, "a first visit gets the route cookie"
            keys.setdefault(resp.headers[UPSTREAM_HEADER], key)
        if len(keys) == len(launcher.replicas):
            break
    return keys


def test_health_through_nginx_visits_spread_and_a_cookie_sticks(launcher: Launcher) -> None:
    assert launcher.proc.poll() is None
    with _get(launcher.url + "/_stcore/health") as resp:
        assert resp.status == 200 and resp.read() == b"ok"

    keys = _keys_per_replica(launcher)
    assert set(keys) == {r.addr for r in launcher.replicas}, (keys, launcher.said())
    for upstream, key in keys.items():
        for path in ("/", "/_stcore/health", "/", "/_stcore/host-config"):
            with _get(launcher.url + path, {"Cookie": f"{ROUTE_COOKIE}={key}"}) as resp:
                assert resp.headers[UPSTREAM_HEADER] == upstream, path


def test_the_networks_next_are_compiled_once_for_every_replica(launcher: Launcher) -> None:
    lines = launcher.said().splitlines()
    pattern = r"  compiled [1-9]\d* chunks of \d+ networks and [1-9]\d* cohort programs ahead"
    said = [i for i, s in enumerate(lines) if re.match(pattern, s)]
    # Before the address: the class finds them compiled. A replica keeps only the default
    # network's own programs, and its threads share two heaps.
    opened = next(i for i, s in enumerate(lines) if s.startswith("Open "))
    assert said and said[0] < opened, lines
    for replica in launcher.replicas:
        environ = Path(f"/proc/{replica.pid}/environ").read_bytes().split(b"\0")
        assert f"{serve.PRECOMPILE_ENV}={serve.PRECOMPILE_OWN}".encode() in environ
        assert f"MALLOC_ARENA_MAX={serve.MALLOC_ARENA_MAX}".encode() in environ


def test_a_killed_replica_is_started_again(launcher: Launcher) -> None:
    victim = launcher.replicas[0]
    key = _keys_per_replica(launcher)[victim.addr]
    os.kill(victim.pid, signal.SIGKILL)

    launcher.expect(rf"^{victim.name} \(pid {victim.pid}\) exited", RESTART_TIMEOUT_S)
    new_pid = int(
        launcher.expect(rf"^{victim.name} answers again \(pid (\d+)\)", RESTART_TIMEOUT_S)[1]
    )
    assert new_pid != victim.pid
    victim.pid = new_pid
    with _get(f"http://{victim.addr}/_stcore/health") as resp:
        assert resp.status == 200 and resp.read() == b"ok"

    # Through nginx, the visitor's cookie leads back to it once nginx tries it again
    # (it skips a replica that refused a connection for fail_timeout, 10 s).
    deadline = time.monotonic() + RESTART_TIMEOUT_S
    while True:
        with _get(launcher.url + "/", {"Cookie": f"{ROUTE_COOKIE}={key}"}) as resp:
            assert resp.status == 200
            if resp.headers[UPSTREAM_HEADER] == victim.addr:
                break
        assert time.monotonic() < deadline, (
            "nginx never sent the cookie back to the restarted replica"
        )
        time.sleep(0.5)


def test_sigterm_stops_nginx_and_every_replica(launcher: Launcher) -> None:
    children = _process_tree(launcher.proc.pid)
    replica_pids = {r.pid for r in launcher.replicas}
    assert replica_pids <= set(children), (children, launcher.said())
    # Two replicas, nginx's master and its worker at least (Streamlit may start helpers).
    assert len(children) >= 4, children

    launcher.proc.send_signal(signal.SIGTERM)
    assert launcher.proc.wait(timeout=STOP_TIMEOUT_S) == 0, launcher.said()
    # The launcher waits for its children before it exits: nothing is left to wait for.
    alive = [pid for pid, start in children.items() if _still_running(pid, start)]
    assert not alive, (alive, launcher.said())

"""A class server on every core: ``python -m playground.serve [--replicas N] [-- ARGS]``.

One Streamlit process uses at most ~1.3 cores, however many the machine has: Python's one
lock (the GIL) serialises its drawing and its event loop. So this starts N app processes
(replicas) on loopback, all with the same cookie secret, and Debian's nginx in front of
them, filled from ``deploy/nginx/playground.conf`` (first visits dealt out in turn, then
sticky by nginx's own route cookie). It waits until every replica and nginx answer, prints
the address to open, then supervises: a replica (or nginx) that exits is started again,
and Ctrl-C or SIGTERM stops nginx and every replica. nginx runs in the foreground with its
pid, logs and temp files in a temporary folder: nothing under /etc is read or written.

Each child runs in a process group of its own, stopped as a group, and gets SIGTERM from
the kernel if this launcher dies without cleaning up (PR_SET_PDEATHSIG): no orphans.

Imports nothing of the app: the launcher stays small and starts at once.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from playground.live.engine.limits import CORES_ENV, PRECOMPILE_ENV, PRECOMPILE_OWN, cores

APP_DIR = Path(__file__).resolve().parents[1]  # streamlit_app.py, .streamlit/, deploy/
ENTRY = APP_DIR / "streamlit_app.py"
TEMPLATE = APP_DIR / "deploy" / "nginx" / "playground.conf"
SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"
HEALTH_PATH = "/_stcore/health"
INSTALL_HINT = "nginx is missing: install it with `apt-get install nginx` (as root)"

# Every core: one replica per core. A replica's ceiling is ~1.3 cores (its one lock), and
# new learners are dealt out to the replicas in turn, so a class spreads evenly. At most
# 8: each replica holds its own ~0.65 GB and compiles its own programs.
MAX_DEFAULT_REPLICAS = 8
# First start of a replica: imports (JAX, Streamlit) on a busy machine, N at once.
STARTUP_TIMEOUT_S = 180.0
# Stopping: SIGTERM, then SIGKILL for whatever is still there after this long.
STOP_TIMEOUT_S = 15.0
POLL_S = 0.5
# A child that exits sooner than this after its start is restarted after a growing pause
# (1, 2, 4 ... 30 s): a replica that cannot start must not spin the machine.
STABLE_S = 30.0
MAX_BACKOFF_S = 30.0
# Set by serve itself; another value after `--` would break the balancer's addresses.
OWN_FLAGS = ("--server.port", "--server.address")
# Niced: the replicas start first.
PRECOMPILE = ["nice", "-n", "10", sys.executable, "-m", "playground.live.server.precompile"]

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def default_replicas(n_cores: int) -> int:
    return max(1, min(n_cores, MAX_DEFAULT_REPLICAS))


def find_nginx() -> str | None:
    """nginx's path; Debian puts it in /usr/sbin, which a plain user's PATH may lack."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/local/sbin:/usr/sbin:/sbin")


def fill_template(text: str, values: dict[str, str]) -> str:
    """envsubst for the ``${NAME}`` placeholders only: nginx's own ``$vars`` stay."""
    missing = set(re.findall(r"\$\{([A-Z_]+)\}", text)) - set(values)
    if missing:
        raise ValueError(f"template placeholders without a value: {sorted(missing)}")
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: values[m.group(1)], text)


def host_port(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def site_conf(listen: str, replica_addrs: Sequence[str]) -> str:
    """The shipped template, filled: nginx listens on ``listen`` in front of the replicas,
    first visits go to each in turn and a cookie (``playground_route``, the
    replica's number) keeps the visitor there."""
    # The cookie map: first the entry that leaves a right cookie alone (regexes match in order).
    routes, cookies, pinned = [], [], []
    for i, addr in enumerate(replica_addrs):
        routes.append(f'"{i}" playground_replica_{i};')
        served = rf"(.*, )?{re.escape(addr)}$"  # after a failover: "tried, served"
        cookies.append(f'"~^{i} {served}" "";')  # it already names the replica
        cookies.append(f'"~ {served}" "playground_route={i}; Path=/; HttpOnly; SameSite=Lax";')
        backups = " ".join(f"server {a} backup;" for a in replica_addrs if a != addr)
        pinned.append(
            f"upstream playground_replica_{i} {{ server {addr}; {backups} keepalive 4; }}"
        )
    return fill_template(
        TEMPLATE.read_text(encoding="utf-8"),
        {
            "PLAYGROUND_LISTEN": listen,
            "PLAYGROUND_SERVERS": " ".join(f"server {addr};" for addr in replica_addrs),
            "PLAYGROUND_ROUTES": " ".join(routes),
            "PLAYGROUND_ROUTE_COOKIES": " ".join(cookies),
            "PLAYGROUND_PINNED": "\n".join(pinned),
        },
    )


def main_conf() -> str:
    """nginx.conf around the site: foreground, every path relative to the prefix (-p)."""
    # One worker is plenty: nginx used 0.2-0.4 % of the CPU the replicas used (README).
    # Each tab holds a websocket, two connections through nginx: 4096 is ~2000 tabs.
    return """daemon off;
worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path temp/client_body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    include site.conf;
}
"""


def _die_with_parent(parent: int):
    """For Popen(preexec_fn=...): the child gets SIGTERM when this launcher dies."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (AttributeError, OSError):  # not Linux: process groups alone
        return None

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the launcher died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


@dataclass
class Child:
    """One supervised process: a replica or nginx."""

    name: str
    cmd: list[str]
    log: Path
    env: dict[str, str] | None = None
    addr: str = ""  # host:port it serves on, as nginx's $upstream_addr names it
    health_url: str | None = None  # asked after a restart; None: no check
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff_s: float = 0.0
    restart_at: float | None = None  # when it exited: the time to start it again
    awaiting_health: bool = False

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=APP_DIR,  # Streamlit reads .streamlit/config.toml from its working folder
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own group: Ctrl-C in the terminal reaches only the launcher, which
                # stops the children in order; a group is stopped with all it started.
                start_new_session=True,
                preexec_fn=_die_with_parent(os.getpid()),
            )
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def exited(self) -> int | None:
        """Its exit status once it has exited (and was reaped), else None."""
        return None if self.proc is None else self.proc.poll()

    def signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
            os.killpg(self.proc.pid, sig)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        return "\n".join(f"  | {line}" for line in tail)


def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


class StartupError(RuntimeError):
    pass


class Stopped(Exception):
    """Raised by the SIGINT/SIGTERM handler to leave whatever the launcher is doing."""


def _on_stop_signal(signum: int, _frame) -> None:
    # Once: a second Ctrl-C must not cut the stop short and leave children behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stopped(signum)


def wait_until_healthy(children: Sequence[Child], timeout_s: float) -> None:
    """Until every child's health URL answers 200; StartupError if one exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    waiting = list(children)
    while waiting:
        for child in list(waiting):
            code = child.exited()
            if code is not None:
                raise StartupError(
                    f"{child.name} exited (code {code}) while starting:\n{child.log_tail()}"
                )
            if answers(child.health_url):
                waiting.remove(child)
        if waiting and time.monotonic() > deadline:
            names = ", ".join(c.name for c in waiting)
            raise StartupError(
                f"{names} not answering after {timeout_s:.0f} s:\n{waiting[0].log_tail()}"
            )
        if waiting:
            time.sleep(POLL_S)


def stop_all(children: Sequence[Child]) -> None:
    """SIGTERM to every child's group, wait, then SIGKILL what is left; reap them all."""
    for child in children:
        if child.exited() is None:
            child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for child in children:
        if child.proc is None:
            continue
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{child.name} did not stop in {STOP_TIMEOUT_S:.0f} s: killed", file=sys.stderr)
        # Also whatever the child started and left in its group.
        child.signal_group(signal.SIGKILL)
        child.proc.wait()


def supervise(children: Sequence[Child]) -> None:
    """Restart whatever exits, forever (until a stop signal raises Stopped)."""
    while True:
        now = time.monotonic()
        for child in children:
            code = child.exited()
            if code is not None and child.restart_at is None:
                ran_s = now - child.started_at
                child.backoff_s = (
                    0.0 if ran_s >= STABLE_S else min(MAX_BACKOFF_S, max(1.0, 2 * child.backoff_s))
                )
                child.restart_at = now + child.backoff_s
                child.signal_group(signal.SIGKILL)  # anything it left behind in its group
                wait = f" in {child.backoff_s:.0f} s" if child.backoff_s else ""
                how = f"killed by signal {-code}" if code < 0 else f"with code {code}"
                print(
                    f"{child.name} (pid {child.pid}) exited {how}; "
                    f"restarting it{wait}\n{child.log_tail(5)}",
                    file=sys.stderr,
                    flush=True,
                )
            if child.restart_at is not None and now >= child.restart_at:
                child.restart_at = None
                child.start()
                child.awaiting_health = child.health_url is not None
                print(f"{child.name} restarted (pid {child.pid})", file=sys.stderr, flush=True)
            elif child.awaiting_health and child.exited() is None and answers(child.health_url):
                child.awaiting_health = False
                print(f"{child.name} answers again (pid {child.pid})", file=sys.stderr, flush=True)
        time.sleep(POLL_S)


MALLOC_ARENA_MAX = "2"  # the replicas' glibc heaps (the Dockerfile sets the same)


def free_ports(n: int, address: str = "127.0.0.1", avoid: Collection[int] = ()) -> list[int]:
    """``n`` distinct free ports, none of them in ``avoid`` (all held open while choosing,
    so none comes twice). ``avoid``: a port free now that something else is about to
    take, such as nginx's own: a replica given it answered the health checks in nginx's
    place, and the class ran on one replica."""
    ports: list[int] = []
    with contextlib.ExitStack() as stack:
        while len(ports) < n:
            sock = stack.enter_context(socket.socket())
            sock.bind((address, 0))
            port = sock.getsockname()[1]
            if port not in avoid:
                ports.append(port)
        return ports


def free_port(address: str = "127.0.0.1") -> int:
    return free_ports(1, address)[0]


def port_taken(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx binds
        try:
            sock.bind((address, port))
        except OSError:
            return True
    return False


def open_url(address: str, port: int) -> str:
    """The address to give the class: for a wildcard, this machine's address on its LAN."""
    if address not in ("0.0.0.0", "::", ""):
        return f"http://{host_port(address, port)}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # picks the outgoing interface; sends nothing
            host = sock.getsockname()[0]
        except OSError:
            host = socket.gethostname()
    return f"http://{host_port(host, port)}"


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """serve's own options, and the Streamlit arguments after ``--`` (for every replica)."""
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    own, streamlit_args = argv[:split], argv[split + 1 :]
    n_cores = cores()
    parser = argparse.ArgumentParser(
        prog="python -m playground.serve",
        description="Serve the playground to a class: app replicas behind nginx, every core used.",
        epilog="Arguments after -- go to every replica's `streamlit run`.",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=default_replicas(n_cores),
        help=f"app processes (default: one per core, at most {MAX_DEFAULT_REPLICAS}; "
        f"here {default_replicas(n_cores)})",
    )
    parser.add_argument("--port", type=int, default=8501, help="nginx's port (default 8501)")
    parser.add_argument(
        "--address",
        default="127.0.0.1",
        help="nginx's address (default 127.0.0.1: this machine only; 0.0.0.0 for a class)",
    )
    parser.add_argument(
        "--print-site",
        nargs="+",
        metavar="HOST:PORT",
        help="print the nginx site for replicas running at these addresses (for nginx's "
        "conf.d/, listening on --address:--port; 80 there, say) and exit",
    )
    args = parser.parse_args(own)
    if args.replicas < 1:
        parser.error("--replicas must be 1 or more")
    if not 0 < args.port < 65536:
        parser.error("--port must be 1-65535")
    taken = [a for a in streamlit_args if a.split("=", 1)[0] in OWN_FLAGS]
    if taken:
        parser.error(f"{taken[0]} is set by serve itself: use --port and --address")
    return args, streamlit_args


def finish_precompile(child: Child, timeout: float = STARTUP_TIMEOUT_S) -> str:
    """Wait for the compiling-ahead process; what it did, in a line. It never stops the
    class: a learner's new shape then compiles when it comes."""
    assert child.proc is not None
    try:
        child.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.signal_group(signal.SIGKILL)
        child.proc.wait()
        return f"compiling ahead took over {timeout:.0f} s: stopped (see {child.log})"
    if child.proc.returncode != 0:
        return f"compiling ahead failed (see {child.log}); new shapes compile when picked"
    said = child.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return said[-1] if said else "compiled ahead"


def serve(args: argparse.Namespace, streamlit_args: list[str], nginx: str, run_dir: Path) -> int:
    # One secret for every replica: each signs its cookies with it (a replica with its
    # own would not accept the others'). Kept from the environment, so a restarted serve
    # keeps the browsers' cookies valid.
    env = {**os.environ, SECRET_ENV: os.environ.get(SECRET_ENV) or secrets.token_hex(32)}
    # Each replica trains on its share of the cores: its training threads and the runs it
    # lets play (host.toml's defaults, per core) add up to the machine's, not N times it.
    env[CORES_ENV] = str(max(1, cores() // args.replicas))
    # glibc gives each thread that allocates its own heap (up to 8 a core), and a
    # replica's threads (sessions, trainers, compiles) left ~25 MB each of them; two
    # heaps cost 54 MB less RSS for two replicas of 30 learners each, measured.
    env.setdefault("MALLOC_ARENA_MAX", MALLOC_ARENA_MAX)
    # The shapes a learner may pick next are compiled once, into the disk cache, by a
    # process of their own (PRECOMPILE below): held in every replica's memory they cost
    # ~240 MB each. A host's own PLAYGROUND_PRECOMPILE wins.
    precompile_once = PRECOMPILE_ENV not in os.environ
    if precompile_once:
        env[PRECOMPILE_ENV] = PRECOMPILE_OWN
    replicas = []
    for i, port in enumerate(free_ports(args.replicas, avoid={args.port}), start=1):
        addr = f"127.0.0.1:{port}"
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(ENTRY),
            "--server.headless", "true",
            "--server.address", "127.0.0.1",
            "--server.port", str(port),
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
            *streamlit_args,
        ]  # fmt: skip
        log = run_dir / f"replica{i}.log"
        replicas.append(Child(f"replica {i}", cmd, log, env, addr, f"http://{addr}{HEALTH_PATH}"))

    # nginx's prefix: pid, logs and temp files; workers (as nobody when root) only need
    # to pass through the folder to the temp paths nginx makes and hands them.
    run_dir.chmod(0o711)
    (run_dir / "logs").mkdir()
    (run_dir / "temp").mkdir()
    listen = host_port(args.address, args.port)
    (run_dir / "site.conf").write_text(site_conf(listen, [r.addr for r in replicas]))
    (run_dir / "nginx.conf").write_text(main_conf())
    nginx_cmd = [nginx, "-p", str(run_dir), "-c", "nginx.conf", "-e", "logs/error.log"]
    check = subprocess.run([*nginx_cmd, "-t"], capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        print(f"nginx rejected its configuration:\n{check.stderr.strip()}", file=sys.stderr)
        return 1
    lb_host = "127.0.0.1" if args.address in ("0.0.0.0", "") else args.address
    lb_host = "::1" if lb_host == "::" else lb_host
    lb = Child(
        "nginx",
        nginx_cmd,
        run_dir / "logs" / "error.log",
        addr=listen,
        health_url=f"http://{host_port(lb_host, args.port)}{HEALTH_PATH}",
    )

    children = [*replicas, lb]
    ahead = None
    try:
        print(f"Starting {len(replicas)} app replicas ({cores()} cores) and nginx ...", flush=True)
        if precompile_once:
            ahead = Child("compiling ahead", PRECOMPILE, run_dir / "precompile.log", env)
            ahead.start()
        for replica in replicas:
            replica.start()
        wait_until_healthy(replicas, STARTUP_TIMEOUT_S)
        if ahead is not None:
            print(f"  {finish_precompile(ahead)}", flush=True)
        lb.start()
        wait_until_healthy([lb], STARTUP_TIMEOUT_S)
        for replica in replicas:
            print(f"  {replica.name}: http://{replica.addr} (pid {replica.pid})")
        print(f"  nginx on {listen} (pid {lb.pid}); logs in {run_dir}")
        print(f"Open {open_url(args.address, args.port)}  (Ctrl-C stops it all)", flush=True)
        supervise(children)
    except StartupError as err:
        print(f"could not start: {err}", file=sys.stderr)
        return 1
    except Stopped:
        print("Stopping nginx and the replicas ...", file=sys.stderr, flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a stop in progress is not cut short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all([lb, *replicas, *([ahead] if ahead else [])])  # nginx first: no new requests
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args, streamlit_args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.print_site:
        print(site_conf(host_port(args.address, args.port), args.print_site), end="")
        return 0
    nginx = find_nginx()
    if nginx is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    if port_taken(args.address, args.port):
        print(
            f"{host_port(args.address, args.port)} is in use: pick another --port", file=sys.stderr
        )
        return 2
    signal.signal(signal.SIGINT, _on_stop_signal)
    signal.signal(signal.SIGTERM, _on_stop_signal)
    run_dir = Path(tempfile.mkdtemp(prefix="playground-serve-"))
    try:
        return serve(args, streamlit_args, nginx, run_dir)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

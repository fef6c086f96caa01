"""The load test's summary (slowest and median learner, the server's CPU and memory,
errors), its table, and the command line."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter

import playground.loadtest
from playground.loadtest.drive import SessionResult, run_sessions
from playground.loadtest.server import Server, ServerMonitor, rss_mb

MAX_ERROR_MESSAGES = 5


def _stats(values: list[float]) -> tuple[float, float]:
    return (min(values), statistics.median(values)) if values else (0.0, 0.0)


def summarize(
    results: list[SessionResult],
    *,
    seconds: float,
    server_pid: int | None = None,
    cpu: dict | None = None,
) -> dict:
    """The JSON summary: per-session rates (min and median), errors, upstreams and the
    server's CPU and memory (``cpu`` from ``ServerMonitor.result()``; with only
    ``server_pid``, its memory now; null when neither, e.g. a remote server)."""
    pics = [r.pictures_per_s for r in results]
    epochs = [r.epochs_per_s for r in results]
    min_pics, med_pics = _stats(pics)
    min_epochs, med_epochs = _stats(epochs)
    cpu = dict(cpu or {})
    if not cpu and server_pid is not None:
        rss = rss_mb(server_pid)
        cpu = {"server_rss_mb": rss, "server_rss_max_mb": rss}
    messages = list(dict.fromkeys(e for r in results for e in r.errors))
    upstreams = Counter(r.upstream or "(none)" for r in results)
    rnd = lambda v, d=2: None if v is None else round(v, d)  # noqa: E731
    return {
        "sessions": len(results),
        "seconds": seconds,
        "min_pictures_per_s": round(min_pics, 2),
        "median_pictures_per_s": round(med_pics, 2),
        "min_epochs_per_s": round(min_epochs, 1),
        "median_epochs_per_s": round(med_epochs, 1),
        "server_cpu_cores": rnd(cpu.get("server_cpu_cores")),
        "server_rss_mb": rnd(cpu.get("server_rss_mb"), 1),
        "server_rss_max_mb": rnd(cpu.get("server_rss_max_mb"), 1),
        "server_rss_slope_mb_per_min": rnd(cpu.get("server_rss_slope_mb_per_min"), 2),
        "client_cpu_cores": rnd(cpu.get("client_cpu_cores")),
        "window_s": rnd(cpu.get("window_s")),
        "errors": sum(len(r.errors) for r in results),
        "error_messages": messages[:MAX_ERROR_MESSAGES],
        "upstreams": dict(upstreams),
        "per_session": [r.small() for r in results],
    }


def _table(summary: dict) -> str:
    head = (
        f"{'#':>3} {'upstream':<18} {'pictures':>8} {'pics/s':>7} {'epochs/s':>9} "
        f"{'runs':>5} {'dropped':>7}  errors"
    )
    lines = [head, "-" * len(head)]
    for s in summary["per_session"]:
        lines.append(
            f"{s['index']:>3} {s['upstream'] or '-'!s:<18} {s['pictures']:>8} "
            f"{s['pictures_per_s']:>7.2f} {s['epochs_per_s']:>9.1f} "
            f"{s['fragment_runs']:>5} {s['fragment_runs_dropped']:>7}  {' | '.join(s['errors'])}"
        )
    fmt = lambda v, unit="": "n/a" if v is None else f"{v}{unit}"  # noqa: E731
    lines += [
        "",
        f"sessions {summary['sessions']}, {summary['seconds']} s playing",
        f"pictures/s: min {summary['min_pictures_per_s']}, "
        f"median {summary['median_pictures_per_s']}",
        f"epochs/s:   min {summary['min_epochs_per_s']}, median {summary['median_epochs_per_s']}",
        f"server: {fmt(summary['server_cpu_cores'], ' cores')}, "
        f"RSS {fmt(summary['server_rss_mb'], ' MB')} (max {fmt(summary['server_rss_max_mb'])}); "
        f"this client: {fmt(summary['client_cpu_cores'], ' cores')}",
        f"errors: {summary['errors']}" + "".join(f"\n  {m}" for m in summary["error_messages"]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m playground.loadtest",
        description=playground.loadtest.__doc__.split("\n\n")[0],
    )
    parser.add_argument("--sessions", type=int, default=1, help="learners at once")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds all of them play")
    parser.add_argument("--json", action="store_true", help="print one JSON line last")
    parser.add_argument("--url", help="drive this server instead of starting one")
    parser.add_argument(
        "--server-pid", type=int, help="with --url: the server's process, to measure it"
    )
    parser.add_argument("--query", default="", help="query string of the page, e.g. width=16")
    parser.add_argument("--stagger", type=float, default=0.1, help="seconds between arrivals")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0:
        parser.error("--sessions must be >= 1 and --seconds > 0")

    def go(url: str, pid: int | None) -> dict:
        monitor = ServerMonitor(pid) if pid is not None else None
        results = run_sessions(
            url, args.sessions, args.seconds, query=args.query, stagger=args.stagger,
            monitor=monitor,
        )  # fmt: skip
        cpu = monitor.result() if monitor is not None else None
        return summarize(results, seconds=args.seconds, server_pid=pid, cpu=cpu)

    if args.url:
        summary = go(args.url, args.server_pid)
    else:
        with Server() as server:
            summary = go(server.url, server.pid)
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        print(_table(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

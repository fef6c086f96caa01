"""The load test's summary (slowest and median learner, the server's CPU and memory,
the teacher's wall with ``--class``, errors), its table, and the command line."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter

import playground.loadtest
from playground.loadtest.drive import SessionResult, WallResult, run_class, run_sessions
from playground.loadtest.server import Server, ServerMonitor, rss_mb

MAX_ERROR_MESSAGES = 5
# Between two sizes of a sweep: the runs of the sessions just closed stop once nobody
# watches them (3 s on the server, which this client does not import) before the next
# class arrives.
SETTLE_S = 4.0


def _stats(values: list[float]) -> tuple[float, float]:
    return (min(values), statistics.median(values)) if values else (0.0, 0.0)


def summarize(
    results: list[SessionResult],
    *,
    seconds: float,
    server_pid: int | None = None,
    cpu: dict | None = None,
    wall: WallResult | None = None,
) -> dict:
    """The JSON summary: per-session rates (min and median), errors, upstreams and the
    server's CPU and memory (``cpu`` from ``ServerMonitor.result()``; with only
    ``server_pid``, its memory now; null when neither, e.g. a remote server); in a
    class (``wall``), the teacher's wall: its refreshes and its tiles' ages (null
    without a class)."""
    pics = [r.pictures_per_s for r in results]
    epochs = [r.epochs_per_s for r in results]
    firsts = [r.first_picture_s for r in results if r.first_picture_s is not None]
    gaps = [r.longest_gap_s for r in results if r.longest_gap_s is not None]
    min_pics, med_pics = _stats(pics)
    min_epochs, med_epochs = _stats(epochs)
    cpu = dict(cpu or {})
    if not cpu and server_pid is not None:
        rss = rss_mb(server_pid)
        cpu = {"server_rss_mb": rss, "server_rss_max_mb": rss}
    wall_errors = [f"teacher: {e}" for e in (wall.errors if wall is not None else [])]
    messages = list(dict.fromkeys([*wall_errors, *(e for r in results for e in r.errors)]))
    upstreams = Counter(r.upstream or "(none)" for r in results)
    rnd = lambda v, d=2: None if v is None else round(v, d)  # noqa: E731
    return {
        "sessions": len(results),
        "seconds": seconds,
        "min_pictures_per_s": round(min_pics, 2),
        "median_pictures_per_s": round(med_pics, 2),
        "min_epochs_per_s": round(min_epochs, 1),
        "median_epochs_per_s": round(med_epochs, 1),
        # The worst seconds of the worst learner, the longest stall anyone saw, and how
        # long the last learner waited from opening the page to the first picture.
        "min_p10_pictures_per_s": round(min((r.p10_pictures_per_s for r in results), default=0), 1),
        "max_gap_s": rnd(max(gaps, default=None), 3),
        "max_arrival_gap_s": rnd(
            max((r.longest_arrival_gap_s or 0 for r in results), default=None), 3
        ),
        "max_first_picture_s": rnd(max(firsts, default=None)),
        "first_pictures": len(firsts),
        "server_cpu_cores": rnd(cpu.get("server_cpu_cores")),
        "server_rss_mb": rnd(cpu.get("server_rss_mb"), 1),
        "server_rss_max_mb": rnd(cpu.get("server_rss_max_mb"), 1),
        "server_rss_slope_mb_per_min": rnd(cpu.get("server_rss_slope_mb_per_min"), 2),
        "server_rss_slope_last_half_mb_per_min": rnd(
            cpu.get("server_rss_slope_last_half_mb_per_min"), 2
        ),
        "client_cpu_cores": rnd(cpu.get("client_cpu_cores")),
        "window_s": rnd(cpu.get("window_s")),
        # Full runs whose end Streamlit never sent, as a fragment's rerun came between.
        "full_runs_unfinished": sum(r.full_runs_unfinished for r in results),
        "class": wall is not None,
        **(wall or WallResult()).summary(),
        "errors": sum(len(r.errors) for r in results) + len(wall_errors),
        "error_messages": messages[:MAX_ERROR_MESSAGES],
        "upstreams": dict(upstreams),
        "per_session": [r.small() for r in results],
    }


def _table(summary: dict) -> str:
    head = (
        f"{'#':>3} {'upstream':<18} {'pictures':>8} {'pics/s':>7} {'p10':>5} {'gap s':>6} "
        f"{'first s':>7} {'epochs/s':>9} {'runs':>5} {'dropped':>7}  errors"
    )
    lines = [head, "-" * len(head)]
    num = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    for s in summary["per_session"]:
        lines.append(
            f"{s['index']:>3} {s['upstream'] or '-'!s:<18} {s['pictures']:>8} "
            f"{s['pictures_per_s']:>7.2f} {s['p10_pictures_per_s']:>5.1f} "
            f"{num(s['longest_gap_s'], '>6.2f')} {num(s['first_picture_s'], '>7.1f')} "
            f"{s['epochs_per_s']:>9.1f} {s['fragment_runs']:>5} "
            f"{s['fragment_runs_dropped']:>7}  {' | '.join(s['errors'])}"
        )
    fmt = lambda v, unit="": "n/a" if v is None else f"{v}{unit}"  # noqa: E731
    lines += [
        "",
        f"sessions {summary['sessions']}, {summary['seconds']} s playing",
        f"pictures/s: min {summary['min_pictures_per_s']}, "
        f"median {summary['median_pictures_per_s']}",
        f"epochs/s:   min {summary['min_epochs_per_s']}, median {summary['median_epochs_per_s']}",
        f"worst second (p10): {summary['min_p10_pictures_per_s']} pictures; longest gap "
        f"{fmt(summary['max_gap_s'], ' s')}; last first picture after "
        f"{fmt(summary['max_first_picture_s'], ' s')} ({summary['first_pictures']} of "
        f"{summary['sessions']} saw one)",
        f"server: {fmt(summary['server_cpu_cores'], ' cores')}, "
        f"RSS {fmt(summary['server_rss_mb'], ' MB')} (max {fmt(summary['server_rss_max_mb'])}, "
        f"growing {fmt(summary['server_rss_slope_mb_per_min'], ' MB/min')}, in the window's "
        f"second half {fmt(summary['server_rss_slope_last_half_mb_per_min'], ' MB/min')}); "
        f"this client: {fmt(summary['client_cpu_cores'], ' cores')}",
        *_wall_lines(summary),
        *(
            [
                f"full runs whose end never came: {summary['full_runs_unfinished']} (a "
                "fragment's rerun came between; counted as finished)"
            ]
            if summary.get("full_runs_unfinished")
            else []
        ),
        f"errors: {summary['errors']}" + "".join(f"\n  {m}" for m in summary["error_messages"]),
    ]
    return "\n".join(lines)


def _wall_lines(summary: dict) -> list[str]:
    """The teacher's wall, in a class."""
    if not summary.get("class"):
        return []
    fmt = lambda v, unit="": "n/a" if v is None else f"{v}{unit}"  # noqa: E731
    return [
        f"class {fmt(summary['class_code'])}, the teacher's wall: "
        f"{summary['wall_refreshes']} refreshes (longest wait "
        f"{fmt(summary['wall_refresh_gap_max_s'], ' s')}), "
        f"{fmt(summary['wall_tiles_last'])} tiles in the last; "
        f"tile age p95 {fmt(summary['wall_tile_age_p95_s'], ' s')}, "
        f"max {fmt(summary['wall_tile_age_max_s'], ' s')}"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m playground.loadtest",
        description=playground.loadtest.__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "--sessions",
        default="1",
        help="learners at once; several sizes comma-separated (1,10,30,60) run one after "
        "another on the same server, one summary each",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds all of them play")
    parser.add_argument("--json", action="store_true", help="print one JSON line last")
    parser.add_argument("--url", help="drive this server instead of starting one")
    parser.add_argument(
        "--server-pid", type=int, help="with --url: the server's process, to measure it"
    )
    parser.add_argument("--query", default="", help="query string of the page, e.g. width=16")
    parser.add_argument("--stagger", type=float, default=0.1, help="seconds between arrivals")
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="start the class server (python -m playground.serve: that many app processes "
        "behind nginx) instead of one app process",
    )
    parser.add_argument(
        "--class",
        dest="classroom",
        action="store_true",
        help="a teacher creates a class on the Class page first, every learner joins it, "
        "and the teacher's wall stays open: reports how old its tiles are",
    )
    args = parser.parse_args(argv)
    try:
        sizes = [int(n) for n in args.sessions.split(",")]
    except ValueError:
        parser.error("--sessions takes whole numbers, e.g. 30 or 1,10,30,60")
    if min(sizes) < 1 or args.seconds <= 0:
        parser.error("--sessions must be >= 1 and --seconds > 0")

    def go(url: str, pid: int | None, n: int) -> None:
        monitor = ServerMonitor(pid) if pid is not None else None
        run = run_class if args.classroom else run_sessions
        out = run(url, n, args.seconds, query=args.query, stagger=args.stagger, monitor=monitor)
        results, wall = out if args.classroom else (out, None)
        cpu = monitor.result() if monitor is not None else None
        summary = summarize(results, seconds=args.seconds, server_pid=pid, cpu=cpu, wall=wall)
        print(json.dumps(summary) if args.json else _table(summary) + "\n", flush=True)

    if args.url:
        for n in sizes:
            go(args.url, args.server_pid, n)
    else:
        with Server(replicas=args.replicas) as server:
            for n in sizes:
                go(server.url, server.pid, n)
                if n != sizes[-1]:
                    time.sleep(SETTLE_S)
    return 0


if __name__ == "__main__":
    sys.exit(main())

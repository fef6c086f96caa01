"""``frame``: one live picture as the server makes it (milliseconds, bytes), and the
scheduler's trainer taking them (epochs/s, pictures/s)."""

import json
import statistics
import time
import zlib

import numpy as np

from playground.bench.timing import benchmark, load_avg

FRAME_GRID_N = 64  # the live boundary's grid (ui.live_view.GRID_N; a test keeps them equal)
UNIT_GRID_N = 24  # the unit pictures' grid (ui.live_view.THUMB_N)


def frame_arrays(live, n_layers: int, *, exact: bool = False) -> dict:
    """What the server sends for one picture of the boundary, packed as the frames stream
    packs it: the output grid (bytes) and the live bends (the first layer's lines, the
    deeper layers' sign bits), or with ``exact`` every bend cut exactly (a paused
    picture's)."""
    from playground.live.server.frames import BoundaryView, PictureEncoder, frame

    encode = PictureEncoder(live.data, BoundaryView(n_layers, discretize=False))
    if exact:
        snap = live.snapshot(FRAME_GRID_N, bends=live.bends())
    else:
        snap = live.live_snapshot(FRAME_GRID_N)
    return frame(snap, encode.arrays(snap))


def _live_trainer(live, seconds: float, n_layers: int) -> dict[str, float]:
    """The server's scheduler training the run and taking its pictures, packed for the
    stream as the app does (epochs/s and pictures/s on the server alone)."""
    from playground.live.server.frames import BoundaryView, PictureEncoder
    from playground.live.server.scheduler import Scheduler, SessionTrainer

    encode = PictureEncoder(live.data, BoundaryView(n_layers, discretize=False))
    trainer = SessionTrainer(Scheduler(), "bench")
    start_step, start_pictures = live.step, live.snapshots.added
    start = time.perf_counter()
    trainer.start(live, snapshot_grid=FRAME_GRID_N, encode=encode)
    while time.perf_counter() - start < seconds:
        time.sleep(0.25)
        trainer.scheduler.touch(trainer.key)  # as the page's stream keeps it alive
    trainer.stop()
    elapsed = time.perf_counter() - start
    epochs = (live.step - start_step) / live.steps_per_epoch
    pictures = live.snapshots.added - start_pictures  # each packed for the stream (encode)
    return {"live_epochs_per_s": epochs / elapsed, "live_pictures_per_s": pictures / elapsed}


@benchmark("frame")
def bench_frame(*, repeats: int = 5, mode: str = "full") -> dict[str, float | None]:
    """One live picture of the default run (xor, 8-8): server milliseconds to take it
    (output grid + live bends + wire encoding; beside it, in the same rounds, the same
    picture with exact bends, as a paused one is drawn) and its bytes as JSON (and
    deflated, as websocket compression sends it); then the background trainer taking
    pictures, packed for the stream, while it trains (epochs/s and pictures/s on the
    server alone)."""
    from playground.core.config import RunConfig
    from playground.live.session.live_run import LiveRun

    live = LiveRun(RunConfig(speed="fast"))  # the trainer flat out, as measured
    n_layers = len(live.spec.hidden)
    live.train_steps(live.steps_per_epoch * 20)
    n = 5 if mode == "smoke" else 10 * repeats
    times, exact_times, sizes, deflated = [], [], [], []
    for _ in range(n + 1):
        live.train_steps(live.steps_per_epoch)  # new weights: the bends are computed anew
        start = time.perf_counter()
        frame = frame_arrays(live, n_layers)
        wire = json.dumps(frame, separators=(",", ":"))
        times.append(time.perf_counter() - start)
        sizes.append(len(wire))
        deflated.append(len(zlib.compress(wire.encode(), 6)))
        start = time.perf_counter()
        json.dumps(frame_arrays(live, n_layers, exact=True), separators=(",", ":"))
        exact_times.append(time.perf_counter() - start)
    out: dict[str, float | None] = {
        "frame_ms": 1e3 * statistics.median(times[1:]),
        "frame_ms_p90": 1e3 * float(np.percentile(times[1:], 90)),
        "frame_exact_ms": 1e3 * statistics.median(exact_times[1:]),
        "frame_bytes": statistics.median(sizes),
        "frame_deflated_bytes": statistics.median(deflated),
        "grid_n": FRAME_GRID_N,
    }
    seconds = {"full": 4.0, "quick": 2.0, "smoke": 0.6}[mode]
    out |= _live_trainer(live, seconds, n_layers)
    out["load_avg_1m"] = load_avg()
    return out


@benchmark("network")
def bench_network(*, repeats: int = 5, mode: str = "full") -> dict[str, float | None]:
    """The Network figure as the frames stream sends it while a run plays (unit
    pictures, figure, JSON): server milliseconds and bytes, for xor 8-8 and for 8
    layers of 16 (the largest drawn whole)."""
    import plotly.io.json as pio_json

    from playground.core.config import RunConfig
    from playground.live.server.frames import network_picture
    from playground.live.session.live_run import LiveRun

    out: dict[str, float | None] = {}
    n = 3 if mode == "smoke" else 4 * repeats
    for name, hidden in (("8x8", (8, 8)), ("16x8", (16,) * 8)):
        live = LiveRun(RunConfig(hidden=hidden, speed="fast"))
        live.train_steps(50)
        times, sizes = [], []
        for _ in range(n + 1):
            start = time.perf_counter()
            fig, _ = network_picture(live, gradients=False)
            sizes.append(len(pio_json.to_json_plotly(fig)))
            times.append(time.perf_counter() - start)
        out[f"network_{name}_ms"] = 1e3 * statistics.median(times[1:])
        out[f"network_{name}_bytes"] = statistics.median(sizes)
    out["load_avg_1m"] = load_avg()
    return out

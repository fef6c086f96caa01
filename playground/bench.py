"""Benchmarks, side by side in one run: ``python -m playground.bench [names] [--quick] [--json]``.

With no names it measures what a learner feels, each against a yardstick timed in the
same run (machines and their load differ, so only figures taken together compare):

- ``train``: steps/s of the project's training chunk vs PyTorch eager (when ``torch``
  imports; ``pip install -e '.[bench]'``) vs a plain NumPy MLP written by hand
  (``playground.reference``), on 2->8->8->1 with Adam and a full batch of 1000 points, and
  in TensorFlow Playground's setting (xor, 8-8 ReLU, batch 10, 250 points: epochs/s);
- ``roofline``: a 256x4 network (batch 1000): GFLOP/s of its matrix products against this
  machine's float32 matrix-multiply peak (the best of JAX, NumPy and PyTorch on square
  matrices), measured in the same run;
- ``compile``: the first compile of a chunk in a new process, without and with the
  persistent cache; a "slider change" to a new width in a warm process, with the shape
  compiled ahead (``live.compile_cache.precompile``) and without;
- ``frame``: one live picture as the server makes it (output grid, exact bends, wire
  encoding): milliseconds and bytes; and the trainer with pictures (epochs/s, pictures/s).

Also by name: ``sweep`` (vmapped networks vs one by one) and ``partition`` (exact regions).

Every benchmark is a function registered with ``@benchmark("name")``: it takes ``repeats``
(timed rounds per median) and ``mode`` ("full", "quick" or "smoke": smaller problems, a
shorter run) and returns a flat dict of numbers, each key saying its unit (``_s``, ``_ms``,
``_per_s``, ``_x`` for a ratio of two figures from the same rounds). Contenders are
timed in turn, round after round (A B C A B C ...), so a change of the machine's speed
hits all of them; ratios are medians of per-round ratios. ``load_avg_1m`` says how busy
the machine was. ``--json`` prints one JSON line last: the headline figures
(``HEADLINE``), the device, and every benchmark's dict under ``benchmarks``.
"""

import argparse
import functools
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

Benchmark = Callable[..., dict[str, float | None]]
BENCHMARKS: dict[str, Benchmark] = {}
DEFAULT = ("train", "roofline", "compile", "frame")
MODES = ("full", "quick", "smoke")
# Seconds each contender runs per round, by mode: long enough to dwarf a timer's noise.
BLOCK_S = {"full": 0.5, "quick": 0.25, "smoke": 0.03}
FRAME_GRID_N = 64  # the live boundary's grid (ui.live_view.GRID_N; a test keeps them equal)
UNIT_GRID_N = 24  # the unit pictures' grid (ui.live_view.THUMB_N)


def benchmark(name: str) -> Callable[[Benchmark], Benchmark]:
    """Register a benchmark function under ``name``."""

    def register(fn: Benchmark) -> Benchmark:
        BENCHMARKS[name] = fn
        return fn

    return register


# -- helpers ----------------------------------------------------------------------------------
def repeat_times(fn: Callable[[], object], *, repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls of fn, waiting for its JAX results each time."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return times


def median_time(fn: Callable[[], object], *, repeats: int, warmup: int = 1) -> float:
    """Median seconds of fn after ``warmup`` untimed calls (which compile)."""
    for _ in range(warmup):
        jax.block_until_ready(fn())
    return statistics.median(repeat_times(fn, repeats=repeats))


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None where it means nothing."""
    return None if a is None or b is None or b == 0 else a / b


def load_avg() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def machine() -> dict[str, str | int | float]:
    return {
        "device": str(jax.devices()[0]),
        "backend": jax.default_backend(),
        "jax": jax.__version__,
        "cpus": os.cpu_count() or 0,
        "load_avg_1m": load_avg(),
    }


def side_by_side(
    contenders: dict[str, Callable[[int], int]], *, rounds: int, block_s: float
) -> dict[str, list[float]]:
    """Units per second of each contender, one figure per round, timed in turn.

    A contender is ``run(k) -> units done`` (k calls of its unit of work, waiting for the
    result). Each is warmed up (compiled) and sized first, so that one timed block takes
    about ``block_s``.
    """
    calls = {}
    for name, run in contenders.items():
        run(1)  # compiles
        start = time.perf_counter()
        run(1)
        calls[name] = max(1, round(block_s / max(time.perf_counter() - start, 1e-6)))
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            start = time.perf_counter()
            units = run(calls[name])
            rates[name].append(units / (time.perf_counter() - start))
    return rates


def paired_ratio(a: list[float], b: list[float]) -> float:
    """Median over rounds of a[i] / b[i]: the ratio of two contenders timed together."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


# -- the networks being timed -----------------------------------------------------------------
SMALL_HIDDEN, FULL_BATCH = (8, 8), 1000
WIDE_HIDDEN = (256, 256, 256, 256)


class _Setting:
    """One network and its data: xor, ReLU, Adam; full batch or TensorFlow Playground's
    minibatches. ``n_train`` training points (the train half of twice as many)."""

    def __init__(self, hidden, *, n_train: int, batch_size: int, learning_rate: float = 0.03):
        from playground.core.datasets import make_dataset
        from playground.core.model import params_to_host
        from playground.core.train import Hyper, ModelSpec, batch_plan, init_state

        data = make_dataset("xor", n_points=2 * n_train, train_ratio=0.5, seed=0)
        self.x_np, self.y_np = data.x_train, data.y_train
        self.x, self.y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
        self.spec = ModelSpec(("x1", "x2"), tuple(hidden), "relu", "binary", 2)
        self.state = init_state(self.spec, "adam", key=jax.random.key(0))
        self.params0 = params_to_host(self.state.params)
        self.hyper = Hyper(learning_rate)
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.steps_per_epoch = batch_plan(n_train, batch_size)[1]

    def chunk_kw(self, n_steps: int) -> dict:
        return dict(spec=self.spec, optimizer="adam", batch_size=self.batch_size, n_steps=n_steps)

    def jax_runner(self, n_steps: int) -> Callable[[int], int]:
        """k calls of the project's ``train_chunk`` of ``n_steps`` steps each."""
        from playground.core.train import train_chunk

        def run(k: int) -> int:
            for _ in range(k):
                self.state, _ = train_chunk(
                    self.state, self.x, self.y, self.hyper, **self.chunk_kw(n_steps)
                )
            jax.block_until_ready(self.state.params)
            return k * n_steps

        return run

    def reference_runner(self, cls, n_steps: int, **kw) -> Callable[[int], int]:
        """k calls of ``n_steps`` steps of a reference trainer (NumPy or PyTorch)."""
        model = cls(
            self.params0,
            self.x_np,
            self.y_np,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            **kw,
        )

        def run(k: int) -> int:
            model.train(k * n_steps)
            return k * n_steps

        return run


def _mlp_matmul_flops(sizes, n: int) -> float:
    """FLOPs of the matrix products of one training step on a batch of n: forward
    (2 n a b per layer a->b), the weight gradients (as many) and the input gradients of
    every layer but the first. Elementwise work is left out."""
    pairs = [a * b for a, b in itertools.pairwise(sizes)]
    return 2.0 * n * (3 * sum(pairs) - pairs[0])


# PyTorch eager at its best: one intra-op thread or all of them, whichever is faster in
# each round. Tiny ops gain nothing from a second thread, and on a busy machine its
# OpenMP workers wait on each other (measured here: 50-300 steps/s with 2 threads,
# 500-3,500 with 1, for the 2-8-8-1 net).
TORCH_THREADS = {"torch_1t": 1, "torch_mt": os.cpu_count() or 1}


def _torch_contenders(s: "_Setting", n_steps: int) -> dict[str, Callable[[int], int]]:
    from playground.reference import TorchMLP, torch_available

    if not torch_available():
        return {}
    return {
        name: s.reference_runner(TorchMLP, n_steps, threads=threads)
        for name, threads in TORCH_THREADS.items()
    }


def _best_torch(rates: dict[str, list[float]]) -> None:
    """Fold the thread settings into one ``torch`` figure per round (the faster)."""
    runs = [rates.pop(name) for name in TORCH_THREADS if name in rates]
    if runs:
        rates["torch"] = [max(r) for r in zip(*runs, strict=True)]


# -- train: the project's chunk vs PyTorch eager vs NumPy -----------------------------------------
def _chunk_steps() -> int:
    """The longest chunk of the live loop's ladder: what a small net trains in."""
    from playground.live.run import CHUNK_LADDER

    return CHUNK_LADDER[-1]


@benchmark("train")
def bench_train(*, repeats: int = 5, mode: str = "full") -> dict[str, float | None]:
    """Steps/s of 2->8->8->1 (full batch 1000, Adam) and epochs/s in TensorFlow
    Playground's setting (xor, 8-8, batch 10, 250 points), each for the project's chunk,
    PyTorch eager and NumPy, timed in turn."""
    from playground.reference import NumpyMLP

    out: dict[str, float | None] = {"chunk_steps": _chunk_steps(), "load_avg_1m": load_avg()}
    settings = {
        "small": _Setting(SMALL_HIDDEN, n_train=FULL_BATCH, batch_size=0),
        "tfp": _Setting(SMALL_HIDDEN, n_train=250, batch_size=10),
    }
    for name, s in settings.items():
        contenders = {
            "jax": s.jax_runner(_chunk_steps()),
            "numpy": s.reference_runner(NumpyMLP, 32),
        }
        contenders |= _torch_contenders(s, 32)
        rates = side_by_side(contenders, rounds=repeats, block_s=BLOCK_S[mode])
        for name_t in TORCH_THREADS:
            if name_t in rates:
                out[f"{name}_{name_t}_steps_per_s"] = statistics.median(rates[name_t])
        _best_torch(rates)
        per = 1 if name == "small" else s.steps_per_epoch
        unit = "steps" if name == "small" else "epochs"
        for who in ("jax", "numpy", "torch"):
            got = rates.get(who)
            out[f"{name}_{who}_{unit}_per_s"] = statistics.median(got) / per if got else None
        for who in ("torch", "numpy"):
            got = rates.get(who)
            out[f"{name}_jax_vs_{who}_x"] = paired_ratio(rates["jax"], got) if got else None
    out["load_avg_1m_after"] = load_avg()
    return out


# -- roofline: a wide net against the machine's matmul peak ---------------------------------------
_MATMUL = jax.jit(jnp.matmul)


def _square_matmul(n: int, lib: str) -> Callable[[int], int]:
    """k float32 n x n matrix products with ``lib`` (jax, numpy or torch): FLOPs done."""
    a = np.array(jax.random.normal(jax.random.key(1), (n, n), jnp.float32))  # writable
    if lib == "jax":
        a_dev = jnp.asarray(a)

        def run(k: int) -> int:
            jax.block_until_ready([_MATMUL(a_dev, a_dev) for _ in range(k)])
            return k * 2 * n**3

    elif lib == "torch":
        import torch

        a_t = torch.from_numpy(a)

        def run(k: int) -> int:
            for _ in range(k):
                a_t @ a_t
            return k * 2 * n**3

    else:

        def run(k: int) -> int:
            for _ in range(k):
                a @ a
            return k * 2 * n**3

    return run


def _in_flops(run: Callable[[int], int], flops_per_step: float) -> Callable[[int], float]:
    """A contender counting training steps, counting FLOPs instead."""
    return lambda k: run(k) * flops_per_step


@functools.partial(jax.jit, static_argnames=("n_layers",))
def _products(ws, h_t, g_t, *, n_layers: int):
    """The big products of a training step of ``n_layers`` square layers, in the layouts
    ``train_chunk`` gives them (feature-major): forward, input and weight gradients."""
    out = []
    for w in ws[:n_layers]:
        out += [jax.lax.optimization_barrier(w.T) @ h_t, w @ g_t, h_t @ g_t.T]
    return out


def _step_products(width: int, n_layers: int, n: int) -> Callable[[int], int]:
    """k runs of a step's products alone (no elementwise work, no optimizer): FLOPs."""
    key = jax.random.key(2)
    ws = [jax.random.normal(jax.random.fold_in(key, i), (width, width)) for i in range(n_layers)]
    h_t = jax.random.normal(key, (width, n))
    g_t = jax.random.normal(jax.random.fold_in(key, 99), (width, n))

    def run(k: int) -> int:
        jax.block_until_ready([_products(ws, h_t, g_t, n_layers=n_layers) for _ in range(k)])
        return k * n_layers * 3 * 2 * width * width * n

    return run


def _xla_flops_per_step(s: _Setting) -> float | None:
    """XLA's own count of a one-step chunk's FLOPs (None where it gives none)."""
    from playground.core.train import chunk_program

    try:
        compiled = (
            chunk_program(s.spec, len(s.x), s.batch_size)
            .lower(s.state, s.x, s.y, s.hyper, use_dropout=False, checked=False, **s.chunk_kw(1))
            .compile()
        )
        cost = compiled.cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        flops = float(cost.get("flops", 0.0))
    except Exception:  # cost analysis is best effort and differs between backends
        return None
    return flops if flops > 0 else None


@benchmark("roofline")
def bench_roofline(*, repeats: int = 5, mode: str = "full") -> dict[str, float | None]:
    """GFLOP/s of the project's chunk on a 256x4 net (batch 1000, Adam), counted from its
    matrix products, against this machine's float32 matmul peak: the fastest of square
    products with JAX, NumPy and PyTorch, timed in the same rounds. Also the step's big
    products alone (what the shapes allow) and the same net in PyTorch eager.

    ``roofline_fraction`` compares medians with medians; ``*_best_gflops`` are the best
    single blocks, a peak a busy machine reaches only now and then."""
    hidden = (64, 64) if mode == "smoke" else WIDE_HIDDEN
    s = _Setting(hidden, n_train=FULL_BATCH, batch_size=0)
    flops = _mlp_matmul_flops(s.spec.sizes, FULL_BATCH)
    out: dict[str, float | None] = {
        "hidden": "x".join(map(str, hidden)),
        "gflop_per_step": flops / 1e9,
        "load_avg_1m": load_avg(),
    }
    xla = _xla_flops_per_step(s) if mode != "smoke" else None  # one more compile
    out["xla_gflop_per_step"] = xla / 1e9 if xla else None
    from playground.reference import torch_available

    contenders = {"jax_train": _in_flops(s.jax_runner(16), flops)}
    contenders["products"] = _step_products(hidden[1], len(hidden) - 1, FULL_BATCH)
    sizes = {"full": (1024, 2048), "quick": (1024, 2048), "smoke": (512,)}[mode]
    libs = ("jax", "numpy") + (("torch",) if torch_available() else ())
    for n in sizes:
        for lib in libs:
            contenders[f"matmul_{lib}_{n}"] = _square_matmul(n, lib)
    if mode != "smoke":
        for name, run in _torch_contenders(s, 4).items():
            contenders[name] = _in_flops(run, flops)
    rates = side_by_side(contenders, rounds=repeats, block_s=2 * BLOCK_S[mode])
    _best_torch(rates)
    gflops = {name: [r / 1e9 for r in got] for name, got in rates.items()}
    for name, got in gflops.items():
        out[f"{name}_gflops"] = statistics.median(got)
        out[f"{name}_best_gflops"] = max(got)
    out["jax_steps_per_s"] = out["jax_train_gflops"] * 1e9 / flops
    if "torch" in gflops:
        out["torch_steps_per_s"] = out["torch_gflops"] * 1e9 / flops
        out["jax_vs_torch_x"] = paired_ratio(gflops["jax_train"], gflops["torch"])
    peak = max((n for n in gflops if n.startswith("matmul_")), key=lambda n: out[f"{n}_gflops"])
    out["matmul_peak_gflops"] = out[f"{peak}_gflops"]
    out["matmul_peak_by"] = peak
    # Per round, training against that round's peak: both saw the machine as it was.
    out["roofline_fraction"] = paired_ratio(gflops["jax_train"], gflops[peak])
    out["products_fraction"] = paired_ratio(gflops["products"], gflops[peak])
    out["train_vs_products"] = paired_ratio(gflops["jax_train"], gflops["products"])
    out["load_avg_1m_after"] = load_avg()
    return out


# -- compile: new processes, and a slider change in a warm one ------------------------------------
_COMPILE_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from playground.core.config import RunConfig
from playground.live import run as R
from playground.live.compile_cache import enable_compile_cache, precompile
from playground.live.live_run import LiveRun
enable_compile_cache(sys.argv[1])
cfg = RunConfig(**json.loads(sys.argv[2]))
out = {}
run = R.new_run(cfg)
from playground.core.train import Hyper, compile_chunk
t = time.perf_counter()
compile_chunk(run.state, run.arrays[0], run.arrays[1], Hyper(cfg.learning_rate),
              **R.chunk_shape(run, 16)._asdict())
out["compile_s"] = time.perf_counter() - t
R.train(run, steps=16)
out["start_to_trained_s"] = time.perf_counter() - t0
if sys.argv[3] == "slider":
    # A warm server: a learner's run has trained with every chunk length.
    live = LiveRun(cfg)
    for n in R.CHUNK_LADDER:
        live.train_steps(n)
    def change(hidden):
        t = time.perf_counter()
        live.apply(cfg.replace(hidden=hidden))
        live.train_steps(R.CHUNK_LADDER[1])  # the trainer's first chunk
        trained = time.perf_counter() - t
        live.snapshot(int(sys.argv[4]))
        return trained, time.perf_counter() - t
    ahead = json.loads(sys.argv[5])
    t = time.perf_counter()
    steps = json.loads(sys.argv[7])
    precompile([cfg.replace(hidden=tuple(ahead))], grids=(int(sys.argv[4]),), steps=steps)
    out["precompile_one_shape_s"] = time.perf_counter() - t
    out["slider_change_s"], out["slider_change_to_picture_s"] = change(tuple(ahead))
    cold = json.loads(sys.argv[6])
    out["slider_change_not_ahead_s"], _ = change(tuple(cold))
print(json.dumps(out))
"""


def _child(cache_dir: str, cfg: dict, *args: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env["JAX_PLATFORMS"] = jax.default_backend()
    env["PLAYGROUND_PRECOMPILE"] = "0"
    done = subprocess.run(
        [sys.executable, "-c", _COMPILE_CHILD, cache_dir, json.dumps(cfg), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"compile child failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@benchmark("compile")
def bench_compile(*, repeats: int = 3, mode: str = "full") -> dict[str, float | None]:
    """Compiling the app's default run (xor, 8-8, batch 10, Adam): its first 16-step chunk
    in a new process with an empty persistent cache ("cold") and again with it filled
    ("warm"), and from process start to a trained chunk; then, in a warm process, a
    slider change to a new width: ``LiveRun.apply`` to the first trained chunk, for a
    width compiled ahead by ``precompile`` and for one that was not."""
    cfg = {"hidden": [8, 8]}
    grid = str(FRAME_GRID_N)
    ahead, not_ahead = "[6, 6]", "[12, 12]"
    # The whole ladder, as the server compiles it; a shorter run only the first chunk's.
    steps = "null" if mode == "full" else "[16]"
    n = 1 if mode != "full" else repeats
    colds, warms = [], []
    for _ in range(n):
        # A new, empty persistent cache each time: the cold process fills it with the
        # default run's shapes, the warm one reads them (and nothing of the new widths).
        with tempfile.TemporaryDirectory(prefix="playground-bench-cache-") as cache:
            colds.append(_child(cache, cfg, "-"))
            warms.append(_child(cache, cfg, "slider", grid, ahead, not_ahead, steps))
    out: dict[str, float | None] = {}
    for key in colds[0]:
        out[f"{key}_cold"] = statistics.median(r[key] for r in colds)
    for key in warms[0]:
        out[f"{key}_warm" if key in colds[0] else key] = statistics.median(r[key] for r in warms)
    out["compile_cold_vs_warm_x"] = ratio(out["compile_s_cold"], out["compile_s_warm"])
    out["load_avg_1m"] = load_avg()
    return out


# -- frame: one live picture, and the trainer taking them --------------------------------------
def frame_arrays(live, first_bend: int, n_layers: int) -> dict:
    """What the server sends for one picture of the boundary: the snapshot's output grid
    (bytes) and every layer's bends (16-bit), packed as the frames stream packs them."""
    from playground.server.frames import BoundaryView, PictureEncoder, frame

    encode = PictureEncoder(live.data, BoundaryView(first_bend, n_layers, discretize=False))
    snap = live.snapshot(FRAME_GRID_N, bends=live.bends())
    return frame(snap, encode.arrays(snap))


def _live_trainer(live, seconds: float, first_bend: int, n_layers: int) -> dict[str, float]:
    """The server's scheduler training the run and taking its pictures, packed for the
    stream as the app does (epochs/s and pictures/s on the server alone)."""
    from playground.live.scheduler import Scheduler, SessionTrainer
    from playground.server.frames import BoundaryView, PictureEncoder

    encode = PictureEncoder(live.data, BoundaryView(first_bend, n_layers, discretize=False))
    trainer = SessionTrainer(Scheduler(), "bench")
    start_step, seq = live.step, max((s.seq for s in live.snapshots.since(0)), default=0)
    pictures = 0
    start = time.perf_counter()
    trainer.start(live, snapshot_grid=FRAME_GRID_N, encode=encode)
    while time.perf_counter() - start < seconds:
        time.sleep(0.25)  # as often as the stream looks: the ring holds 64 pictures
        trainer.scheduler.touch(trainer.key)  # as the page's stream keeps it alive
        for snap in live.snapshots.since(seq):
            seq, pictures = snap.seq, pictures + (snap.arrays is not None)
    trainer.stop()
    elapsed = time.perf_counter() - start
    epochs = (live.step - start_step) / live.steps_per_epoch
    return {"live_epochs_per_s": epochs / elapsed, "live_pictures_per_s": pictures / elapsed}


@benchmark("frame")
def bench_frame(*, repeats: int = 5, mode: str = "full") -> dict[str, float | None]:
    """One live picture of the default run (xor, 8-8): server milliseconds to take it
    (output grid + exact bends + wire encoding) and its bytes as JSON (and deflated, as
    websocket compression sends it); then the background trainer taking pictures while
    it trains, read as the page reads it (epochs/s and pictures/s on the server alone)."""
    from playground.analysis.geometry import bends_by_layer
    from playground.core.config import RunConfig
    from playground.figures.boundary import decision_boundary_figure, first_bend_trace
    from playground.live.live_run import LiveRun

    live = LiveRun(RunConfig(speed="fast"))  # the trainer flat out, as measured
    n_layers = len(live.spec.hidden)
    live.train_steps(live.steps_per_epoch * 20)
    snap = live.snapshot(FRAME_GRID_N)
    layers = bends_by_layer(snap.bends, n_layers)
    fig, _ = decision_boundary_figure(snap.xs, snap.ys, snap.grid, live.data, bends_by_layer=layers)
    first_bend = first_bend_trace(len(fig.data), n_layers)
    n = 5 if mode == "smoke" else 10 * repeats
    times, sizes, deflated = [], [], []
    for _ in range(n + 1):
        live.train_steps(live.steps_per_epoch)  # new weights: the bends are computed anew
        start = time.perf_counter()
        frame = frame_arrays(live, first_bend, n_layers)
        wire = json.dumps(frame, separators=(",", ":"))
        times.append(time.perf_counter() - start)
        sizes.append(len(wire))
        deflated.append(len(zlib.compress(wire.encode(), 6)))
    out: dict[str, float | None] = {
        "frame_ms": 1e3 * statistics.median(times[1:]),
        "frame_ms_p90": 1e3 * float(np.percentile(times[1:], 90)),
        "frame_bytes": statistics.median(sizes),
        "frame_deflated_bytes": statistics.median(deflated),
        "grid_n": FRAME_GRID_N,
    }
    seconds = {"full": 4.0, "quick": 2.0, "smoke": 0.6}[mode]
    out |= _live_trainer(live, seconds, first_bend, n_layers)
    out["load_avg_1m"] = load_avg()
    return out


# -- sweep: many networks at once vs one by one ------------------------------------------------
SWEEP_FULL = dict(widths=(1, 2, 3, 4, 6, 8, 16, 32), depths=(1, 2), seeds=(0, 1, 2), steps=1000)
SWEEP_QUICK = dict(widths=(1, 2, 4, 8), depths=(1,), seeds=(0, 1), steps=100)


def _one_by_one(widths, depths, seeds, steps, *, lr=0.01, n_points=500):
    """The sweep's networks trained one at a time by the engine: a callable, no compile."""
    from playground.core.datasets import make_dataset
    from playground.core.train import Hyper, ModelSpec, evaluate, init_state, train_chunk

    data = make_dataset("product", n_points=n_points, seed=0)
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    xt, yt = jnp.asarray(data.x_test), jnp.asarray(data.y_test)

    def run():
        scores = []
        for depth in depths:
            for width in widths:
                spec = ModelSpec(("x1", "x2"), (width,) * depth, "relu", "regression", 1)
                for seed in seeds:
                    state = init_state(spec, "adam", key=jax.random.key(seed))
                    state, _ = train_chunk(
                        state, x, y, Hyper(lr), spec=spec, optimizer="adam",
                        batch_size=0, n_steps=steps,
                    )  # fmt: skip
                    scores.append(evaluate(state.params, x, y, xt, yt, spec=spec)["test_loss"])
        return scores

    return run


@benchmark("sweep")
def bench_sweep(*, repeats: int = 3, mode: str = "full") -> dict[str, float | None]:
    """Networks trained per second: the vmapped sweep (each way of padding widths) vs the
    engine training the same networks one by one, the same steps each, full batch, Adam.

    ``*_cold_s`` is one first call after ``jax.clear_caches()``, compiles included (the
    cost a fresh server pays without the persistent cache); the rest are medians of warm
    calls. The default grid of the page (depths 1-4, 2000 steps) takes ~4x longer.
    """
    from playground.analysis.sweep import PAD_MODES, sweep

    grid = SWEEP_FULL if mode == "full" else SWEEP_QUICK
    n_nets = len(grid["widths"]) * len(grid["depths"]) * len(grid["seeds"])
    out: dict[str, float | None] = {"networks": n_nets, "steps": grid["steps"]}
    variants = {
        f"vmap_pad_{pad}": (lambda pad=pad: sweep(**grid, pad=pad, regions=False))
        for pad in PAD_MODES
    }
    variants["one_by_one"] = _one_by_one(**grid)
    for name, fn in variants.items():
        jax.clear_caches()  # so each variant's first call compiles all it needs
        cold = repeat_times(fn, repeats=1)[0]
        warm = statistics.median(repeat_times(fn, repeats=repeats))
        out[f"{name}_cold_s"] = cold
        out[f"{name}_s"] = warm
        out[f"{name}_nets_per_s"] = n_nets / warm
    for pad in PAD_MODES:
        out[f"vmap_pad_{pad}_vs_one_by_one_x"] = ratio(
            out["one_by_one_s"], out[f"vmap_pad_{pad}_s"]
        )
    return out


@benchmark("partition")
def bench_partition_sizes(*, repeats: int = 3, mode: str = "full") -> dict[str, float | None]:
    """Exact regions + bends of random nets in [-6, 6]²: fresh (zero biases) and trained-like
    (biases N(0, 1)), for the 2x8 default and the 2x32 the issue names (goal < 100 ms)."""
    from playground.analysis.geometry import bench_partition

    out: dict[str, float | None] = {}
    widths = (8, 32) if mode == "full" else (8,)
    for width in widths:
        for name, bias in (("fresh", 0.0), ("trained_like", 1.0)):
            r = bench_partition(width, 2, repeats=max(repeats, 5), bias_std=bias)
            for k, v in r.items():
                if isinstance(v, int | float):
                    out[f"2x{width}_{name}_{k}"] = v
    return out


# -- command line -----------------------------------------------------------------------------
# The one-line summary: key -> (benchmark, its key).
HEADLINE = {
    "train_speedup_vs_torch": ("train", "small_jax_vs_torch_x"),
    "train_speedup_vs_numpy": ("train", "small_jax_vs_numpy_x"),
    "small_steps_per_s": ("train", "small_jax_steps_per_s"),
    "tfp_epochs_per_s": ("train", "tfp_jax_epochs_per_s"),
    "tfp_speedup_vs_torch": ("train", "tfp_jax_vs_torch_x"),
    "tfp_speedup_vs_numpy": ("train", "tfp_jax_vs_numpy_x"),
    "roofline_fraction": ("roofline", "roofline_fraction"),
    "wide_gflops": ("roofline", "jax_train_gflops"),
    "matmul_peak_gflops": ("roofline", "matmul_peak_gflops"),
    "compile_cold_s": ("compile", "compile_s_cold"),
    "compile_warm_s": ("compile", "compile_s_warm"),
    "start_to_trained_cold_s": ("compile", "start_to_trained_s_cold"),
    "start_to_trained_warm_s": ("compile", "start_to_trained_s_warm"),
    "slider_change_s": ("compile", "slider_change_s"),
    "slider_change_not_ahead_s": ("compile", "slider_change_not_ahead_s"),
    "frame_ms": ("frame", "frame_ms"),
    "frame_bytes": ("frame", "frame_bytes"),
    "live_epochs_per_s": ("frame", "live_epochs_per_s"),
    "live_pictures_per_s": ("frame", "live_pictures_per_s"),
}


def headline(results: dict[str, dict]) -> dict[str, float | None]:
    """The summary figures of the benchmarks that ran (None for those that did not)."""
    return {key: results.get(name, {}).get(field) for key, (name, field) in HEADLINE.items()}


def _clean(value):
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def run(names, *, repeats: int = 3, mode: str = "full") -> dict[str, dict]:
    return {name: BENCHMARKS[name](repeats=repeats, mode=mode) for name in names}


def _show(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, int | str):
        return str(value)
    return f"{value:.4g}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks (default: {' '.join(DEFAULT)}; 'all': every one)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line last")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per median")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller problems, ~1-2 minutes")
    size.add_argument("--smoke", action="store_true", help="tiny problems: does it run?")
    args = parser.parse_args(argv)
    names = list(BENCHMARKS) if args.names == ["all"] else args.names or list(DEFAULT)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    repeats = {"full": 5, "quick": 3, "smoke": 1}[mode] if args.repeats is None else args.repeats
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or repeats < 1:
        why = f"unknown benchmark {', '.join(unknown)}" if unknown else "--repeats must be >= 1"
        print(f"{why}; benchmarks: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    if args.json:
        results = run(names, repeats=repeats, mode=mode)
        summary = {**machine(), **headline(results), "mode": mode, "benchmarks": results}
        print(json.dumps(_clean(summary)))
        return 0
    print(" ".join(f"{k}={v}" for k, v in machine().items()), f"mode={mode}")
    for name in names:
        print(f"\n[{name}] medians of {repeats} rounds", flush=True)
        results = BENCHMARKS[name](repeats=repeats, mode=mode)
        width = max(map(len, results), default=0)
        for key, value in results.items():
            print(f"  {key:<{width}}  {_show(value)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

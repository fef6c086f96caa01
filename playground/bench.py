"""Benchmarks, side by side: ``python -m playground.bench [names...] [--json]``.

Every benchmark is a function registered in ``BENCHMARKS`` with ``@benchmark("name")``.
It takes ``repeats`` and ``quick`` (a smaller problem, for a smoke run) as keywords and
returns a flat dict of numbers: medians over ``repeats`` timed runs, and ratios between
variants measured in the same run (machines and their load differ, so only ratios taken
together compare). A benchmark warms up (compiles) before it times, unless it measures
compiling; each key says its unit (``_s``, ``_per_s``, ``_x`` for a ratio).

To add one: write ``@benchmark("partition") def bench_partition(*, repeats, quick): ...``
in this module, and ``make bench`` runs it with the rest.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp

Benchmark = Callable[..., dict[str, float | None]]
BENCHMARKS: dict[str, Benchmark] = {}


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


def machine() -> dict[str, str | int]:
    return {
        "device": str(jax.devices()[0]),
        "backend": jax.default_backend(),
        "jax": jax.__version__,
        "cpus": os.cpu_count() or 0,
    }


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
def bench_sweep(*, repeats: int = 3, quick: bool = False) -> dict[str, float | None]:
    """Networks trained per second: the vmapped sweep (each way of padding widths) vs the
    engine training the same networks one by one, the same steps each, full batch, Adam.

    ``*_cold_s`` is one first call after ``jax.clear_caches()``, compiles included (the
    cost a fresh server pays without the persistent cache); the rest are medians of warm
    calls. The default grid of the page (depths 1-4, 2000 steps) takes ~4x longer.
    """
    from playground.analysis.sweep import PAD_MODES, sweep

    grid = SWEEP_QUICK if quick else SWEEP_FULL
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


# -- train_steps: lax.scan chunks vs a Python loop of single steps ------------------------------
TRAIN_NETS = {"small": (8, 8), "wide": (256, 256, 256, 256)}
FULL_BATCH = 1000


class _Trainer:
    """One full-batch Adam network on xor (``n_train`` points), stepped with the engine."""

    def __init__(self, hidden, *, n_train: int = FULL_BATCH):
        from playground.core.datasets import make_dataset
        from playground.core.train import Hyper, ModelSpec, init_state

        data = make_dataset("xor", n_points=2 * n_train, train_ratio=0.5, seed=0)
        self.x, self.y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
        self.spec = ModelSpec(("x1", "x2"), tuple(hidden), "relu", "binary", 2)
        self.state = init_state(self.spec, "adam", key=jax.random.key(0))
        self.hyper = Hyper(0.01)

    def chunk(self, n_steps: int):
        """One engine call of n_steps (a lax.scan; n_steps=1 is a single jitted step)."""
        from playground.core.train import train_chunk

        self.state, _ = train_chunk(
            self.state, self.x, self.y, self.hyper, spec=self.spec, optimizer="adam",
            batch_size=0, n_steps=n_steps,
        )  # fmt: skip
        return self.state.params


def _steps_per_s(trainer: _Trainer, *, chunk: int, steps: int, repeats: int) -> float:
    """Median steps/s of ``steps`` steps taken as engine calls of ``chunk`` steps each."""

    def go():
        for _ in range(steps // chunk):
            trainer.chunk(chunk)
        return trainer.state.params

    return steps / median_time(go, repeats=repeats)


def _live_steps_per_s(hidden, *, steps: int, repeats: int) -> float:
    """Median steps/s of ``LiveRun.train_steps`` (the app's path: chunks from its ladder,
    then the metrics), on the same network and data as ``_Trainer``."""
    from playground.core.config import RunConfig
    from playground.live.live_run import LiveRun

    cfg = RunConfig(
        problem="xor", n_points=2 * FULL_BATCH, train_ratio=0.5, seed=0, hidden=tuple(hidden),
        batch_size=0, optimizer="adam", learning_rate=0.01,
    )  # fmt: skip
    live = LiveRun(cfg)
    live.train_steps(steps)  # compiles every chunk size it uses
    times = repeat_times(lambda: live.train_steps(steps), repeats=repeats)
    return steps / statistics.median(times)


_COMPILE_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from playground.live.compile_cache import enable_compile_cache
if sys.argv[1]:
    enable_compile_cache(sys.argv[1])
from playground.bench import _Trainer
from playground.core.train import train_chunk
t = _Trainer(json.loads(sys.argv[2]))
ready = time.perf_counter()
train_chunk.lower(t.state, t.x, t.y, t.hyper, spec=t.spec, optimizer="adam", batch_size=0,
                  n_steps=256).compile()
done = time.perf_counter()
print(json.dumps({"compile_s": done - ready, "to_compiled_s": done - t0}))
"""


def _fresh_process_compile(hidden, cache_dir: str, *, repeats: int) -> dict[str, float]:
    """Median time to compile (trace, lower, XLA or cache) a 256-step chunk in new
    processes, and from process start to compiled ('' = no cache)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env["JAX_PLATFORMS"] = jax.default_backend()
    runs = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", _COMPILE_CHILD, cache_dir, json.dumps(list(hidden))],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


@benchmark("train_steps")
def bench_train_steps(*, repeats: int = 3, quick: bool = False) -> dict[str, float | None]:
    """Steps/s of full-batch (1000 points) Adam: 256-step ``lax.scan`` chunks, LiveRun's
    ladder, and a Python loop of jitted single steps (``n_steps=1`` chunks); then the
    first compile of a 256-step chunk in a fresh process, without and with the persistent
    compilation cache (``compile_cache.enable_compile_cache``), each a median of fresh processes.
    """
    out: dict[str, float | None] = {}
    nets = {"small": TRAIN_NETS["small"]} if quick else TRAIN_NETS
    for name, hidden in nets.items():
        trainer = _Trainer(hidden)
        steps = 2048 if name == "small" else 256
        steps = steps // 8 if quick else steps
        scan = _steps_per_s(trainer, chunk=min(256, steps), steps=steps, repeats=repeats)
        loop = _steps_per_s(trainer, chunk=1, steps=steps, repeats=repeats)
        out[f"{name}_scan256_steps_per_s"] = scan
        out[f"{name}_live_run_steps_per_s"] = _live_steps_per_s(
            hidden, steps=steps, repeats=repeats
        )
        out[f"{name}_loop1_steps_per_s"] = loop
        out[f"{name}_scan_vs_loop_x"] = ratio(scan, loop)
        with tempfile.TemporaryDirectory(prefix="playground-bench-cache-") as cache:
            cold = _fresh_process_compile(hidden, "", repeats=repeats)
            _fresh_process_compile(hidden, cache, repeats=1)  # fills the cache
            cached = _fresh_process_compile(hidden, cache, repeats=repeats)
        out[f"{name}_compile_no_cache_s"] = cold["compile_s"]
        out[f"{name}_compile_cached_s"] = cached["compile_s"]
        out[f"{name}_compile_no_cache_vs_cached_x"] = ratio(cold["compile_s"], cached["compile_s"])
        out[f"{name}_process_start_to_compiled_no_cache_s"] = cold["to_compiled_s"]
        out[f"{name}_process_start_to_compiled_cached_s"] = cached["to_compiled_s"]
    return out


# -- command line -----------------------------------------------------------------------------
@benchmark("partition")
def bench_partition_sizes(*, repeats: int = 3, quick: bool = False) -> dict[str, float | None]:
    """Exact regions + bends of random nets in [-6, 6]²: fresh (zero biases) and trained-like
    (biases N(0, 1)), for the 2x8 default and the 2x32 the issue names (goal < 100 ms)."""
    from playground.analysis.geometry import bench_partition

    out: dict[str, float | None] = {}
    widths = (8,) if quick else (8, 32)
    for width in widths:
        for name, bias in (("fresh", 0.0), ("trained_like", 1.0)):
            r = bench_partition(width, 2, repeats=max(repeats, 5), bias_std=bias)
            for k, v in r.items():
                if isinstance(v, int | float):
                    out[f"2x{width}_{name}_{k}"] = v
    return out


def run(names, *, repeats: int = 3, quick: bool = False) -> dict[str, dict]:
    return {name: BENCHMARKS[name](repeats=repeats, quick=quick) for name in names}


def _show(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks (default: {' '.join(BENCHMARKS)})")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per median")
    parser.add_argument("--quick", action="store_true", help="small problems, a smoke run")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or args.repeats < 1:
        why = f"unknown benchmark {', '.join(unknown)}" if unknown else "--repeats must be >= 1"
        print(f"{why}; benchmarks: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    if args.json:
        results = run(names, repeats=args.repeats, quick=args.quick)
        print(json.dumps({**machine(), "benchmarks": results}))
        return 0
    print(" ".join(f"{k}={v}" for k, v in machine().items()))
    for name in names:
        print(f"\n[{name}] median of {args.repeats}", flush=True)
        results = BENCHMARKS[name](repeats=args.repeats, quick=args.quick)
        width = max(map(len, results), default=0)
        for key, value in results.items():
            print(f"  {key:<{width}}  {_show(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``sweep`` (many networks at once, vmapped, vs one by one), ``cohort`` (a class's runs
of one shape in one call, as the server trains them, vs one call each) and ``partition``
(exact regions and bends of random networks)."""

import statistics
import time

import jax
import jax.numpy as jnp

from playground.bench.timing import benchmark, ratio, repeat_times

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


@benchmark("cohort")
def bench_cohort(*, repeats: int = 5, mode: str = "full") -> dict[str, float | None]:
    """16 learners' runs of one shape (xor, 8-8, batch 10, each its own seed and learning
    rate) trained 16 steps each (a paced run's call) and 256 each (``fast_``: a run at
    full speed): one call each (``live.engine.run.train``) vs one cohort call
    (``live.engine.cohort.train_cohort``), in turn. The machine's CPU time (every
    thread) and wall time per round, and their ratios."""
    from playground.core.config import RunConfig
    from playground.live.engine import cohort
    from playground.live.engine import run as engine

    k = 4 if mode == "smoke" else cohort.COHORT_MAX
    runs = [
        engine.new_run(RunConfig(seed=i, learning_rate=0.01 * (1 + i % 3), hidden=(8, 8)))
        for i in range(k)
    ]
    programs = cohort.CohortPrograms(background=False)
    out: dict[str, float | None] = {"cohort_runs": k}
    for prefix, n in (("", cohort.COHORT_STEPS), ("fast_", cohort.FAST_COHORT_STEPS)):
        contenders = {
            "alone": lambda n=n: [engine.train(r, steps=n, measure=False) for r in runs],
            "cohort": lambda n=n: cohort.train_cohort(runs, programs, n_steps=n),
        }
        for fn in contenders.values():
            fn()  # compiles
        cpu: dict[str, list[float]] = {name: [] for name in contenders}
        wall: dict[str, list[float]] = {name: [] for name in contenders}
        # The same steps timed at either length: 100 rounds of 16, 7 of 256 (5 repeats).
        rounds = 3 if mode == "smoke" else max(5, 20 * repeats * cohort.COHORT_STEPS // n)
        for _ in range(rounds):
            for name, fn in contenders.items():
                c, w = time.process_time(), time.perf_counter()
                fn()
                cpu[name].append(time.process_time() - c)
                wall[name].append(time.perf_counter() - w)
        for name in contenders:
            out[f"{prefix}{name}_cpu_ms"] = 1e3 * statistics.median(cpu[name])
            out[f"{prefix}{name}_wall_ms"] = 1e3 * statistics.median(wall[name])
        for kind in ("cpu", "wall"):
            out[f"{prefix}cohort_{kind}_saving_x"] = ratio(
                out[f"{prefix}alone_{kind}_ms"], out[f"{prefix}cohort_{kind}_ms"]
            )
    return out

"""What every benchmark shares: the registry (``@benchmark``), timing in rounds with the
contenders side by side, ratios from the same rounds, and the machine they ran on."""

import os
import statistics
import time
from collections.abc import Callable

import jax

Benchmark = Callable[..., dict[str, float | None]]
BENCHMARKS: dict[str, Benchmark] = {}
MODES = ("full", "quick", "smoke")
# Seconds each contender runs per round, by mode: long enough to dwarf a timer's noise.
BLOCK_S = {"full": 0.5, "quick": 0.25, "smoke": 0.03}


def benchmark(name: str) -> Callable[[Benchmark], Benchmark]:
    """Register a benchmark function under ``name``."""

    def register(fn: Benchmark) -> Benchmark:
        BENCHMARKS[name] = fn
        return fn

    return register


def repeat_times(fn: Callable[[], object], *, repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` calls of fn, waiting for its JAX results each time."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return times


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

"""The command line: which benchmarks run, the one-line JSON summary (``HEADLINE``) and
the table."""

import argparse
import json
import math
import sys

import playground.bench
from playground.bench import compiling, frame, roofline, sweep, train  # noqa: F401 (they register)
from playground.bench.timing import BENCHMARKS, machine

DEFAULT = ("train", "roofline", "compile", "frame")


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
    parser = argparse.ArgumentParser(
        prog="python -m playground.bench", description=playground.bench.__doc__
    )
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

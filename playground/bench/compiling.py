"""``compile``: the first compile in a new process, without and with the persistent cache,
and a slider change to a new width in a warm process, compiled ahead or not."""

import json
import os
import statistics
import subprocess
import sys
import tempfile

import jax

from playground.bench.frame import FRAME_GRID_N
from playground.bench.timing import benchmark, load_avg, ratio
from playground.live.engine.limits import PRECOMPILE_ENV

_COMPILE_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from playground.core.config import RunConfig
from playground.live.engine import run as engine
from playground.live.engine.compile_cache import enable_compile_cache
from playground.live.server.precompile import precompile
from playground.live.session.live_run import LiveRun
enable_compile_cache(sys.argv[1])
cfg = RunConfig(**json.loads(sys.argv[2]))
out = {}
run = engine.new_run(cfg)
from playground.core.train import Hyper, compile_chunk
t = time.perf_counter()
compile_chunk(run.state, run.arrays[0], run.arrays[1], Hyper(cfg.learning_rate),
              **engine.chunk_shape(run, 16)._asdict())
out["compile_s"] = time.perf_counter() - t
engine.train(run, steps=16)
out["start_to_trained_s"] = time.perf_counter() - t0
if sys.argv[3] == "slider":
    # A warm server: a learner's run has trained with every chunk length (the shorter
    # runs: the lengths they compile ahead).
    steps = json.loads(sys.argv[7])
    live = LiveRun(cfg)
    for n in steps or engine.CHUNK_LADDER:
        live.train_steps(n)
    def change(hidden):
        t = time.perf_counter()
        live.apply(cfg.replace(hidden=hidden))
        live.train_steps(engine.CHUNK_LADDER[1])  # the trainer's first chunk
        trained = time.perf_counter() - t
        live.snapshot(int(sys.argv[4]))
        return trained, time.perf_counter() - t
    ahead = json.loads(sys.argv[5])
    t = time.perf_counter()
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
    env[PRECOMPILE_ENV] = "0"
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

"""The benchmark: its harness (registry, CLI, one JSON line), its yardsticks (the NumPy
and PyTorch trainers must take the project's very steps), and a smoke run of the real
thing in a new process. No test looks at how fast anything is."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from playground.bench.cli import DEFAULT, HEADLINE, main
from playground.bench.frame import FRAME_GRID_N, UNIT_GRID_N
from playground.bench.timing import BENCHMARKS, paired_ratio, ratio, side_by_side
from playground.bench.train import mlp_matmul_flops
from playground.core.datasets import make_dataset
from playground.core.model import params_to_host
from playground.core.train import Hyper, ModelSpec, init_state, train_chunk
from playground.reference import NumpyMLP, TorchMLP, torch_available

ROOT = Path(__file__).resolve().parents[2]


# -- harness ----------------------------------------------------------------------------------
def test_registry_has_the_issue_table_and_the_older_benchmarks():
    assert set(DEFAULT) | {"sweep", "partition"} <= set(BENCHMARKS)
    for name, field in HEADLINE.values():
        assert name in BENCHMARKS, field


def test_cli_runs_named_benchmarks_and_prints_one_json_line(monkeypatch, capsys):
    calls = []

    def fake(*, repeats, mode):
        calls.append((repeats, mode))
        return {"a_s": 2.0, "b_s": 1.0, "a_over_b": ratio(2.0, 1.0), "bad": math.nan}

    monkeypatch.setitem(BENCHMARKS, "fake", fake)
    assert main(["fake", "--json", "--repeats", "2", "--quick"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    out = json.loads(lines[-1])
    assert out["benchmarks"]["fake"] == {"a_s": 2.0, "b_s": 1.0, "a_over_b": 2.0, "bad": None}
    assert calls == [(2, "quick")] and "device" in out and out["mode"] == "quick"
    assert set(HEADLINE) <= set(out)  # headline keys are there, None when not run
    assert main(["fake", "--smoke"]) == 0
    assert "a_over_b" in capsys.readouterr().out and calls[-1] == (1, "smoke")


def test_cli_refuses_unknown_names(capsys):
    assert main(["nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["sweep", "--repeats", "0"]) == 2


def test_side_by_side_times_every_contender_each_round():
    done = []

    def contender(name):
        def run(k):
            done.append(name)
            return 10 * k

        return run

    rates = side_by_side({"a": contender("a"), "b": contender("b")}, rounds=3, block_s=0)
    assert set(rates) == {"a", "b"} and all(len(r) == 3 and min(r) > 0 for r in rates.values())
    assert done[-6:] == ["a", "b"] * 3  # in turn, round after round
    assert paired_ratio([2.0, 4.0, 6.0], [1.0, 1.0, 2.0]) == 3.0
    assert ratio(1.0, 0.0) is None


def test_the_matmul_count_of_a_step():
    # 2-256-256-256-256-1, batch 1000: ~1.18 GFLOP of matrix products a step.
    flops = mlp_matmul_flops([2, 256, 256, 256, 256, 1], 1000)
    assert flops == 2 * 1000 * (3 * (512 + 3 * 65536 + 256) - 512)


def test_frame_grid_matches_the_page():
    from playground.ui import live_view

    assert FRAME_GRID_N == live_view.GRID_N
    assert UNIT_GRID_N == live_view.THUMB_N


# -- the yardsticks take the project's steps -----------------------------------------------------
def _start(hidden=(8, 8), n_points=200):
    data = make_dataset("xor", n_points=n_points, seed=0)
    spec = ModelSpec(("x1", "x2"), hidden, "relu", "binary", 2)
    state = init_state(spec, "adam", key=jax.random.key(0))
    return data, spec, state


@pytest.mark.parametrize(
    "cls",
    [
        NumpyMLP,
        pytest.param(TorchMLP, marks=pytest.mark.skipif(not torch_available(), reason="no torch")),
    ],
)
@pytest.mark.parametrize("hidden, n_points", [((8, 8), 200), ((64, 64), 2000)])
def test_reference_trainers_take_the_projects_full_batch_steps(cls, hidden, n_points):
    # 8-8 on 100 points trains as a small net, 64-64 on 1000 as a big one (train_chunk).
    data, spec, state = _start(hidden, n_points)
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    new, log = train_chunk(
        state, x, y, Hyper(0.03), spec=spec, optimizer="adam", batch_size=0, n_steps=30
    )
    ref = cls(params_to_host(state.params), data.x_train, data.y_train, learning_rate=0.03)
    first_loss = ref.step() if cls is NumpyMLP else None
    ref.train(29 if cls is NumpyMLP else 30)
    for (wa, ba), (wb, bb) in zip(ref.params_numpy(), params_to_host(new.params), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ba, bb, rtol=1e-4, atol=1e-5)
    if first_loss is not None:
        assert first_loss == pytest.approx(float(log.loss[0]), rel=1e-5)


def test_numpy_reference_minibatches_cover_every_point_once_per_epoch():
    data, _, state = _start()
    ref = NumpyMLP(
        params_to_host(state.params), data.x_train, data.y_train, learning_rate=0.0, batch_size=10
    )
    seen = np.concatenate([ref.batches.next() for _ in range(ref.batches.per_epoch)])
    assert sorted(seen) == list(range(len(data.x_train)))


# -- a real run, in a new process -----------------------------------------------------------------
@pytest.mark.slow
def test_bench_smoke_run_prints_the_contract_json_last():
    env = {**os.environ, "PLAYGROUND_PRECOMPILE": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "playground.bench", "--smoke", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    contract = (
        "train_speedup_vs_torch",
        "train_speedup_vs_numpy",
        "roofline_fraction",
        "compile_cold_s",
        "compile_warm_s",
        "frame_ms",
        "frame_bytes",
        "device",
    )
    for key in contract:
        assert key in out, key
    assert isinstance(out["device"], str) and out["device"]
    for key in set(contract) - {"device"} | {"slider_change_s", "live_epochs_per_s"}:
        value = out[key]
        if key == "train_speedup_vs_torch" and not torch_available():
            assert value is None
            continue
        assert isinstance(value, int | float) and math.isfinite(value) and value > 0, key


def test_network_bench_times_the_figure_the_stream_sends():
    import plotly.io.json as pio_json

    from playground.core.config import RunConfig
    from playground.live.server.frames import network_picture
    from playground.live.session.live_run import LiveRun

    out = BENCHMARKS["network"](repeats=1, mode="smoke")
    assert out["network_8x8_ms"] > 0 and out["network_16x8_ms"] > 0
    # Its bytes are the figure's JSON: an untrained 8-8 run's, about as large.
    fig, _ = network_picture(LiveRun(RunConfig(hidden=(8, 8))), gradients=False)
    assert 0.8 < out["network_8x8_bytes"] / len(pio_json.to_json_plotly(fig)) < 1.25
    assert out["network_16x8_bytes"] > 5 * out["network_8x8_bytes"]


def test_cohort_bench_times_a_cohort_against_one_call_each():
    out = BENCHMARKS["cohort"](repeats=1, mode="smoke")
    assert out["cohort_runs"] == 4
    assert out["alone_cpu_ms"] > 0 and out["cohort_cpu_ms"] > 0
    for prefix in ("", "fast_"):  # 16 steps each, and 256
        alone, together = out[f"{prefix}alone_cpu_ms"], out[f"{prefix}cohort_cpu_ms"]
        assert alone > 0 and together > 0
        assert out[f"{prefix}cohort_cpu_saving_x"] == alone / together
        wall = out[f"{prefix}alone_wall_ms"] / out[f"{prefix}cohort_wall_ms"]
        assert out[f"{prefix}cohort_wall_saving_x"] == wall

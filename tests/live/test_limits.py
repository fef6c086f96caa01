"""The host's limits (``host.toml``) hold wherever a run is made: page controls, share and
teacher links, uploads, model files and the command line. Past a limit the learner gets a
plain sentence naming it and the run uses the largest allowed value."""

import dataclasses
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from playground.core.config import RunConfig
from playground.core.datasets import split
from playground.core.errors import PlaygroundError
from playground.core.modelfile import SavedModel
from playground.live.engine.limits import HostLimits, capped, capped_dataset, step_gflop
from playground.live.session.live_run import LiveRun
from playground.userdata.points_csv import points_to_csv

ROOT = Path(__file__).resolve().parents[2]
SMALL = HostLimits(max_width=16, max_depth=2, max_points=1000, max_step_gflop=2.0)
HOST_TOML = "[limits]\nmax_width = 16\nmax_depth = 2\nmax_points = 1000\n"


def test_capped_keeps_what_fits_and_says_nothing():
    cfg = RunConfig(hidden=(8, 8), n_points=500)
    assert capped(cfg, SMALL) == (cfg, [])


@pytest.mark.parametrize(
    ("change", "want", "words"),
    [
        ({"hidden": (64, 8)}, {"hidden": (16, 8)}, "at most 16 units in a layer"),
        ({"hidden": (8,) * 5}, {"hidden": (8, 8)}, "at most 2 hidden layers"),
        ({"n_points": 5000}, {"n_points": 1000}, "at most 1,000 points"),
    ],
)
def test_capped_uses_the_largest_allowed_value(change, want, words):
    cfg, notes = capped(RunConfig(**change), SMALL)
    assert {k: getattr(cfg, k) for k in want} == want
    assert len(notes) == 1 and words in notes[0] and "host" in notes[0]


def test_a_step_too_costly_gets_the_largest_batch_that_fits():
    limits = HostLimits(max_step_gflop=0.01)
    cfg, notes = capped(RunConfig(hidden=(64, 64, 64), batch_size=1000, n_points=5000), limits)
    sizes = [2, 64, 64, 64, 1]
    assert step_gflop(sizes, cfg.batch_size) <= 0.01 < step_gflop(sizes, cfg.batch_size + 1)
    assert "GFLOP" in notes[0] and f"the batch is {cfg.batch_size:,} points" in notes[0]
    # Even one point too costly: the layers narrow until one point fits.
    cfg, notes = capped(RunConfig(hidden=(1024,) * 8), HostLimits(max_step_gflop=1e-4))
    assert step_gflop([2, *cfg.hidden, 1], 1) <= 1e-4 and cfg.batch_size == 1
    assert max(cfg.hidden) < 1024 and "units" in notes[0]


def _upload(n: int):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (n, 2))
    return split("upload", "binary", 2, x, (x[:, 0] > 0).astype(int), train_ratio=0.5, seed=0)


def test_an_upload_past_the_limit_keeps_its_first_points():
    data, notes = capped_dataset(_upload(3000), SMALL)
    assert len(data.x_train) + len(data.x_test) == 1000 and len(data.x_train) == 500
    assert "1,000 of the file's 3,000" in notes[0]
    run = LiveRun(RunConfig(problem="upload"), upload=_upload(3000), limits=SMALL)
    assert len(run.data.x_train) + len(run.data.x_test) == 1000
    assert any("3,000" in n for n in run.limit_notes)


def test_a_live_run_is_capped_when_made_and_when_changed():
    run = LiveRun(RunConfig(hidden=(64, 64, 64)), limits=SMALL)
    assert run.cfg.hidden == (16, 16) and run.spec.hidden == (16, 16)
    assert len(run.limit_notes) == 2
    run.apply(RunConfig(hidden=(8, 8)))
    assert run.cfg.hidden == (8, 8) and run.limit_notes == []
    run.apply(RunConfig(hidden=(8, 300)))
    assert run.cfg.hidden == (8, 16) and "16 units" in run.limit_notes[0]


def test_a_model_file_larger_than_allowed_is_refused_in_plain_words():
    rng = np.random.default_rng(1)
    big = SavedModel(
        [(rng.normal(size=(2, 64)).astype(np.float32), np.zeros(64, np.float32)),
         (rng.normal(size=(64, 1)).astype(np.float32), np.zeros(1, np.float32))], "relu",
    )  # fmt: skip
    run = LiveRun(RunConfig(hidden=(16,)), limits=SMALL)
    with pytest.raises(PlaygroundError, match="at most 16 units in a layer; the file has 64"):
        run.load(big)


@pytest.fixture
def small_host(tmp_path, monkeypatch):
    """This process's app under a host file with small limits."""
    from playground.ui import run_state

    f = tmp_path / "host.toml"
    f.write_text(HOST_TOML)
    monkeypatch.setenv("PLAYGROUND_HOST_CONFIG", str(f))
    run_state.host_limits.cache_clear()
    yield f
    run_state.host_limits.cache_clear()


@pytest.mark.parametrize(
    ("query", "hidden", "n_points", "words"),
    [
        ({"width": "64"}, (16, 16), 500, "at most 16 units"),
        ({"depth": "5"}, (8, 8), 500, "at most 2 hidden layers"),
        ({"points": "5000"}, (8, 8), 1000, "at most 1,000 points"),
        ({"hidden": "200,200"}, (16, 16), 500, "at most 16 units"),
        # A teacher's link (controls hidden, playing at once) is held the same.
        ({"hidden": "64", "hide": "hidden", "play": "1"}, (16,), 500, "at most 16 units"),
    ],
)
def test_links_past_the_host_limits_are_capped_with_a_message(
    small_host, query, hidden, n_points, words
):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["run"]
    assert run.cfg.hidden == hidden and run.cfg.n_points == n_points
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]


def test_page_controls_and_uploads_past_the_host_limits(small_host):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    at.text_input(key="cfg_layers").set_value("64, 64, 64").run()
    assert not at.exception
    assert at.session_state["run"].cfg.hidden == (16, 16)
    assert any("at most 2 hidden layers" in w.value for w in at.warning)
    x = np.random.default_rng(0).uniform(-1, 1, (3000, 2))
    at.text_input(key="cfg_layers").set_value("").run()
    at.selectbox(key="cfg_problem").set_value("upload").run()
    csv = points_to_csv(x, (x[:, 0] > 0).astype(int))
    at.file_uploader(key="csv_upload").set_value(("big.csv", csv, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["run"]
    assert len(run.data.x_train) + len(run.data.x_test) == 1000
    assert any("of the file's 3,000" in w.value for w in at.warning)


def test_the_command_line_holds_the_host_limits(small_host):
    args = ["train", "--width", "64", "--depth", "3", "--steps", "5", "--json"]
    r = subprocess.run(
        [sys.executable, "-m", "playground", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PLAYGROUND_HOST_CONFIG": str(small_host)},
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["hidden"] == [16, 16] and len(out["host_limits"]) == 2
    assert "at most 16 units" in r.stderr


def test_each_app_process_of_the_class_server_gets_its_share_of_the_cores(monkeypatch):
    from playground.live.engine.limits import CORES_ENV, cores

    monkeypatch.setenv(CORES_ENV, "1")
    assert cores() == 1 and HostLimits().worker_count() == 1
    # 15 playing runs a core, and a third more: the balancer never splits a class evenly
    assert HostLimits().playing_limit() == 20
    monkeypatch.setenv(CORES_ENV, "junk")
    assert cores() >= 1  # the process's own cores


def test_the_hosts_public_url_is_an_http_address(tmp_path):
    """``public_url`` (the address teachers' links start with) must be an http(s) URL."""
    from playground.live.engine.limits import load_limits

    f = tmp_path / "host.toml"
    f.write_text('[limits]\npublic_url = "https://class.example.org/pg/"\nmax_width = 64\n')
    limits = load_limits(f)
    assert limits.public_url == "https://class.example.org/pg" and limits.max_width == 64
    assert HostLimits().public_url == ""
    for bad in ('"javascript:alert(1)"', '"class.example.org"', "3", '"https://x.org/?a=1"'):
        f.write_text(f"public_url = {bad}\n")
        with pytest.raises(PlaygroundError, match="public_url must be an http"):
            load_limits(f)


def test_the_shipped_host_toml_and_the_readme_say_the_defaults():
    """HostLimits is the one source of the defaults; the shipped file and the README's
    table restate them for hosts, and must say the same."""
    shipped = tomllib.loads((ROOT / "host.toml").read_text())["limits"]
    defaults = dataclasses.asdict(HostLimits())
    assert {k: defaults[k] for k in shipped} == shipped
    assert set(defaults) - set(shipped) == {"public_url"}  # commented out: unset
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", readme, re.M))
    for key, value in shipped.items():
        assert rows[key].split(" ")[0] == str(value), (key, rows[key])

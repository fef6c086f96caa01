"""Learning-rate schedules and initialisers (issue 22): the rate of every step against
optax's own schedule functions, and the update it drives; the CLI contract; share links;
the model file round trip (older files still load); the page's controls."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from playground.core.config import RunConfig, from_query, to_query
from playground.core.errors import PlaygroundError
from playground.core.modelfile import SavedModel, load_model, save_model
from playground.core.train import model_loss
from playground.live.session.live_run import LiveRun
from tests.system.test_cli import cli

BASE_LR, WARMUP, DECAY = 0.05, 5, 40


def optax_reference(kind: str):
    """The rate of each step as optax's schedule functions give it, peaking at BASE_LR."""
    if kind == "cosine":
        return optax.warmup_cosine_decay_schedule(0.0, BASE_LR, WARMUP, DECAY)
    if kind == "exponential":
        return optax.warmup_exponential_decay_schedule(0.0, BASE_LR, WARMUP, DECAY, 0.1)
    return optax.join_schedules(
        [optax.linear_schedule(0.0, BASE_LR, WARMUP), optax.constant_schedule(BASE_LR)], [WARMUP]
    )


def scheduled_run(kind: str, **kw) -> LiveRun:
    cfg = RunConfig(
        schedule=kind,
        warmup_steps=WARMUP,
        decay_steps=DECAY,
        learning_rate=BASE_LR,
        optimizer="sgd",
        batch_size=0,  # full batch: one step is one plain gradient step on all points
        hidden=(4,),
        speed="fast",
        **kw,
    )
    return LiveRun(cfg)


def rate_now(run: LiveRun) -> float:
    return float(run.state.opt_state.hyperparams["learning_rate"])


@pytest.mark.parametrize("kind", ["constant", "cosine", "exponential"])
def test_every_step_takes_the_rate_of_optaxs_schedule(kind):
    run = scheduled_run(kind)
    want = optax_reference(kind)
    seen, expected = [], []
    for step in range(DECAY + 10):
        run.train_steps(1)
        seen.append(rate_now(run))
        expected.append(float(want(step)))
    np.testing.assert_allclose(seen, expected, rtol=2e-6, atol=1e-9)
    assert seen[0] == 0.0 and max(seen) == pytest.approx(BASE_LR, rel=1e-6)


def test_the_scheduled_rate_drives_the_update():
    """Plain SGD on all points: each step moves the weights by -rate(step) * gradient."""
    run = scheduled_run("cosine")
    run.train_steps(WARMUP + 3)  # past the warm-up, into the cosine
    want = optax_reference("cosine")
    x, y = jnp.asarray(run.data.x_train), jnp.asarray(run.data.y_train)
    for _ in range(3):
        step, before = run.step, run.params_numpy()
        grads = jax.grad(model_loss)(
            [(jnp.asarray(w), jnp.asarray(b)) for w, b in before], x, y, run.spec
        )
        run.train_steps(1)
        for (w0, b0), (w1, b1), (gw, gb) in zip(before, run.params_numpy(), grads, strict=True):
            rate = float(want(step))
            np.testing.assert_allclose(w1 - w0, -rate * np.asarray(gw), rtol=1e-3, atol=1e-7)
            np.testing.assert_allclose(b1 - b0, -rate * np.asarray(gb), rtol=1e-3, atol=1e-7)


def test_a_schedule_does_not_depend_on_how_the_run_is_cut_into_chunks():
    whole, steps = scheduled_run("exponential"), scheduled_run("exponential")
    whole.train_steps(30)
    for _ in range(30):
        steps.train_steps(1)
    for (w0, b0), (w1, b1) in zip(whole.params_numpy(), steps.params_numpy(), strict=True):
        np.testing.assert_allclose(w0, w1, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b0, b1, rtol=1e-5, atol=1e-6)


def test_the_initialiser_draws_its_own_first_weights():
    """He: normal with std sqrt(2/fan_in); Glorot: uniform within sqrt(6/(fan_in+fan_out))."""
    he = LiveRun(RunConfig(hidden=(512,), init="he")).params_numpy()[1][0]  # (512, 1)
    glorot = LiveRun(RunConfig(hidden=(512,), init="glorot")).params_numpy()[1][0]
    assert np.std(he) == pytest.approx(np.sqrt(2 / 512), rel=0.15)
    lim = np.sqrt(6 / (512 + 1))
    assert np.abs(glorot).max() <= lim and np.abs(glorot).max() > 0.9 * lim


# -- the CLI ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--schedule", "linear"], "Learning-rate schedule: 'linear' is not one of constant"),
        (["--init", "zeros"], "Initialisation: 'zeros' is not one of he, glorot"),
        (["--warmup-steps", "-1"], "Warm-up must lie between 0 and"),
        (["--warmup-steps", "many"], "Warm-up: 'many' is not a number"),
        (["--decay-steps", "0"], "Decay time must lie between 1 and"),
    ],
)
def test_a_wrong_schedule_or_init_exits_2_with_one_line(args, words):
    r = cli("train", *args, "--steps", "10", "--json")
    assert r.returncode == 2 and not r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr


def test_the_cli_trains_with_a_schedule_and_saves_it_in_the_model_file(tmp_path):
    model = tmp_path / "m.npz"
    r = cli(
        *("train", "--schedule", "cosine", "--warmup-steps", "20", "--decay-steps", "200"),
        *("--init", "glorot", "--steps", "200", "--save", str(model), "--json"),
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["schedule"], out["warmup_steps"], out["init"]) == ("cosine", 20, "glorot")
    meta = load_model(model.read_bytes()).meta
    assert (meta["schedule"], meta["warmup_steps"], meta["decay_steps"], meta["init"]) == (
        "cosine",
        20,
        200,
        "glorot",
    )


# -- links and the model file ------------------------------------------------------------
def test_share_links_carry_the_schedule_and_the_init():
    cfg = RunConfig(schedule="exponential", warmup_steps=100, decay_steps=2000, init="glorot")
    query = to_query(cfg)
    assert query["schedule"] == "exponential" and query["warmup_steps"] == "100"
    back, notices = from_query(query)
    assert back == cfg and not notices
    bad, notices = from_query({"schedule": "linear", "warmup_steps": "-5"})
    assert bad.schedule == "constant" and bad.warmup_steps == 0
    assert any("schedule" in n for n in notices) and any("Warm-up" in n for n in notices)


def test_the_model_file_round_trips_the_training_settings_and_old_files_still_load():
    run = LiveRun(RunConfig(schedule="cosine", warmup_steps=7, decay_steps=300, init="glorot"))
    saved = load_model(save_model(run.saved_model()))
    assert {k: saved.meta[k] for k in ("init", "schedule", "warmup_steps", "decay_steps")} == {
        "init": "glorot",
        "schedule": "cosine",
        "warmup_steps": 7,
        "decay_steps": 300,
    }
    old = SavedModel(run.params_numpy(), "relu", meta={"step": 3, "problem": "xor"})
    loaded = load_model(save_model(old))
    assert "schedule" not in loaded.meta and loaded.meta["step"] == 3
    for bad, words in [
        ({"schedule": "linear"}, "unknown schedule 'linear'"),
        ({"init": "zeros"}, "unknown init 'zeros'"),
        ({"warmup_steps": -1}, "'warmup_steps' must be a single whole number"),
        ({"decay_steps": 2.5}, "'decay_steps' must be a single whole number"),
    ]:
        file = save_model(SavedModel(run.params_numpy(), "relu", meta=bad))
        with pytest.raises(PlaygroundError, match=words):
            load_model(file)


# -- the page ------------------------------------------------------------------------------
def test_the_page_offers_the_schedule_and_applies_it_to_the_running_network():
    from tests.pages.test_playground_page import app, button, metric, no_exceptions

    at = app()
    button(at, "Step").click().run()
    at.selectbox(key="cfg_schedule").set_value("cosine").run()
    at.number_input(key="cfg_warmup_steps").set_value(50).run()
    at.number_input(key="cfg_decay_steps").set_value(1000).run()
    no_exceptions(at)
    run = at.session_state["run"]
    assert (run.cfg.schedule, run.cfg.warmup_steps, run.cfg.decay_steps) == ("cosine", 50, 1000)
    assert metric(at, "Epoch") == "1"  # a training setting: the run goes on
    assert at.query_params["schedule"] == "cosine" and at.query_params["warmup_steps"] == "50"
    button(at, "Step").click().run()
    no_exceptions(at)
    step = at.session_state["run"].step
    want = optax.warmup_cosine_decay_schedule(0.0, run.cfg.learning_rate, 50, 1000)(step - 1)
    assert rate_now(at.session_state["run"]) == pytest.approx(float(want), rel=1e-5)


def test_adopting_a_model_files_network_takes_its_schedule_and_init_too():
    from tests.pages.test_playground_page import app, button, no_exceptions

    source = LiveRun(RunConfig(hidden=(6,), schedule="exponential", warmup_steps=30, init="glorot"))
    source.train_steps(50)
    data = save_model(source.saved_model())
    at = app()  # 8-8: the file's network differs, so the page offers to adopt it
    at.file_uploader(key="model_upload").set_value(("m.npz", data, "x/y")).run()
    button(at, "Use the file's network: layers [6], relu").click().run()
    no_exceptions(at)
    cfg = at.session_state["run"].cfg
    assert (cfg.hidden, cfg.schedule, cfg.warmup_steps, cfg.init) == (
        (6,),
        "exponential",
        30,
        "glorot",
    )
    assert at.session_state["run"].step == 50

"""The Playground page through Streamlit's AppTest: controls, Play / Step / Reset, the
share link, hostile links, divergence, uploads and model files."""

import io
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from playground.core.config import RunConfig
from playground.core.modelfile import SavedModel, save_model
from playground.figures.readouts import read_count
from playground.figures.wire import array_digest
from playground.userdata.points_csv import points_to_csv, read_points_csv

TIMEOUT = 240
ROOT = Path(__file__).resolve().parents[2]


def app(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def rerun_until(at: AppTest, done, seconds: float = 120) -> AppTest:
    """Rerun while the background trainer works, until ``done(at)`` or time runs out."""
    end = time.monotonic() + seconds
    while not done(at) and time.monotonic() < end:
        time.sleep(0.5)
        at.run()
    return at


def steps(at: AppTest) -> int:
    return read_count(metric(at, "Step"))  # compact from 100,000 on: "101k"


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_page_renders_with_readouts_and_plots():
    at = app()
    no_exceptions(at)
    assert metric(at, "Epoch") == "0"
    assert metric(at, "Parameters") == "105"
    assert {"Play", "Step", "Reset", "Regenerate"} <= {b.label for b in at.button}
    assert not button(at, "Play").proto.help  # a tooltip would cover the text above it
    run = at.session_state["run"]
    assert run.cfg.problem == "xor" and run.cfg.hidden == (8, 8)


def test_step_play_and_reset_move_the_epoch():
    at = app()
    button(at, "Step").click().run()
    assert metric(at, "Epoch") == "1"
    button(at, "Play").click().run()
    no_exceptions(at)
    assert at.session_state["playing"]
    assert "Pause" in {b.label for b in at.button}
    rerun_until(at, lambda a: steps(a) > 100)
    assert steps(at) > 100
    button(at, "Pause").click().run()
    assert not at.session_state["playing"]
    button(at, "Reset").click().run()
    assert metric(at, "Epoch") == "0"


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("cfg_problem", "circle", "problem"),
        ("cfg_activation", "tanh", "activation"),
        ("cfg_optimizer", "sgd", "optimizer"),
        ("cfg_reg", "l2", "reg"),
        ("cfg_init", "glorot", "init"),
    ],
)
def test_each_selectbox_changes_the_config(key, value, field):
    at = app()
    at.selectbox(key=key).set_value(value).run()
    no_exceptions(at)
    assert getattr(at.session_state["run"].cfg, field) == value
    assert at.query_params[field] == value


def test_sliders_and_inputs_change_the_config():
    at = app()
    at.slider(key="cfg_depth").set_value(3).run()
    at.select_slider(key="cfg_width").set_value(4).run()
    assert at.session_state["run"].cfg.hidden == (4, 4, 4)
    at.text_input(key="cfg_layers").set_value("16, 2").run()
    assert at.session_state["run"].cfg.hidden == (16, 2)
    at.number_input(key="cfg_seed").set_value(7).run()
    at.slider(key="cfg_noise").set_value(0.2).run()
    at.multiselect(key="cfg_features").set_value(["x1", "x2", "x1x2"]).run()
    cfg = at.session_state["run"].cfg
    assert cfg.seed == 7 and cfg.noise == pytest.approx(0.2) and "x1x2" in cfg.features
    at.toggle(key="cfg_show_test").set_value(True).run()
    assert at.session_state["run"].cfg.show_test
    no_exceptions(at)


def test_learning_rate_applies_live_but_problem_change_resets():
    at = app()
    button(at, "Step").click().run()
    at.select_slider(key="cfg_learning_rate").set_value(0.1).run()
    run = at.session_state["run"]
    assert run.cfg.learning_rate == 0.1 and metric(at, "Epoch") == "1"
    at.selectbox(key="cfg_problem").set_value("gauss").run()
    assert metric(at, "Epoch") == "0"
    assert [t.value for t in at.toast] == ["Problem changed: a new network starts from epoch 0."]
    at.slider(key="cfg_depth").set_value(3).run()
    last = at.toast[-1].value
    assert last == "Hidden layers changed: a new network starts from epoch 0."


def test_share_link_round_trips():
    at = app(problem="spiral", classes="3", hidden="16,8", learning_rate="0.01", seed="5")
    no_exceptions(at)
    cfg = at.session_state["run"].cfg
    assert (cfg.problem, cfg.classes, cfg.hidden, cfg.learning_rate, cfg.seed) == (
        "spiral", 3, (16, 8), 0.01, 5,
    )  # fmt: skip
    assert at.query_params["hidden"] == "16,8"
    assert at.selectbox(key="cfg_problem").value == "spiral"
    assert metric(at, "Train accuracy")


def test_hostile_share_link_gives_notices_not_errors():
    at = app(problem="<img src=x onerror=alert(1)>", hidden="9" * 400, noise="inf", seed="-1")
    no_exceptions(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "Problem" in warnings and "Noise" in warnings and "Seed" in warnings
    assert "2,147,483,647" in warnings and "e+09" not in warnings  # numbers people read
    assert at.session_state["run"].cfg.problem == "xor"


def test_a_link_with_the_command_lines_names_applies_them_with_a_note():
    at = app(points="99999999", lr="0.003")
    no_exceptions(at)
    cfg = at.session_state["run"].cfg
    assert cfg.n_points == 20_000 and cfg.learning_rate == 0.003
    assert [w.value for w in at.warning] == [
        "Share link: Changed: Points must lie between 20 and 20,000: 99,999,999 became 20,000"
    ]


def test_divergence_pauses_with_a_plain_message():
    at = app(problem="product", hidden="8", optimizer="sgd", learning_rate="10", batch_size="0")
    button(at, "Play").click().run()
    rerun_until(at, lambda a: not a.session_state["playing"])
    no_exceptions(at)
    run = at.session_state["run"]
    assert run.diverged and not at.session_state["playing"]
    assert any("learning rate" in e.value for e in at.error)
    assert "—" in metric(at, "Test R²") or metric(at, "Test R²")
    at.select_slider(key="cfg_learning_rate").set_value(0.001).run()
    button(at, "Reset").click().run()
    button(at, "Step").click().run()
    no_exceptions(at)
    assert not at.session_state["run"].diverged


def test_bad_formula_keeps_the_previous_run():
    at = app(problem="formula", formula="x1*x2")
    no_exceptions(at)
    assert at.session_state["run"].data.task == "regression"
    at.text_input(key="cfg_formula").set_value("__import__('os').system('id')").run()
    no_exceptions(at)
    assert at.error and "previous run is kept" in at.error[0].value
    at.text_input(key="cfg_formula").set_value("x1**2 + x2**2 < 9").run()
    assert at.session_state["run"].data.task == "binary"


def test_csv_upload_and_its_error_path():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 2))
    good = points_to_csv(x, (x[:, 0] > x[:, 1]).astype(int))
    at = app(problem="upload")
    no_exceptions(at)
    at.file_uploader(key="csv_upload").set_value(("pts.csv", good, "text/csv")).run()
    no_exceptions(at)
    run = at.session_state["run"]
    assert run.cfg.problem == "upload" and len(run.data.x_train) + len(run.data.x_test) == 200
    at.file_uploader(key="csv_upload").set_value(("bad.csv", b"x1,x2,y\n1,2\n", "text/csv"))
    at.run()
    no_exceptions(at)
    assert any("bad.csv" in e.value and "previous data is kept" in e.value for e in at.error)
    assert (
        len(at.session_state["run"].data.x_train) + len(at.session_state["run"].data.x_test) == 200
    )


def test_model_upload_loads_or_offers_to_adopt():
    at = app()
    run = at.session_state["run"]
    run.train_steps(16)
    same = save_model(run.saved_model())
    at.file_uploader(key="model_upload").set_value(("m.npz", same, "application/octet-stream"))
    at.run()
    no_exceptions(at)
    assert any("Loaded" in s.value for s in at.success)
    rng = np.random.default_rng(1)
    other = SavedModel(
        [(rng.normal(size=(2, 5)).astype(np.float32), np.zeros(5, np.float32)),
         (rng.normal(size=(5, 1)).astype(np.float32), np.zeros(1, np.float32))], "tanh",
    )  # fmt: skip
    at.file_uploader(key="model_upload").set_value(("o.npz", save_model(other), "x/y")).run()
    assert any("adopt" in w.value for w in at.warning)
    button(at, "Use the file's network: layers [5], tanh").click().run()
    no_exceptions(at)
    run = at.session_state["run"]
    assert run.cfg.hidden == (5,) and run.cfg.activation == "tanh"
    np.testing.assert_allclose(run.params_numpy()[0][0], other.params[0][0])
    at.file_uploader(key="model_upload").set_value(("x.npz", b"junk", "x/y")).run()
    assert any("not a model file" in e.value for e in at.error)


def test_history_and_dataset_downloads_are_valid_csv():
    at = app()
    run = at.session_state["run"]
    run.train_steps(32)
    text = run.history.to_csv().decode()
    header = text.splitlines()[0].split(",")
    assert {"step", "epoch", "train_loss", "test_loss", "grad_rms_1", "grad_rms_3"} <= set(header)
    rows = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, ndmin=2)
    assert rows.shape[1] == len(header) and rows[-1, header.index("step")] == 32


def test_settings_survive_a_trip_to_another_page_and_back():
    at = app(hidden="16,4", learning_rate="0.003", problem="circle")
    button(at, "Step").click().run()
    before = at.session_state["run"].cfg
    at.switch_page("app_pages/bends_regions.py").run()
    no_exceptions(at)
    at.switch_page("app_pages/playground.py").run()
    no_exceptions(at)
    run = at.session_state["run"]
    assert run.cfg == before and metric(at, "Epoch") == "1"


def _boundary_data(at: AppTest) -> dict:
    import json

    for el in at.main:
        if getattr(el, "type", None) == "bidi_component":
            data = json.loads(el.proto.json)
            if data.get("key") == "boundary":
                return data
    raise AssertionError("no decision boundary on the page")


def test_playing_sends_the_trainers_snapshots_as_frames():
    """While playing, each refresh carries the pictures the trainer took since the last
    one (in order, labelled with their epoch); the newest is not sent twice."""
    at = app(hidden="8,8", batch_size="10")
    button(at, "Play").click().run()
    shown = dict(_boundary_data(at)["paths"])  # digests the browser holds
    runs: list[dict] = []
    end = time.monotonic() + 120
    while sum(bool(d.get("frames")) for d in runs) < 3 and time.monotonic() < end:
        time.sleep(0.3)
        at.run()
        runs.append(_boundary_data(at))
    seen = [d for d in runs if d.get("frames")]
    no_exceptions(at)
    assert len(seen) == 3
    seqs = [f["seq"] for d in seen for f in d["frames"]]
    assert seqs == sorted(set(seqs))  # no picture twice, none out of order
    epochs = [int(f["label"].split()[-1].replace(",", "")) for d in seen for f in d["frames"]]
    assert epochs == sorted(epochs) and epochs[-1] > epochs[0]
    # A frame carries only the arrays that differ from what the browser shows then: a
    # new output grid, the bends when computed anew (two pictures a step apart may also
    # round to one grid). Played in order, they leave it showing the newest picture.
    carried: set[str] = set()
    for d in runs:
        mine = {path for f in d.get("frames", []) for path in f["arrays"]}
        assert not mine & set(d.get("arrays", {}))  # a path the frames carry, only there
        shown.update({p: array_digest(a) for p, a in d.get("arrays", {}).items()})
        for f in d.get("frames", []):
            for path, enc in f["arrays"].items():
                assert shown.get(path) != array_digest(enc), (f["seq"], path)
                shown[path] = array_digest(enc)
        carried |= mine
    last = seen[-1]
    assert "surface.z" in carried and carried <= set(last["paths"])
    assert shown == last["paths"]
    button(at, "Pause").click().run()
    still = _boundary_data(at)
    # Paused: one still picture, of the run as the readouts say it is.
    assert "frames" not in still and "surface.z" in still["paths"]
    assert still["label"] == f"epoch {metric(at, 'Epoch')}"


def test_a_wide_net_says_why_its_bends_are_not_drawn():
    """At He init every bias is 0 (all bends cross the origin); one epoch spreads them
    into more pieces than the exact geometry computes."""
    at = app(hidden="256,256", batch_size="10")
    no_exceptions(at)
    button(at, "Step").click().run()
    no_exceptions(at)
    assert metric(at, "Epoch") == "1"
    notes = " ".join(c.value for c in at.caption)
    assert "Bends are not drawn: the network cuts the plane into more than" in notes


# -- the first five minutes (issue 10) ------------------------------------------------
def pause(at: AppTest) -> None:
    """Pause if still playing (training may have stopped by itself)."""
    if "Pause" in {b.label for b in at.button}:
        button(at, "Pause").click().run()


def info_texts(at: AppTest) -> str:
    return " ".join(i.value for i in at.info)


def test_a_loaded_model_shows_its_own_network_at_once():
    """Circle trained 125 steps, loaded while the page shows XOR: the readouts and the
    boundary are the file's network in the same rerun, the step count is the file's, and
    the page says the file was trained on another problem (with a way to switch)."""
    from playground.core.modelfile import load_model
    from playground.figures.readouts import fmt
    from playground.live.session.live_run import LiveRun
    from playground.ui.live_plot import decode_array
    from playground.ui.live_view import GRID_N

    source = LiveRun(RunConfig(problem="circle", noise=0.2, speed="fast"))
    source.train_steps(125)
    data = save_model(source.saved_model())
    at = app()
    at.file_uploader(key="model_upload").set_value(("circle.npz", data, "x/y")).run()
    no_exceptions(at)
    reference = LiveRun(RunConfig())  # the page's XOR points, the file's weights
    reference.load(load_model(data))
    assert metric(at, "Step") == "125" and metric(at, "Epoch") == f"{125 // 25}"
    assert metric(at, "Test loss") == fmt(reference.metrics.test_loss)
    z = decode_array(_boundary_data(at)["arrays"]["surface.z"])
    want = reference.output_grid(GRID_N)[2]
    assert np.abs(z - want).max() < 1 / 250  # the 8-bit picture of the loaded network
    assert any("Loaded circle.npz at step 125" in s.value for s in at.success)
    mismatch = " ".join(w.value for w in at.warning)
    assert "trained on Circle" in mismatch and "shows XOR" in mismatch
    button(at, "Use the file's problem (Circle) and network (layers [8, 8], relu)").click().run()
    no_exceptions(at)
    run = at.session_state["run"]
    assert run.cfg.problem == "circle" and run.step == 125
    on_circle = LiveRun(RunConfig(problem="circle"))  # the page's circle: its noise is 0
    on_circle.load(load_model(data))
    assert metric(at, "Test loss") == fmt(on_circle.metrics.test_loss)
    assert not at.warning


def test_a_dead_network_stops_with_plain_words_and_marked_units():
    from tests.live.test_live_stops import dead_net

    at = app(hidden="4,3")
    saved = SavedModel(dead_net(), "relu", meta={"step": 0, "problem": "xor"})
    at.file_uploader(key="model_upload").set_value(("dead.npz", save_model(saved), "x/y")).run()
    button(at, "Play").click().run()
    rerun_until(at, lambda a: not a.session_state["playing"])
    no_exceptions(at)
    errors = " ".join(e.value for e in at.error)
    assert (
        "all 3 units of layer 2 are off for every training point" in errors
        and "the network cannot learn any more" in errors
        and "Lower the learning rate and press Reset" in errors
    )
    thumbs = at.session_state["_figures"]["thumbs"][1]
    marks = [a for a in thumbs["layout"]["annotations"] if a["text"] == "dead"]
    assert len(marks) == 3  # the three units of layer 2
    assert "Play" in {b.label for b in at.button}
    button(at, "Reset").click().run()
    assert not at.session_state["run"].halted and not at.error


def test_after_a_divergence_play_goes_on_from_weights_worth_having():
    at = app(problem="product", optimizer="sgd", learning_rate="10", speed="fast")
    button(at, "Play").click().run()
    rerun_until(at, lambda a: not a.session_state["playing"])
    message = " ".join(e.value for e in at.error)
    assert at.session_state["run"].diverged and "Reset" in message and "go on from" in message
    at.select_slider(key="cfg_learning_rate").set_value(0.01).run()
    button(at, "Play").click().run()
    rerun_until(at, lambda a: float(metric(a, "Test R²")) > 0.5)
    button(at, "Pause").click().run()
    no_exceptions(at)
    assert float(metric(at, "Test R²")) > 0.5 and not at.session_state["run"].diverged


def test_the_first_play_of_a_new_shape_says_it_compiles():
    at = app(hidden="7,5", batch_size="13", optimizer="momentum")
    button(at, "Play").click().run()
    assert "Compiling the network (first time only)" in info_texts(at)
    rerun_until(at, lambda a: steps(a) > 0)
    at.run()
    assert "Compiling" not in info_texts(at)
    pause(at)


def test_speed_and_the_early_stop():
    at = app(problem="gauss")
    assert at.session_state["run"].cfg.speed == "normal"
    assert at.selectbox(key="cfg_speed").options == [
        "Slow: 3 epochs/s", "Normal: 30 epochs/s", "As fast as possible",
    ]  # fmt: skip
    # Every label fits the sidebar's box (~22 characters at 1400 px; 25 were cut).
    assert all(len(o) <= 22 for o in at.selectbox(key="cfg_speed").options)
    at.selectbox(key="cfg_speed").set_value("fast").run()
    at.toggle(key="cfg_early_stop").set_value(True).run()
    assert at.session_state["run"].cfg.speed == "fast" and at.query_params["speed"] == "fast"
    button(at, "Play").click().run()
    rerun_until(at, lambda a: not a.session_state["playing"])
    no_exceptions(at)
    assert "Paused: the test loss" in info_texts(at) and "Press Play to train on" in info_texts(at)
    stopped = steps(at)
    button(at, "Play").click().run()  # goes on for another while
    rerun_until(at, lambda a: steps(a) > stopped)
    assert steps(at) > stopped
    pause(at)


def test_choosing_your_csv_file_asks_for_it_without_errors():
    from playground.ui.data_panel import upload_limit_text

    at = app()
    at.selectbox(key="cfg_problem").set_value("upload").run()
    no_exceptions(at)
    assert not at.error  # nothing went wrong: there is no file yet
    assert "Upload a CSV file in the sidebar" in info_texts(at)
    keys = [getattr(el, "key", None) for el in at.sidebar]
    assert keys.index("csv_upload") == keys.index("cfg_problem") + 1  # right under Problem
    assert "cfg_n_points" not in keys and "cfg_noise" not in keys  # they do not apply
    label = next(u for u in at.sidebar.get("file_uploader") if u.proto.id.endswith("csv_upload"))
    label = label.proto.label
    assert "up to 5.0 MB and 20,000 rows" in label and upload_limit_text() in label
    at.file_uploader(key="csv_upload").set_value(("bad.csv", b"x1,x2,y\n1,2\n", "text/csv")).run()
    no_exceptions(at)
    assert [e.value for e in at.error] == [e.value for e in at.sidebar.error]  # one reason
    assert "bad.csv: row 2 has 2 columns" in at.sidebar.error[0].value
    assert at.session_state["run"].cfg.problem == "xor"


def test_a_too_long_formula_is_refused_with_a_message():
    """The formula box takes what the parser takes (its counter says "…/500"), so a
    longer paste stops there; a link's longer formula is refused with a note."""
    from playground.userdata.formula import MAX_FORMULA_CHARS

    long_formula = "x1 + " * 120 + "x2"
    at = app(problem="formula")
    box = at.text_input(key="cfg_formula")
    assert box.proto.max_chars == MAX_FORMULA_CHARS == 500
    box.set_value(long_formula).run()
    no_exceptions(at)
    assert len(at.text_input(key="cfg_formula").value) == MAX_FORMULA_CHARS
    at = app(problem="formula", formula=long_formula)
    assert any("602 characters is too long (at most 500)" in w.value for w in at.warning)


def test_history_csv_has_no_float32_noise_and_the_dataset_says_train_or_test():
    from playground.ui.data_panel import dataset_csv

    at = app()
    run = at.session_state["run"]
    run.train_steps(32)
    text = run.history.to_csv().decode()
    for line in text.splitlines()[1:]:
        for cell in line.split(","):
            v = np.float32(cell)
            assert cell == str(v) or cell == str(int(v)), cell  # the shortest float32 text
    csv = dataset_csv(run.data).decode().splitlines()
    assert csv[0] == "x1,x2,label,split"
    splits = [row.rsplit(",", 1)[1] for row in csv[1:]]
    assert splits.count("train") == len(run.data.x_train)
    assert splits.count("test") == len(run.data.x_test)


# -- teacher links ---------------------------------------------------------------------


def widget_labels(at: AppTest) -> set[str]:
    kinds = (at.selectbox, at.select_slider, at.slider, at.number_input, at.toggle, at.multiselect)
    return {w.label for kind in kinds for w in kind}


def test_a_teacher_link_hides_its_controls_and_keeps_their_values():
    at = app(
        problem="circle", learning_rate="0.003", activation="tanh", hide="learning_rate,activation"
    )
    no_exceptions(at)
    labels = widget_labels(at)
    assert "Learning rate" not in labels and "Activation" not in labels
    assert {"Problem", "Optimizer", "Batch size"} <= labels  # the rest stay
    run = at.session_state["run"]
    assert run.cfg.learning_rate == 0.003 and run.cfg.activation == "tanh"
    hide = at.query_params["hide"]  # the link survives
    assert set((hide[-1] if isinstance(hide, list) else hide).split(",")) == {
        "learning_rate",
        "activation",
    }
    # A learner's other changes do not bring the hidden controls back.
    at.selectbox(key="cfg_optimizer").set_value("sgd").run()
    assert "Learning rate" not in widget_labels(at)
    assert at.session_state["run"].cfg.learning_rate == 0.003


def test_a_teacher_link_may_start_playing_and_hide_the_network():
    at = app(hidden="4,4", hide="hidden,seed", play="1")
    no_exceptions(at)
    assert button(at, "Pause")  # playing from the start
    labels = widget_labels(at)
    assert "Hidden layers (depth)" not in labels and "Units per layer (width H)" not in labels
    assert "Regenerate" not in {b.label for b in at.button}  # it would change the seed
    assert at.session_state["run"].cfg.hidden == (4, 4)


def test_a_hostile_teacher_link_is_ignored_with_a_note():
    at = app(hide="__import__('os'),learning_rate", play="sometimes")
    no_exceptions(at)
    notes = " ".join(w.value for w in at.warning)
    assert "no setting called" in notes and "play" in notes
    assert "Learning rate" not in widget_labels(at)


def test_the_teacher_panel_offers_every_preset():
    from playground.core.presets import PRESETS

    at = app()
    no_exceptions(at)
    text = " ".join(m.value for m in at.markdown)
    for preset in PRESETS.values():
        assert preset.title in text


# -- the second walk-through (issue 25) -------------------------------------------------
def test_escape_markdown_shows_text_as_written():
    """Every Markdown character a message may carry comes back escaped: undoing
    CommonMark's backslash escapes gives the text again, and nothing is left to format."""
    import re

    from playground.ui.escape import escape_markdown

    texts = [
        "^ is not allowed; write powers with **, e.g. x1**2",
        "no setting called '__import__('os')'",
        "<script>alert(1)</script> | a[0] ~x~ $x$ `code` &lt; C:\\data",
        "# notes.csv\n- item\n1. first\n> quote\n+ more\n===",
    ]
    for text in texts:
        shown = escape_markdown(text)
        assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", shown) == text
        left = re.sub(r"\\.", "", shown)  # what is not escaped
        assert not re.search(r"[*_`<\[\]$~|&\\]", left), shown
        assert not re.search(r"^\s*([#>+=-]|\d+[.)])", shown, re.MULTILINE), shown


def test_the_formula_hint_keeps_its_asterisks():
    from playground.ui.escape import escape_markdown

    at = app(problem="formula", formula="x1*x2")
    at.text_input(key="cfg_formula").set_value("x1^2 + x2^2 < 9").run()
    no_exceptions(at)
    hint = "^ is not allowed; write powers with **, e.g. x1**2"
    assert r"x1\*\*2" in escape_markdown(hint)
    assert any(escape_markdown(hint) in e.value for e in at.error), [e.value for e in at.error]


def test_a_hostile_link_and_a_file_name_are_shown_as_written():
    from playground.ui.escape import escape_markdown

    at = app(hide="__import__('os')")
    notes = [w.value for w in at.warning]
    assert any(r"\_\_import\_\_" in n for n in notes), notes
    at = app(problem="upload")
    bad = ("**bold** <b>.csv", b"x1,x2,y\n1,2\n", "text/csv")
    at.file_uploader(key="csv_upload").set_value(bad).run()
    assert at.sidebar.error[0].value.startswith(escape_markdown("**bold** <b>.csv: row 2"))


def _drawn_training_points(at: AppTest) -> np.ndarray:
    """(x1, x2) of the training points the boundary figure draws, sorted."""
    import base64

    def values(a) -> np.ndarray:
        if isinstance(a, dict):  # Plotly's typed array
            return np.frombuffer(base64.b64decode(a["bdata"]), dtype=a["dtype"])
        return np.asarray(a, np.float64)

    fig = at.session_state["_figures"]["boundary"][1]
    traces = [t for t in fig["data"] if "(train)" in str(t.get("name"))]
    xy = np.concatenate([np.stack([values(t["x"]), values(t["y"])], 1) for t in traces])
    return xy[np.lexsort(xy.T)]


def test_a_second_csv_file_replaces_the_first():
    """Upload a.csv, then b.csv: the run, its plot and Reset have b's points."""
    rng = np.random.default_rng(0)
    xa, xb = rng.uniform(-1, 1, (200, 2)), rng.uniform(500, 520, (40, 2))
    a = points_to_csv(xa, (xa[:, 0] > xa[:, 1]).astype(int))
    b = points_to_csv(xb, (xb[:, 0] > 510).astype(int))
    at = app(problem="upload")
    at.file_uploader(key="csv_upload").set_value(("a.csv", a, "text/csv")).run()
    assert len(at.session_state["run"].data.x_train) == 100
    at.file_uploader(key="csv_upload").set_value(("b.csv", b, "text/csv")).run()
    no_exceptions(at)
    want = read_points_csv(b, name="b.csv").x  # b's points as the reader places them
    for _ in range(2):  # as uploaded, then after Reset
        data = at.session_state["run"].data
        have = np.concatenate([data.x_train, data.x_test])
        np.testing.assert_allclose(np.sort(have, axis=0), np.sort(want, axis=0), rtol=1e-6)
        train = data.x_train[np.lexsort(data.x_train.T)]
        np.testing.assert_allclose(_drawn_training_points(at), train, rtol=1e-6)
        button(at, "Reset").click().run()
        no_exceptions(at)


def _stream_says_stopped(at: AppTest, why: str) -> AppTest:
    """What the browser does when the frames stream says training stopped by itself: the
    boundary chart fires its "stopped" trigger, and Streamlit reruns only the page's live
    fragment, which holds the chart. (AppTest runs no stream and has no call for a
    fragment's own rerun, so this sends the trigger's widget state with a fragment-only
    rerun request, as the browser's message does.)"""
    import functools
    import json
    from unittest import mock

    import streamlit.testing.v1.local_script_runner as runner
    from streamlit.components.v2.bidi_component.main import _make_trigger_id
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    chart = next(
        el
        for el in at.main
        if getattr(el, "type", None) == "bidi_component"
        and json.loads(el.proto.json).get("key") == "boundary"
    )
    states = at._tree.get_widget_states()
    states.widgets.append(
        WidgetState(
            id=_make_trigger_id(chart.proto.id, "events"),
            json_trigger_value=json.dumps([{"event": "stopped", "value": why}]),
        )
    )
    # The page's live fragment, which holds the chart: drawn first (the network's after).
    fragments = list(at._fragment_storage._fragments)[:1]
    assert fragments
    rerun = functools.partial(runner.RerunData, fragment_id_queue=fragments)
    with mock.patch.object(runner, "RerunData", rerun):
        return at._run(states)


def test_the_button_reads_play_at_once_when_the_stream_says_training_stopped(monkeypatch):
    """Served by ``streamlit run``, the page does not rerun while it plays; when training
    stops by itself (here layer 2 dies at rate 10), the stream's trigger reruns the live
    fragment, and the whole page must follow so that the button reads Play again."""
    from playground.live.server import startup

    monkeypatch.setattr(startup, "ROUTES_SERVED", True)  # the page streams, as under streamlit run
    at = app(problem="spiral", lr="10")
    button(at, "Play").click().run()
    assert button(at, "Pause")
    trainer = at.session_state["trainer"]
    trainer.scheduler.watch(trainer.key, +1)  # an open stream: no idle stop
    try:
        end = time.monotonic() + 120
        while not (job := trainer.scheduler.job(trainer.key)).stopped:
            assert time.monotonic() < end, "training did not stop by itself"
            time.sleep(0.2)
        _stream_says_stopped(at, job.stopped)
    finally:
        trainer.scheduler.watch(trainer.key, -1)
    no_exceptions(at)
    assert not at.session_state["playing"] and at.session_state["run"].halted
    assert "Play" in {b.label for b in at.button}
    assert any("Training stopped" in e.value for e in at.error)


def test_a_dead_layer_of_one_unit_says_so_and_names_the_cause():
    """The issue's case, depth 8 and width 1 at the default rate: one unit "is" off, and
    the advice names the narrow layers rather than the learning rate."""
    at = app(hidden=",".join(["1"] * 8), speed="fast")
    button(at, "Play").click().run()
    rerun_until(at, lambda a: not a.session_state["playing"])
    no_exceptions(at)
    errors = " ".join(e.value for e in at.error)
    assert "the only unit of layer 2 is off for every training point" in errors, errors
    assert "layer 1 is too narrow (1 unit)" in errors and "at least 3 units" in errors
    assert "learning rate" not in errors


def test_a_fallen_test_score_is_told_and_the_button_brings_the_best_weights_back():
    """tanh XOR (no unit dies) learns at 0.01; at a rate of 3 its test accuracy falls far
    below its best: the page says so, and "Go back to the best weights" restores them."""
    at = app(activation="tanh", speed="fast")
    run = at.session_state["run"]
    run.train_steps(1000)
    points = np.random.default_rng(0).uniform(-6, 6, (500, 2)).astype(np.float32)
    at_best, best_step = run.predict(points), run.step
    at.select_slider(key="cfg_learning_rate").set_value(3.0).run()
    assert not [w.value for w in at.warning]
    for _ in range(10):
        run.train_steps(64)
    at.run()
    no_exceptions(at)
    told = " ".join(w.value for w in at.warning)
    assert "Test accuracy fell from 100.0% (epoch 40) to " in told, told
    assert "the steps are too large for this point of training" in told
    assert "Lower the learning rate or turn on" in told
    button(at, "Go back to the best weights").click().run()
    no_exceptions(at)
    run = at.session_state["run"]
    assert run.step == best_step and metric(at, "Step") == f"{best_step:,}"
    np.testing.assert_array_equal(run.predict(points), at_best)
    assert not at.warning and "Go back to the best weights" not in {b.label for b in at.button}


# -- the learner's and the teacher's path, second pass (issue 25, defects 5, 6, 7, 9) ----
def infos(at: AppTest) -> str:
    return " ".join(i.value for i in at.info)


def test_a_link_that_fixes_the_upload_problem_still_takes_the_file_and_says_what_it_fixes():
    """Defect 5: the link fixes the problem "upload", not the file; the page names what
    the link fixed, with the values."""
    at = app(problem="upload", hide="problem,learning_rate", lr="0.003")
    no_exceptions(at)
    assert "This link fixes: Problem (Your CSV file), Learning rate (0.003)." in infos(at)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 2))
    csv = points_to_csv(x, (x[:, 0] > x[:, 1]).astype(int))
    at.file_uploader(key="csv_upload").set_value(("pts.csv", csv, "text/csv")).run()
    no_exceptions(at)
    run = at.session_state["run"]
    assert run.cfg.problem == "upload" and len(run.data.x_train) + len(run.data.x_test) == 200


def test_a_model_file_cannot_undo_the_problem_a_link_fixed():
    """Defect 5: a model trained on XOR, loaded where the link fixed Circle: no button
    takes the file's problem, and the page says why."""
    from playground.live.session.live_run import LiveRun

    xor = LiveRun(RunConfig())
    xor.train_steps(16)
    at = app(problem="circle", hide="problem")
    at.file_uploader(key="model_upload").set_value(
        ("xor.npz", save_model(xor.saved_model()), "application/octet-stream")
    )
    at.run()
    no_exceptions(at)
    assert not [b.label for b in at.button if b.label.startswith("Use the file's")]
    assert "This link fixes the problem, so the file's are not taken" in infos(at)
    assert at.session_state["run"].cfg.problem == "circle"


def test_a_teacher_link_carries_its_task_and_goal_and_says_when_it_is_reached():
    """Defect 6: the preset's link carries its task and goal; the learner sees both at
    the top, then a note once the test accuracy reaches the goal."""
    from playground.core.presets import PRESETS
    from playground.ui.escape import escape_markdown

    preset = PRESETS["fewest_relus"]
    query = preset.query()
    assert query["task"] == preset.task and query["goal"] == "accuracy:0.95"
    at = app(**{**query, "hidden": "4"})
    no_exceptions(at)
    box = infos(at)
    assert f"**Your task:** {escape_markdown(preset.task)}" in box
    assert "**Goal:** test accuracy of at least 95%." in box
    assert not [s.value for s in at.success if "Goal reached" in s.value]
    run = at.session_state["run"]
    for _ in range(20):
        run.train_steps(500)
        if run.metrics.test_metric >= 0.95:
            break
    at.run()
    no_exceptions(at)
    reached = " ".join(s.value for s in at.success)
    assert "Goal reached at epoch" in reached and "with 4 ReLUs (layers [4])" in reached
    assert at.query_params["goal"] in ("accuracy:0.95", ["accuracy:0.95"])  # the link survives


def test_a_links_task_is_shown_as_written():
    from playground.ui.escape import escape_markdown

    task = "**all** of x_1 <b>"
    assert escape_markdown(task) == r"\*\*all\*\* of x\_1 \<b>"
    at = app(task=task, goal="r2:0.9", problem="product")
    no_exceptions(at)
    assert escape_markdown(task) in infos(at)
    assert "test R² of at least 0.9" in infos(at)


@pytest.fixture
def server_address():
    """Set ``server.address`` / ``server.port`` for one test (AppTest runs in-process)."""
    from streamlit import config

    old = {k: config.get_option(k) for k in ("server.address", "server.port")}
    yield lambda address, port=8655: (
        config.set_option("server.address", address),
        config.set_option("server.port", port),
    )
    for key, value in old.items():
        config.set_option(key, value)


def teacher_links(at: AppTest) -> list[str]:
    return [c.value for c in at.code if "://" in c.value]


def test_the_teacher_link_is_shown_with_the_servers_address(server_address):
    """Defect 7: the link is on the page as text and starts with the server's address;
    a loopback address is named as one learners cannot open."""
    server_address("192.168.1.20")
    at = app(learning_rate="0.003")
    no_exceptions(at)
    shown = teacher_links(at)
    assert shown and shown[0].startswith("http://192.168.1.20:8655/?")
    assert "learning_rate=0.003" in shown[0]
    assert not [c for c in at.caption if "this computer's own address" in c.value]
    server_address("127.0.0.1")
    at = app()
    assert teacher_links(at)[0].startswith("http://127.0.0.1:8655/")
    warned = " ".join(c.value for c in at.caption if c.value.startswith(":material/warning:"))
    assert "127.0.0.1, which is this computer's own address" in warned
    assert "public\\_url" in warned


def test_the_hosts_public_url_starts_every_teacher_link(tmp_path, monkeypatch, server_address):
    from playground.ui import run_state

    host = tmp_path / "host.toml"
    host.write_text('[limits]\npublic_url = "https://class.example.org/pg/"\n')
    monkeypatch.setenv("PLAYGROUND_HOST_CONFIG", str(host))
    run_state.host_limits.cache_clear()
    server_address("127.0.0.1")
    try:
        at = app()
        no_exceptions(at)
        shown = teacher_links(at)
        assert shown and all(u.startswith("https://class.example.org/pg/") for u in shown)
        assert shown[1].startswith("https://class.example.org/pg/?problem=product")
        assert not [c for c in at.caption if "own address" in c.value]
    finally:
        monkeypatch.delenv("PLAYGROUND_HOST_CONFIG")
        run_state.host_limits.cache_clear()


def test_a_lessons_try_it_link_opens_the_playground_in_this_session():
    """Defect 9: Try-it is an in-app link (same tab, same session): the code lesson's
    brings back the very run; another lesson's brings its settings."""
    from urllib.parse import parse_qsl

    from playground.ui.links import TRY_IT

    at = app()
    for _ in range(3):
        button(at, "Step").click().run()
    run = at.session_state["run"]
    at.switch_page("app_pages/lesson_code.py").run()
    no_exceptions(at)
    link = next(el.proto for el in at.get("page_link") if el.proto.label == TRY_IT)
    assert not link.external and link.page_script_hash  # not a new tab, not another site

    def follow(query: str) -> AppTest:
        for key, value in parse_qsl(query):
            at.query_params[key] = value
        at.switch_page("app_pages/playground.py").run()
        no_exceptions(at)
        return at

    follow(link.query_string)
    assert at.session_state["run"] is run and metric(at, "Epoch") == "3"
    follow("problem=circle&hidden=4")  # e.g. a lesson's own settings
    assert at.session_state["run"].cfg.problem == "circle"
    assert at.session_state["run"].cfg.hidden == (4,)

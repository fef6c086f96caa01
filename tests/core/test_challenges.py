"""Challenges the server grades (core.challenges), their command line and the page's
"Submit": the grader against plain NumPy, honest test points, budgets and misfits named
in plain words, exit codes."""

import io
import json
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from playground.cli import main
from playground.core import challenges as C
from playground.core.config import FIELDS, RunConfig, lesson_from_query, lesson_query
from playground.core.datasets import make_dataset
from playground.core.errors import PlaygroundError
from playground.core.modelfile import SavedModel, load_model, save_model

ROOT = Path(__file__).resolve().parents[2]


def xor_net(scale: float = 3.0) -> SavedModel:
    """XOR with 4 ReLUs, by hand: x1·x2 > 0 exactly where |x1 + x2| > |x1 - x2|, and
    |u| = relu(u) + relu(-u)."""
    w0 = np.array([[1, -1, 1, -1], [1, -1, -1, 1]], np.float32)
    w1 = scale * np.array([[1], [1], [-1], [-1]], np.float32)
    return SavedModel([(w0, np.zeros(4, np.float32)), (w1, np.zeros(1, np.float32))], "relu")


def random_net(hidden, n_out, *, seed=0, features=("x1", "x2"), meta=None) -> SavedModel:
    rng = np.random.default_rng(seed)
    sizes = [len(features), *hidden, n_out]
    params = [
        (
            rng.normal(0, 1 / np.sqrt(a), (a, b)).astype(np.float32),
            rng.normal(0, 0.3, b).astype(np.float32),
        )
        for a, b in pairwise(sizes)
    ]
    return SavedModel(params, "relu", tuple(features), meta or {})


def numpy_score(model_file: bytes, x: np.ndarray, y: np.ndarray, task: str) -> float:
    """Accuracy or R², recomputed from the file's arrays alone: float64, ReLU by hand."""
    with np.load(io.BytesIO(model_file), allow_pickle=False) as z:
        n = sum(1 for k in z.files if k.startswith("W"))
        layers = [(z[f"W{i}"].astype(np.float64), z[f"b{i}"].astype(np.float64)) for i in range(n)]
    h = x.astype(np.float64)
    for w, b in layers[:-1]:
        h = np.maximum(h @ w + b, 0.0)
    out = h @ layers[-1][0] + layers[-1][1]
    if task == "binary":
        return float(np.mean((out[:, 0] > 0) == (y == 1)))
    if task == "multiclass":
        return float(np.mean(out.argmax(axis=1) == y))
    return float(1 - np.sum((out[:, 0] - y) ** 2) / np.sum((y - y.mean()) ** 2))


def test_the_built_in_challenges():
    spiral, product, xor = (C.CHALLENGES[n] for n in ("spiral-3", "product", "xor-4"))
    assert (spiral.problem, spiral.n_classes, spiral.metric) == ("spiral", 3, "accuracy")
    assert (spiral.goal, spiral.max_relus) == (0.90, 128)
    assert (product.problem, product.metric, product.goal, product.max_relus) == (
        "product",
        "r2",
        0.95,
        32,
    )
    assert (xor.problem, xor.metric, xor.goal, xor.max_relus) == ("xor", "accuracy", 0.95, 4)
    seeds = [c.test_seed for c in C.CHALLENGES.values()]
    assert len(set(seeds)) == len(seeds)
    assert min(seeds) > FIELDS["seed"].hi  # no run may choose a challenge's seed
    assert "test_seed" not in spiral.public()


@pytest.mark.parametrize("name", list(C.CHALLENGES))
def test_the_challenge_points_are_its_own(name):
    challenge = C.CHALLENGES[name]
    x, y = C.challenge_points(challenge)
    assert x.shape == (challenge.n_test, 2) and y.shape == (challenge.n_test,)
    again = C.challenge_points(challenge)
    np.testing.assert_array_equal(x, again[0])  # fixed: the same points every time
    # Not the points of a run (the default seed, all of a run's points training points).
    run = make_dataset(
        challenge.problem, n_points=challenge.n_test, seed=0, train_ratio=0.9, classes=3
    )
    assert not np.isin(x[:, 0], run.x_train[:, 0]).any()


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("xor-4", xor_net()),
        ("xor-4", random_net((3,), 1, seed=1)),
        ("spiral-3", random_net((16, 8), 3, seed=2)),
        ("product", random_net((12,), 1, seed=3)),
        ("product", random_net((), 1, seed=4)),  # the linear model
    ],
)
def test_the_grade_matches_numpy_on_the_challenges_points(name, model):
    challenge = C.CHALLENGES[name]
    data = save_model(model)
    got = C.grade(challenge, load_model(data))
    x, y = C.challenge_points(challenge)
    want = numpy_score(data, x, y, challenge.task)
    # float32 against float64: a point on the boundary may flip, a sum may round.
    assert got.score == pytest.approx(want, abs=2 / challenge.n_test, rel=1e-4)
    with np.load(io.BytesIO(data)) as z:
        weights = [z[k] for k in z.files if k[0] in "Wb" and k[1:].isdigit()]
        units = [z[k].shape[1] for k in z.files if k[0] == "W" and k[1:].isdigit()]
    assert got.relus == sum(units[:-1])
    assert got.parameters == sum(w.size for w in weights)
    assert got.passed == (want >= challenge.goal and got.relus <= challenge.max_relus)


def test_a_hand_made_xor_with_4_relus_passes():
    got = C.grade(C.CHALLENGES["xor-4"], xor_net())
    assert got.passed and got.score == 1.0 and (got.relus, got.parameters) == (4, 17)
    assert "1.00 >= 0.95 on the challenge's points" in got.reason


def test_perfect_on_its_training_points_but_not_on_the_challenges_fails():
    from playground.live.engine import run as engine

    cfg = RunConfig(problem="xor", n_points=20, train_ratio=0.1, hidden=(4,), batch_size=0)
    run, _ = engine.train(engine.new_run(cfg), steps=200)
    assert len(run.data.x_train) == 2 and run.metrics.train_metric == 1.0
    got = C.grade(C.CHALLENGES["xor-4"], engine.saved_model(run))
    assert not got.passed and got.steps == 200
    assert got.reason == f"test accuracy {got.score:.2f} < 0.95 on the challenge's points"


def test_over_budget_models_fail_naming_the_numbers():
    challenge = C.custom_challenge(
        "xor", goal=0.5, max_relus=64, max_parameters=300, max_steps=1000
    )
    model = random_net((97,), 1, meta={"step": 5000})
    got = C.grade(challenge, model)
    assert not got.passed and (got.relus, got.parameters, got.steps) == (97, 389, 5000)
    assert "97 ReLUs over the 64 allowed" in got.reason
    assert "389 parameters over the 300 allowed" in got.reason
    assert "5,000 training steps over the 1,000 allowed" in got.reason
    unsaid = C.grade(challenge, random_net((4,), 1))
    assert "does not say how many steps" in unsaid.reason


@pytest.mark.parametrize(
    ("name", "model", "words"),
    [
        (
            "xor-4",
            random_net((4,), 1, meta={"problem": "circle", "task": "binary", "n_classes": 2}),
            "made for the problem Circle, not XOR",
        ),
        (
            "spiral-3",
            random_net((8,), 4, meta={"problem": "spiral", "task": "multiclass", "n_classes": 4}),
            "the model tells 4 classes apart; the challenge asks for 3 classes",
        ),
        (
            "product",
            random_net((4,), 1, meta={"task": "binary", "n_classes": 2}),
            "the model tells 2 classes apart; the challenge asks for a number (regression)",
        ),
        ("spiral-3", random_net((8,), 1), "the model has 1 output; this challenge needs 3"),
        (
            "xor-4",
            random_net((2,), 1, features=("x1", "x2", "x1x2")),
            "the model uses the input x₁·x₂; this challenge allows only x₁, x₂",
        ),
        (
            "xor-4",
            SavedModel(xor_net().params, "tanh"),
            "the model's hidden units are tanh, not ReLU",
        ),
    ],
)
def test_a_model_for_something_else_fails_with_a_reason(name, model, words):
    got = C.grade(C.CHALLENGES[name], model)
    assert not got.passed and words in got.reason, got.reason


def test_scores_are_shown_with_the_digits_that_tell_them_apart():
    assert C._compare(0.86, 0.9) == ("0.86", "0.90")
    assert C._compare(0.8996, 0.9) == ("0.8996", "0.9000")
    assert C._compare(0.997, 0.95) == ("0.997", "0.950")  # 0.997 is not shown as 1.00


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"problem": "formula"}, "built-in problems"),
        ({"goal": 1.5}, "goal's accuracy must lie in"),
        ({"max_relus": -1}, "ReLU budget"),
        ({"test_seed": 5}, "above every training seed"),
        ({"features": ("x3",)}, "unknown features"),
    ],
)
def test_a_custom_challenge_refuses_bad_settings(kwargs, words):
    settings = {"problem": "xor", "goal": 0.9, "max_relus": 8, **kwargs}
    with pytest.raises(PlaygroundError, match=words):
        C.custom_challenge(**settings)


def test_a_custom_challenge_from_settings_grades_like_a_built_in():
    challenge = C.custom_challenge("spiral", classes=4, goal=0.8, max_relus=16)
    assert (challenge.task, challenge.n_classes) == ("multiclass", 4)
    cfg = challenge.run_config(RunConfig(problem="xor", features=("x1", "x1x2")))
    assert (cfg.problem, cfg.classes, cfg.features) == ("spiral", 4, ("x1",))
    got = C.grade(challenge, random_net((8,), 4))
    assert not got.passed and "< 0.80 on the challenge's points" in got.reason


# A teacher's own challenge: a link's (or class exercise's) goal with a budget.


def teacher_lesson(**query):
    return lesson_from_query({"problem": "xor", "hidden": "4", **query})


def test_a_links_goal_and_budget_make_a_challenge_on_the_links_problem():
    lesson, notices = teacher_lesson(goal="accuracy:0.9", budget="relus:4,steps:3000")
    assert notices == []
    assert lesson_query(lesson)["budget"] == "relus:4,steps:3000"  # round trip
    assert lesson_from_query({"problem": "xor", **lesson_query(lesson)})[0] == lesson
    challenge = C.lesson_challenge(lesson)
    assert challenge.name.startswith(C.TEACHER_CHALLENGE) and challenge.name not in C.CHALLENGES
    assert (challenge.problem, challenge.goal, challenge.max_relus) == ("xor", 0.9, 4)
    assert (challenge.max_parameters, challenge.max_steps) == (None, 3000)
    assert challenge.test_seed > FIELDS["seed"].hi  # points no run trains on
    # The grade against NumPy on the challenge's own points.
    x, y = C.challenge_points(challenge)
    model = SavedModel(xor_net().params, "relu", meta={"step": 2000})
    got = C.grade(challenge, model)
    assert got.passed and got.score == pytest.approx(
        numpy_score(save_model(model), x, y, "binary"), abs=1e-6
    )
    # Each goal and budget is a challenge of its own (its own leaderboard in a class).
    other, _ = teacher_lesson(goal="accuracy:0.9", budget="relus:5")
    assert C.lesson_challenge(other).name != challenge.name


def test_a_teachers_budget_fails_models_over_it_naming_the_numbers():
    lesson, _ = teacher_lesson(goal="accuracy:0.9", budget="relus:3,parameters:100,steps:50")
    model = SavedModel(xor_net().params, "relu", meta={"step": 800})
    got = C.grade(C.lesson_challenge(lesson), model)
    assert not got.passed and "4 ReLUs over the 3 allowed" in got.reason, got.reason


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"budget": "relus:4"}, "needs a goal too"),
        ({"goal": "accuracy:0.9", "budget": "steps:100"}, "names its ReLUs"),
        ({"goal": "accuracy:0.9", "budget": "relus:four"}, "'four' is not a whole number"),
        ({"goal": "accuracy:0.9", "budget": "relus:-1"}, "between 0 and"),
        ({"goal": "accuracy:0.9", "budget": "neurons:4"}, "'neurons' is no limit"),
        ({"goal": "accuracy:0.9", "budget": "relus:4", "problem": "formula"}, "built-in"),
    ],
)
def test_a_bad_budget_in_a_link_is_ignored_with_a_notice(query, words):
    lesson, notices = teacher_lesson(**query)
    assert lesson.budget is None and C.lesson_challenge(lesson) is None
    assert any(n.startswith("Ignored budget: ") and words in n for n in notices), notices


def test_a_goal_that_is_not_how_the_problem_is_scored_makes_no_challenge():
    lesson, _ = lesson_from_query(
        {"problem": "product", "goal": "accuracy:0.9", "budget": "relus:8"}
    )
    with pytest.raises(PlaygroundError, match="scored by R²"):
        C.lesson_challenge(lesson)


# The command line (DESIGN.md, "Contracts"): in-process, and once as a real process.


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_challenge_list(capsys):
    code, out, _ = run_cli(capsys, "challenge", "list", "--json")
    listed = json.loads(out)["challenges"]
    assert code == 0 and [c["name"] for c in listed] == ["spiral-3", "product", "xor-4"]
    assert listed[2] | {"problem": "xor", "metric": "accuracy", "goal": 0.95} == listed[2]
    assert listed[2]["max_relus"] == 4
    code, out, _ = run_cli(capsys, "challenge", "list")
    assert code == 0 and len(out.splitlines()) == 3 and out.startswith("spiral-3: ")


def test_challenge_grade_prints_one_json_object(capsys, tmp_path):
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    good.write_bytes(save_model(xor_net()))
    bad.write_bytes(save_model(random_net((97,), 1)))
    code, out, _ = run_cli(capsys, "challenge", "grade", "xor-4", str(good), "--json")
    got = json.loads(out)
    assert code == 0 and got["passed"] is True and got["score"] == 1.0
    assert {"challenge", "passed", "score", "relus", "parameters", "steps", "reason"} <= set(got)
    # Failing the challenge is a grade, not an error: exit 0.
    code, out, _ = run_cli(capsys, "challenge", "grade", "xor-4", str(bad), "--json")
    got = json.loads(out)
    assert code == 0 and got["passed"] is False and "97 ReLUs over the 4 allowed" in got["reason"]


@pytest.mark.parametrize(
    ("what", "words"),
    [
        ("junk", "not a model file"),
        ("missing", "cannot read"),
        ("unknown", "unknown challenge 'nope'; choose one of spiral-3, product, xor-4"),
    ],
)
def test_challenge_grade_exits_2_with_one_line(capsys, tmp_path, what, words):
    path = tmp_path / "m.npz"
    if what == "junk":
        path.write_bytes(bytes(range(256)) * 4)
    name = "nope" if what == "unknown" else "xor-4"
    if what == "unknown":
        path.write_bytes(save_model(xor_net()))
    code, out, err = run_cli(capsys, "challenge", "grade", name, str(path), "--json")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and words in err


def test_a_junk_file_exits_2_as_a_process(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    done = subprocess.run(
        [sys.executable, "-m", "playground", "challenge", "grade", "xor-4", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: ")


# The Playground page: Submit grades the session's current weights.


def test_submit_on_the_playground_page_shows_the_grade():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    assert not at.exception
    at.selectbox(key="challenge_name").set_value("xor-4").run()
    at.button(key="challenge_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [e.value for e in at.error]
    # The default network is 8-8: 16 ReLUs, graded at step 0.
    assert any(
        t.startswith("Not passed: ") and "16 ReLUs over the 4 allowed" in t and "step 0" in t
        for t in shown
    ), shown
    at.selectbox(key="challenge_name").set_value("spiral-3").run()
    at.button(key="challenge_load").click().run()
    run = at.session_state["run"]
    assert (run.cfg.problem, run.cfg.classes, run.cfg.hidden) == ("spiral", 3, (8, 8))


def test_a_teacher_makes_a_challenge_in_the_panel_and_a_learner_submits_to_it():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240)
    at.query_params.update(problem="xor", hidden="4")
    at = at.run()
    at.selectbox(key="teacher_goal_metric").set_value("accuracy").run()
    at.toggle(key="teacher_challenge").set_value(True).run()
    at.number_input(key="teacher_max_relus").set_value(4).run()
    assert not at.exception, [e.value for e in at.exception]
    (link,) = [c.value for c in at.code if "budget=" in c.value]
    query = dict(parse_qsl(urlsplit(link).query))
    assert (query["goal"], query["budget"]) == ("accuracy:0.95", "relus:4")
    # The learner opens the link: the teacher's challenge comes first; Submit grades it.
    learner = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240)
    learner.query_params.update(query)
    learner = learner.run()
    picked = learner.selectbox(key="challenge_name")
    assert picked.value.startswith(C.TEACHER_CHALLENGE) and len(picked.options) == 4
    (box,) = [i.value for i in learner.info if "Your task" in i.value or "Goal" in i.value]
    assert "**A challenge:** at most 4 ReLUs; press Submit under Challenges" in box
    assert any("at most 4 ReLUs" in m.value for m in learner.markdown)
    learner.session_state["run"].load(xor_net())
    learner = learner.button(key="challenge_submit").click().run()
    assert not learner.exception, [e.value for e in learner.exception]
    assert any(s.value.startswith("Passed: ") for s in learner.success), [
        e.value for e in learner.error
    ]

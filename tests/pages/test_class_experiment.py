"""The class experiment and the class's leaderboard: the ranking on ties, an experiment's
values and each learner's exercise, its CSV and figure (``classroom.model``,
``figures.class_experiment``); then through Streamlit's AppTest, a teacher who starts an
experiment of three learning rates for three learners (one already in), locked against
the address bar and plotted on the wall; two learners who pass a challenge and the
leaderboards that order them; and the lessons' "Run this as a class experiment" links.

Expectations are written out by hand (the values, the order, the cells), not computed
with the code under test."""

import csv
import io
import json
import math

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from playground.classroom.host_store import class_store
from playground.classroom.model import (
    ClassInfo,
    Experiment,
    Tile,
    experiment_csv,
    experiment_tiles,
    knob_exercise,
    new_code,
    new_secret,
    rank_entries,
    secret_hash,
)
from playground.classroom.publish import PUBLISHER
from playground.core.config import from_query, lesson_from_query
from playground.core.errors import PlaygroundError
from playground.core.modelfile import SavedModel
from playground.figures.class_experiment import class_experiment_figure
from playground.ui import challenge_panel
from playground.ui.escape import escape_markdown
from tests.pages.test_class_page import CLASS_PAGE, button, class_page, no_exceptions, session

# -- the leaderboard's order -----------------------------------------------------------------


def entry(member, relus=4, parameters=17, steps=100, time=0.0, challenge="xor-4"):
    return dict(
        name=member.upper(),
        member=member,
        challenge=challenge,
        relus=relus,
        parameters=parameters,
        steps=steps,
        score=1.0,
        time=time,
    )


def test_rank_fewest_relus_then_parameters_then_steps_then_time():
    entries = [
        entry("late", time=9.0),
        entry("early", time=1.0),
        entry("more_steps", steps=500, time=0.0),
        entry("no_steps", steps=None, time=0.0),
        entry("more_params", parameters=20, steps=1, time=0.0),
        entry("more_relus", relus=5, parameters=1, steps=1, time=0.0),
        entry("fewest", relus=3, parameters=99, steps=9999, time=99.0),
    ]
    ranked = [e["member"] for e in rank_entries(entries)]
    assert ranked == [
        "fewest",  # 3 ReLUs beats anything with 4
        "early",  # 4 ReLUs, 17 parameters, 100 steps: the earlier first
        "late",
        "more_steps",  # 500 steps
        "no_steps",  # a model file without its steps ranks after every step count
        "more_params",  # 20 parameters, whatever its steps
        "more_relus",
    ]


def test_rank_keeps_each_learners_best_entry_only():
    entries = [
        entry("a", relus=8, time=1.0),
        entry("b", relus=6, time=2.0),
        entry("a", relus=4, time=3.0),  # a's best
        entry("a", relus=4, time=4.0),  # the same numbers later: not better
        entry("a", relus=9, time=5.0),
    ]
    assert [(e["member"], e["relus"], e["time"]) for e in rank_entries(entries)] == [
        ("a", 4, 3.0),
        ("b", 6, 2.0),
    ]
    # Equal in all four numbers: a fixed order, by member id.
    twins = [entry("z", time=1.0), entry("y", time=1.0)]
    assert [e["member"] for e in rank_entries(twins)] == ["y", "z"]
    assert rank_entries([]) == []


# -- an experiment's values and each learner's exercise --------------------------------------


def test_experiment_values_log_linear_and_whole():
    assert Experiment("learning_rate", 1e-3, 1e-1, 3, log=True).values() == [0.001, 0.01, 0.1]
    assert Experiment("learning_rate", 1e-4, 1.0, 5, log=True).values() == [
        0.0001,
        0.001,
        0.01,
        0.1,
        1.0,
    ]
    assert Experiment("reg_rate", 0.0, 0.3, 4).values() == [0.0, 0.1, 0.2, 0.3]
    assert Experiment("width", 2, 32, 5, log=True).values() == [2, 4, 8, 16, 32]
    assert Experiment("seed", 0, 4, 5).values() == [0, 1, 2, 3, 4]
    assert Experiment("depth", 3, 1, 3).values() == [3, 2, 1]  # downwards too
    e = Experiment("seed", 10, 12, 3)
    assert [e.value(i) for i in range(7)] == [10, 11, 12, 10, 11, 12, 10]  # past N: again
    assert Experiment("batch_size", 7, 7, 1).values() == [7]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        (dict(knob="momentum", start=0, stop=1, count=3), "no knob"),
        (dict(knob="reg_rate", start=0.0, stop=0.1, count=3, log=True), "above 0"),
        (dict(knob="learning_rate", start=1e-3, stop=50, count=3), "between"),
        (dict(knob="seed", start=0, stop=9, count=0), "1 to"),
        (dict(knob="width", start=1, stop=math.nan, count=3), "between"),
    ],
)
def test_an_experiment_that_cannot_be_says_why(kwargs, words):
    with pytest.raises(PlaygroundError, match=words):
        Experiment(**kwargs)


def test_experiment_json_round_trip():
    e = Experiment("width", 2, 64, 6, log=True)
    assert Experiment.from_json(json.loads(json.dumps(e.to_json()))) == e


def test_each_knob_becomes_the_learners_fixed_setting():
    base = {"problem": "spiral", "hidden": "8,8,8", "lr": "0.5", "hide": "problem"}

    def cfg_and_hide(q):
        return from_query(q)[0], lesson_from_query(q)[0].hide

    cfg, hide = cfg_and_hide(knob_exercise(base, "learning_rate", 0.003))
    assert (cfg.learning_rate, cfg.problem, cfg.hidden) == (0.003, "spiral", (8, 8, 8))
    assert hide == {"problem", "learning_rate"}
    cfg, hide = cfg_and_hide(knob_exercise(base, "width", 16))
    assert cfg.hidden == (16, 16, 16) and hide == {"problem", "hidden"}
    cfg, _ = cfg_and_hide(knob_exercise({}, "width", 5))  # the default net is 8, 8
    assert cfg.hidden == (5, 5)
    cfg, _ = cfg_and_hide(knob_exercise(base, "depth", 2))
    assert cfg.hidden == (8, 8)
    cfg, _ = cfg_and_hide(knob_exercise(base, "depth", 0))
    assert cfg.hidden == ()
    cfg, hide = cfg_and_hide(knob_exercise(base, "reg_rate", 0.03))
    assert (cfg.reg, cfg.reg_rate) == ("l2", 0.03) and hide == {"problem", "reg", "reg_rate"}
    cfg, _ = cfg_and_hide(knob_exercise(base, "batch_size", 32))
    assert cfg.batch_size == 32
    cfg, hide = cfg_and_hide(knob_exercise({"seed": "4"}, "seed", 17))
    assert cfg.seed == 17 and hide == {"seed"}


def tile(member, value, *, experiment="e1", knob="learning_rate", **kw):
    base = dict(name=member, status="playing", epoch=50, test_loss=0.5, score=0.9)
    return Tile(member=member, experiment=experiment, knob=knob, value=value, **{**base, **kw})


def test_the_experiments_csv_and_tiles():
    e = Experiment("learning_rate", 1e-3, 1e-1, 3, log=True, id="e1")
    tiles = [
        tile("b", 0.1, name="=HYPERLINK(1)", test_loss=math.nan, score=math.nan),
        tile("a", 0.001, name="Ann, <b>", epoch=300, test_loss=0.125, score=0.975),
        tile("old", 0.5, experiment="e0"),  # an earlier experiment's value
        tile("none", math.nan, experiment="", knob=""),  # not (yet) in it
    ]
    assert [t.member for t in experiment_tiles(tiles, e)] == ["b", "a"]
    rows = list(csv.reader(io.StringIO(experiment_csv(tiles, e))))
    assert rows == [
        ["name", "learning_rate", "epoch", "test_loss", "score", "metric"],
        ["Ann, <b>", "0.001", "300", "0.125", "0.975", "accuracy"],
        ["'=HYPERLINK(1)", "0.1", "50", "", "", "accuracy"],  # a formula stays text
    ]


def test_the_experiment_figure_names_every_point():
    fig = class_experiment_figure(
        ["Ann", "<b>Bo</b>", "Cy"],
        [1e-3, 1e-2, 1e-1],
        [0.5, 0.02, math.inf],
        [0.7, 0.99, math.nan],
        knob_label="learning rate",
        metric_label="accuracy",
        log_x=True,
    ).to_dict()
    loss, score = fig["data"]
    assert list(loss["x"]) == [0.001, 0.01, 0.1] and list(score["x"]) == [0.001, 0.01, 0.1]
    assert list(loss["y"]) == [0.5, 0.02, None] and list(score["y"]) == [0.7, 0.99, None]
    # Plotly reads tags in text: the name goes in escaped, and shows as typed.
    assert list(loss["text"]) == ["Ann", "&lt;b&gt;Bo&lt;/b&gt;", "Cy"]
    title = fig["layout"]["title"]["text"]
    assert title == "Class experiment: test loss and test accuracy against learning rate"
    assert fig["layout"]["xaxis"]["type"] == "log" and fig["layout"]["xaxis2"]["type"] == "log"
    assert fig["layout"]["yaxis"]["type"] == "log"  # losses 0.02..0.5: over a decade
    lin = class_experiment_figure(
        ["a"], [3], [0.2], [0.5], knob_label="seed", metric_label="R²", log_x=False
    ).to_dict()
    assert lin["layout"]["xaxis"]["type"] == "linear" and "R²" in lin["layout"]["title"]["text"]


# -- through the pages --------------------------------------------------------------------------


def experiment_figure(at: AppTest) -> dict | None:
    """The figure the wall's experiment plot sent in this run (None: none sent)."""
    for el in at.get("bidi_component"):
        data = json.loads(el.proto.json)
        if data.get("key") == "exp_plot" and "fig" in data:
            return json.loads(data["fig"])
    return None


def wait_for_figure(at: AppTest, points: int) -> dict:
    for _ in range(40):
        PUBLISHER.publish()  # the tiles, as the publisher makes them each second
        at.run()
        no_exceptions(at)
        fig = experiment_figure(at)
        if fig is not None and len(fig["data"][0]["x"]) == points:
            return fig
    raise AssertionError("the wall's experiment plot never showed the points")


def learner_value(at: AppTest) -> str:
    return next(t.value for t in at.text if t.value.startswith("Your value in"))


def test_a_class_experiment_gives_three_learners_three_locked_learning_rates():
    teacher = class_page()
    teacher = button(teacher, "Create a class").click().run()
    code = teacher.query_params["class"]
    # One learner is in before the experiment starts; two join after.
    ann = session(**{"class": code, "name": "Ann"}).run()
    assert ann.session_state["run"].cfg.learning_rate == 0.01  # the class's exercise
    assert not any(t.value.startswith("Your value") for t in ann.text)
    teacher.selectbox(key="exp_knob").set_value("learning_rate")
    teacher.number_input(key="exp_count").set_value(3)
    teacher = teacher.run()  # the range's defaults: 0.001 to 0.1, log-spaced
    teacher = button(teacher, "Start the experiment").click().run()
    no_exceptions(teacher)
    assert "Running: learning rate: 3 values log-spaced from 0.001 to 0.1." in [
        m.value for m in teacher.markdown
    ]
    PUBLISHER.publish(tiles=False)  # Ann's server learns of the new exercise
    ann = ann.run()  # her page sees it and runs again with it
    ann = ann.run()
    no_exceptions(ann)
    bo = session(**{"class": code, "name": "Bo"}).run()
    cy = session(**{"class": code, "name": "<i>Cy</i>"}).run()
    for at, value, text in ((ann, 0.001, "0.001"), (bo, 0.01, "0.01"), (cy, 0.1, "0.1")):
        no_exceptions(at)
        assert at.session_state["run"].cfg.learning_rate == value
        assert "learning_rate" in at.session_state["lesson"].hide
        assert learner_value(at) == f"Your value in the class experiment: learning rate {text}"
    # The address bar cannot change it.
    bo.query_params["learning_rate"] = "0.5"
    bo.query_params["lr"] = "0.5"
    bo = bo.run()
    no_exceptions(bo)
    assert bo.session_state["run"].cfg.learning_rate == 0.01
    assert any("Your class fixes Learning rate" in i.value for i in bo.info)
    # The wall plots the three, named, at their values.
    fig = wait_for_figure(teacher, 3)
    by_name = dict(zip(fig["data"][0]["text"], fig["data"][0]["x"], strict=True))
    assert by_name == {"Ann": 0.001, "Bo": 0.01, "&lt;i&gt;Cy&lt;/i&gt;": 0.1}
    assert fig["layout"]["xaxis"]["type"] == "log"
    assert "against learning rate" in fig["layout"]["title"]["text"]
    shown = " ".join(m.value for m in teacher.markdown)
    assert "Too small: slow; too large: diverges." in shown
    assert any(
        el.proto.label == "Download the experiment (CSV)" for el in teacher.get("download_button")
    )
    rows = list(csv.reader(io.StringIO(experiment_csv(class_store().tiles(code), _exp(code)))))
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("Ann", "0.001"),
        ("Bo", "0.01"),
        ("<i>Cy</i>", "0.1"),
    ]
    # Stopping it frees the knob: the class's exercise again.
    teacher = button(teacher, "Stop the experiment").click().run()
    no_exceptions(teacher)
    PUBLISHER.publish(tiles=False)
    cy = cy.run()
    cy = cy.run()
    no_exceptions(cy)
    assert cy.session_state["run"].cfg.learning_rate == 0.01
    assert "learning_rate" not in cy.session_state["lesson"].hide
    assert not any(t.value.startswith("Your value") for t in cy.text)


def _exp(code: str) -> Experiment:
    return Experiment.from_json(class_store().info(code).experiment)


def test_a_lessons_link_preselects_the_knob_and_the_class_starts_with_it():
    teacher = class_page(experiment="reg_rate")
    no_exceptions(teacher)
    assert teacher.toggle(key="class_experiment_on").value is True
    assert teacher.selectbox(key="exp_knob").value == "reg_rate"
    teacher.number_input(key="exp_count").set_value(2)
    teacher.number_input(key="exp_from_reg_rate").set_value(0.001)
    teacher.number_input(key="exp_to_reg_rate").set_value(0.1)
    teacher = button(teacher.run(), "Create a class").click().run()
    no_exceptions(teacher)
    code = teacher.query_params["class"]
    assert "experiment" not in teacher.query_params  # the teacher's link only
    first = session(**{"class": code, "name": "One"}).run()
    second = session(**{"class": code, "name": "Two"}).run()
    assert [
        (at.session_state["run"].cfg.reg, at.session_state["run"].cfg.reg_rate)
        for at in (first, second)
    ] == [("l2", 0.001), ("l2", 0.1)]
    assert learner_value(second) == "Your value in the class experiment: L2 strength 0.1"
    plain = class_page()  # the Class page without the lesson's link: no experiment
    assert plain.toggle(key="class_experiment_on").value is False


# -- the leaderboard through the pages ------------------------------------------------------


def xor_net(steps: int) -> SavedModel:
    """XOR with 4 ReLUs, by hand: x1·x2 > 0 exactly where |x1 + x2| > |x1 - x2|."""
    w0 = np.array([[1, -1, 1, -1], [1, -1, -1, 1]], np.float32)
    w1 = 3 * np.array([[1], [1], [-1], [-1]], np.float32)
    params = [(w0, np.zeros(4, np.float32)), (w1, np.zeros(1, np.float32))]
    return SavedModel(params, "relu", meta={"step": steps})


def submit_xor4(at: AppTest) -> AppTest:
    at.selectbox(key="challenge_name").set_value("xor-4").run()
    at = at.button(key="challenge_submit").click().run()
    no_exceptions(at)
    return at


def test_two_learners_pass_and_the_leaderboards_order_them():
    secret = new_secret()
    info = ClassInfo(new_code(), secret_hash(secret), {"hidden": "4"})
    class_store().create(info, 600)
    first = session(**{"class": info.code, "name": "<b>First</b>"}).run()
    second = session(**{"class": info.code, "name": "Second"}).run()
    # Both pass xor-4 with the same 4 ReLUs; the first submits first, but took more steps.
    first.session_state["run"].load(xor_net(steps=800))
    second.session_state["run"].load(xor_net(steps=200))
    first = submit_xor4(first)
    assert any(s.value.startswith("Passed: ") for s in first.success)
    assert any("On your class's leaderboard" in c.value for c in first.caption)
    second = submit_xor4(second)
    (board,) = [d.value for d in second.table]
    # Table cells are Markdown: the name is escaped, so it shows as typed.
    assert list(board["Name"]) == ["Second", escape_markdown("<b>First</b>")]
    assert list(board["Steps"]) == ["200", "800"]
    assert list(board.columns) == ["Rank", "Name", "ReLUs", "Parameters", "Steps", "Score"]
    # A learner who fails is not on it.
    third = session(**{"class": info.code, "name": "Third"}).run()
    third = submit_xor4(third)
    assert any(e.value.startswith("Not passed: ") for e in third.error)
    assert [e["name"] for e in class_store().leaderboard(info.code, "xor-4")] == [
        "Second",
        "<b>First</b>",
    ]
    # The wall: one table per challenge someone passed.
    teacher = class_page(**{"class": info.code, "teacher": secret})
    no_exceptions(teacher)
    assert any(s.value == "Leaderboard" for s in teacher.subheader)
    (wall_board,) = [d.value for d in teacher.table]
    assert list(wall_board["Name"]) == ["Second", escape_markdown("<b>First</b>")]
    assert list(wall_board["Rank"]) == [1, 2]
    assert "Submitted" in wall_board.columns


def test_the_teachers_own_challenge_reaches_the_class_and_its_leaderboard():
    # The teacher's Playground has 4 ReLUs; the class starts from it, the network fixed.
    teacher = session(hidden="4").run()
    teacher.switch_page(CLASS_PAGE)
    teacher = teacher.run()
    choices = {"class_hide": ["hidden"], "class_goal_metric": "accuracy"}
    choices |= {"class_challenge": True, "class_max_relus": 4, "class_max_steps": 1000}
    for key, value in choices.items():
        teacher.session_state[key] = value
    teacher = button(teacher.run(), "Create a class").click().run()
    no_exceptions(teacher)
    code, secret = teacher.query_params["class"], teacher.query_params["teacher"]
    learner = session(**{"class": code, "name": "Ada"}).run()
    no_exceptions(learner)
    picked = learner.selectbox(key="challenge_name")
    assert challenge_panel.challenge_title(picked.value) == "Your teacher's challenge"
    assert any("at most 4 ReLUs, 1,000 training steps" in m.value for m in learner.markdown)
    learner.session_state["run"].load(xor_net(steps=2000))
    learner = learner.button(key="challenge_submit").click().run()
    assert any("2,000 training steps over the 1,000 allowed" in e.value for e in learner.error), [
        e.value for e in learner.error
    ]
    learner.session_state["run"].load(xor_net(steps=500))
    learner = learner.button(key="challenge_submit").click().run()
    assert any(s.value.startswith("Passed: ") for s in learner.success)
    wall = class_page(**{"class": code, "teacher": secret})
    no_exceptions(wall)
    assert any(m.value == "**Your teacher's challenge**" for m in wall.markdown)
    assert any("at most 4 ReLUs" in c.value for c in wall.caption)
    (board,) = [d.value for d in wall.table]
    assert list(board["Name"]) == ["Ada"] and list(board["Steps"]) == ["500"]
    assert list(board["Score"]) == ["100.0%"]


def test_outside_a_class_grading_works_as_before_without_a_leaderboard():
    at = session(hidden="4").run()
    at.session_state["run"].load(xor_net(steps=50))
    at = submit_xor4(at)
    assert any(s.value.startswith("Passed: ") for s in at.success)
    assert not at.table and not any("leaderboard" in c.value for c in at.caption)


# -- the lessons' links ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "knob"),
    [("app_pages/lesson_sgd.py", "learning_rate"), ("app_pages/lesson_overfit.py", "reg_rate")],
)
def test_the_lessons_end_with_a_class_experiment_link(page, knob):
    at = session()
    at.switch_page(page)
    at = at.run()
    no_exceptions(at)
    links = [el.proto for el in at.get("page_link")]
    last = links[-1]
    assert last.label == "Run this as a class experiment"
    assert last.query_string == f"experiment={knob}" and not last.external
    assert last.page.endswith("class")  # the Class page's address

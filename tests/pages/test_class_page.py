"""The Class page and a learner in a class, through Streamlit's AppTest: creating a
class, joining with a name, the wall, a forged or missing teacher secret, locks that the
address bar cannot undo, a new exercise, a full class and the end of a class."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground.classroom.host_store import class_store
from playground.classroom.model import MAX_NAME
from playground.classroom.publish import PUBLISHER
from playground.core.presets import PRESETS
from playground.ui import run_state
from playground.ui.pages import CLASS_PAGE

TIMEOUT = 240
ROOT = Path(__file__).resolve().parents[2]


def session(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    return at


def class_page(**query) -> AppTest:
    at = session().run()
    at.switch_page(CLASS_PAGE)
    for k, v in query.items():  # the page's own link (switching pages drops the query)
        at.query_params[k] = v
    return at.run()


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def everything_shown(at: AppTest) -> str:
    """Every text the page shows, for "this name appears nowhere"."""
    parts = [e.value for e in (*at.markdown, *at.text, *at.caption, *at.code, *at.error)]
    parts += [e.value for e in (*at.info, *at.warning, *at.success, *at.subheader)]
    parts += [b.label for b in at.button]
    return "\n".join(str(p) for p in parts)


def create_class(**choices) -> tuple[AppTest, str, str]:
    at = class_page()
    for key, value in choices.items():
        at.session_state[key] = value
    at = button(at, "Create a class").click().run()
    no_exceptions(at)
    return at, at.query_params["class"], at.query_params["teacher"]


def wait_for(at: AppTest, done, seconds: float = 60) -> AppTest:
    """Rerun until ``done(at)``: the publisher brings tiles once a second."""
    end = time.monotonic() + seconds
    while not done(at):
        assert time.monotonic() < end, "gave up waiting"
        time.sleep(0.5)
        at.run()
    return at


def test_a_teacher_creates_a_class_and_sees_a_learner_join_by_name():
    teacher, code, secret = create_class()
    assert len(code) == 6 and len(secret) >= 32  # >= 128 random bits
    join = teacher.code[0].value
    assert join.endswith(f"/?class={code}") and secret not in join
    assert any(f"teacher={secret}" in c.value for c in teacher.code)
    assert "No learner has joined yet" in everything_shown(teacher)
    learner = session(**{"class": code, "name": "<b>Bob</b> **x**"}).run()
    no_exceptions(learner)
    assert f"Class {code} · you appear as: <b>Bob</b> **x**" in [t.value for t in learner.text]
    teacher = wait_for(teacher, lambda at: "<b>Bob</b> **x**" in [t.value for t in at.text])
    # The name is plain text on the wall (st.text): never HTML or Markdown.
    assert "1 learner" in everything_shown(teacher)


def test_a_long_name_is_cut_with_a_note_and_no_name_means_learner_n():
    _, code, _ = create_class()
    long = session(**{"class": code, "name": "A" * 40}).run()
    assert f"you appear as: {'A' * MAX_NAME}" in long.text[0].value
    assert any("cut to 24 characters" in w.value for w in long.warning)
    anon = session(**{"class": code}).run()
    assert "you appear as: Learner 2" in anon.text[0].value


@pytest.mark.parametrize("forged", ["", "x" * 32, "not-the-secret"])
def test_without_the_teachers_secret_the_page_shows_no_learner(forged):
    _, code, _ = create_class()
    # Kept: the publisher holds a learner weakly, and a collected session is a closed tab.
    _sam = session(**{"class": code, "name": "Secret Sam"}).run()
    query = {"class": code} | ({"teacher": forged} if forged else {})
    at = class_page(**query)
    no_exceptions(at)
    shown = everything_shown(at)
    assert "This link is not a teacher's link." in shown
    assert "Secret Sam" not in shown and code not in shown.replace(f"class={code}", "")
    assert not any(b.label == "Show on screen" for b in at.button)


def test_a_teacher_secret_of_an_ended_or_unknown_class_opens_nothing():
    at = class_page(teacher="whatever", **{"class": "ABCDEF"})
    assert "This link is not a teacher's link." in everything_shown(at)


def test_fixed_settings_hold_against_the_address_bar():
    # A class fixing the problem and the network: the preset "Fewest ReLUs that solve XOR".
    _, code, _ = create_class(class_start="fewest_relus")
    learner = session(**{"class": code, "name": "Lu"}).run()
    no_exceptions(learner)
    run = learner.session_state["run"]
    assert run.cfg.problem == "xor" and run.cfg.hidden == (1,)
    # The learner edits the address: another problem and activation.
    for key, value in {"problem": "spiral", "activation": "tanh"}.items():
        learner.query_params[key] = value
    learner = learner.run()
    no_exceptions(learner)
    run = learner.session_state["run"]
    assert run.cfg.problem == "xor" and run.cfg.activation == "relu"
    assert any("Your class fixes" in i.value for i in learner.info)


def test_a_sent_exercise_applies_by_itself_where_it_fixes_controls():
    teacher, code, _ = create_class()
    learner = session(**{"class": code, "name": "Eve"}).run()
    teacher.session_state["class_start"] = "linear_fails"  # fixes problem and noise
    button(teacher.run(), "Send to class").click().run()
    PUBLISHER.publish(tiles=False)
    learner = learner.run()  # the page sees the new version and runs again with it
    no_exceptions(learner)
    learner = learner.run()
    assert learner.session_state["run"].cfg.problem == "product"
    assert learner.session_state["lesson"].hide == {"problem", "noise"}


def test_a_sent_exercise_without_fixed_controls_is_offered_then_taken():
    _, code, _ = create_class()
    learner = session(**{"class": code, "name": "Eve"}).run()
    assert learner.session_state["run"].cfg.problem == "xor"
    # The product exercise without fixed controls: an offer, not an order.
    exercise = PRESETS["linear_fails"].query()
    del exercise["hide"]
    assert class_store().send_exercise(code, exercise) == 2
    learner = wait_for(
        learner, lambda at: any("changed the exercise" in i.value for i in at.info), 30
    )
    learner = button(learner, "Take the new exercise").click().run()
    no_exceptions(learner)
    learner = learner.run()
    assert learner.session_state["run"].cfg.problem == "product"


def test_a_full_class_says_so(monkeypatch, tmp_path):
    host = tmp_path / "host.toml"
    host.write_text("[limits]\nmax_class_size = 2\n")
    monkeypatch.setenv("PLAYGROUND_HOST_CONFIG", str(host))
    run_state.host_limits.cache_clear()
    try:
        _, code, _ = create_class()
        for name in ("A", "B"):
            session(**{"class": code, "name": name}).run()
        third = session(**{"class": code, "name": "C"}).run()
        no_exceptions(third)
        assert any("This class is full (2 learners)" in w.value for w in third.warning)
        assert len(class_store().roster(code)) == 2
    finally:
        run_state.host_limits.cache_clear()


def test_end_class_deletes_it_and_the_learner_is_told():
    teacher, code, _ = create_class()
    learner = session(**{"class": code, "name": "Zed"}).run()
    teacher = button(teacher, "End the class for everyone").click().run()
    no_exceptions(teacher)
    assert any(f"Class {code} has ended" in s.value for s in teacher.success)
    assert class_store().info(code) is None and class_store().roster(code) == {}
    PUBLISHER.publish(tiles=False)  # what the learner's server learns each half second
    learner = learner.run()
    assert any("Your class has ended" in i.value for i in learner.info)
    assert "class_member" not in learner.session_state


def test_projector_view_shows_only_the_learner_on_screen():
    teacher, code, _ = create_class()
    _pat = session(**{"class": code, "name": "Pat"}).run()  # kept: an open tab, as Sam's
    teacher = wait_for(teacher, lambda at: "Pat" in [t.value for t in at.text])
    teacher.toggle(key="projector").set_value(True)
    teacher = teacher.run()
    no_exceptions(teacher)
    shown = everything_shown(teacher)
    assert "No learner is on screen" in shown and "Pat" not in shown  # no wall, no links
    assert not teacher.code  # the links are hidden too
    member = next(iter(class_store().roster(code)))
    class_store().set_spotlight(code, member)
    teacher = teacher.run()
    assert any("On screen: Pat" in s.value for s in teacher.subheader)


def test_a_model_file_cannot_undo_what_the_class_fixed():
    """A model trained on spiral, loaded in a class that fixes XOR: the problem stays."""
    from playground.core.config import RunConfig
    from playground.core.modelfile import save_model
    from playground.live.session.live_run import LiveRun

    _, code, _ = create_class(class_start="fewest_relus")  # fixes problem, features, ...
    learner = session(**{"class": code, "name": "Mo"}).run()
    spiral = LiveRun(RunConfig(problem="spiral"))
    spiral.train_steps(8)
    learner.file_uploader(key="model_upload").set_value(
        ("spiral.npz", save_model(spiral.saved_model()), "application/octet-stream")
    )
    learner = learner.run()
    no_exceptions(learner)
    offers = [b.label for b in learner.button if b.label.startswith("Use the file's")]
    assert not [o for o in offers if "problem" in o]  # its layers are free, its problem not
    for offer in offers:
        learner = button(learner, offer).click().run()
        no_exceptions(learner)
    assert learner.session_state["run"].cfg.problem == "xor"

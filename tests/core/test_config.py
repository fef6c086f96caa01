"""The config table: query strings round-trip, hostile links give notices, never errors."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.core.config import DEFAULT, FIELDS, RunConfig, from_query, to_query, validate
from playground.core.errors import PlaygroundError


def test_defaults_give_an_empty_query():
    assert to_query(DEFAULT) == {}


def test_a_full_config_round_trips():
    cfg = RunConfig(
        problem="spiral",
        classes=4,
        noise=0.25,
        n_points=800,
        seed=9,
        hidden=(16, 4, 2),
        activation="tanh",
        init="normal",
        init_sigma=0.3,
        optimizer="momentum",
        learning_rate=0.003,
        batch_size=0,
        reg="l1",
        reg_rate=0.01,
        dropout=0.2,
        features=("x1", "x2", "sinx1"),
        show_test=True,
        discretize=True,
        formula="x1 > x2",
    )
    back, notices = from_query(to_query(cfg))
    assert back == cfg and notices == []


def test_hostile_query_params_become_notices():
    cfg, notices = from_query(
        {
            "problem": "<script>alert(1)</script>",
            "hidden": "8," * 50 + "99999",
            "learning_rate": "1e308",
            "noise": "nan",
            "seed": "-5",
            "features": "x1,os.system",
            "show_test": "maybe",
            "formula": "x" * 10_000,
            "utm_source": "mail",
        }
    )
    assert cfg.problem == DEFAULT.problem
    assert len(cfg.hidden) == 8 and all(1 <= w <= 1024 for w in cfg.hidden)
    assert cfg.learning_rate == 10.0 and cfg.seed == 0 and cfg.noise == DEFAULT.noise
    assert cfg.features == DEFAULT.features and cfg.formula == DEFAULT.formula
    joined = " ".join(notices)
    for word in ("Problem", "Learning rate", "Noise", "Seed", "Input features", "Show test data"):
        assert word in joined
    assert "Formula: 10,000 characters is too long (at most 500)" in joined
    # Plain words and readable numbers: no field names, no 2.14748e+09.
    assert "learning_rate" not in joined and "show_test" not in joined
    assert "Changed: Seed must lie between 0 and 2,147,483,647: -5 became 0" in notices


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*FIELDS, "x"]), st.text(max_size=40), max_size=8))
def test_any_query_gives_a_valid_config(params):
    cfg, _ = from_query(params)
    again, notices = validate(cfg)
    assert again == cfg and notices == []


def test_strict_validation_refuses_out_of_range():
    with pytest.raises(PlaygroundError, match="Learning rate must lie between 1e-5 and 10; 100"):
        validate(RunConfig(learning_rate=100.0), strict=True)
    with pytest.raises(PlaygroundError, match="Activation"):
        validate(RunConfig(activation="swish"), strict=True)


def test_links_take_the_command_lines_names_and_say_what_they_changed():
    """points=, lr=, sigma=, width= and depth= are what people type after using the CLI:
    they apply (with a note when out of range) instead of vanishing without a word."""
    cfg, notices = from_query({"points": "99999999", "lr": "0.003", "width": "32", "depth": "3"})
    assert cfg.n_points == 20_000 and cfg.learning_rate == 0.003 and cfg.hidden == (32, 32, 32)
    assert notices == ["Changed: Points must lie between 20 and 20,000: 99,999,999 became 20,000"]
    cfg, notices = from_query({"depth": "40", "hidden": "4"})
    assert cfg.hidden == (4,) and notices == []  # an exact hidden list wins
    cfg, notices = from_query({"depth": "40"})
    assert cfg.hidden == (8,) * 8 and "depth must lie between 0 and 8" in notices[0]
    cfg, notices = from_query({"width": "many"})
    assert cfg.hidden == DEFAULT.hidden and "not whole numbers" in notices[0]


def test_every_field_has_a_label_and_numbers_read_plainly():
    from playground.core.config import number_text

    assert all(f.label and "_" not in f.label for f in FIELDS.values())
    assert [number_text(v) for v in (2**31 - 1, 1e-5, 0.3, 1e308, 20.0)] == [
        "2,147,483,647", "1e-5", "0.3", "1e308", "20",
    ]  # fmt: skip


# -- a teacher's link ------------------------------------------------------------------


def test_a_teacher_link_hides_settings_and_may_start_playing():
    from playground.core.config import Lesson, lesson_from_query, lesson_query

    lesson, notices = lesson_from_query({"hide": "learning_rate, activation", "play": "1"})
    assert lesson == Lesson(frozenset({"learning_rate", "activation"}), True) and not notices
    assert lesson_from_query(lesson_query(lesson)) == (lesson, [])
    assert lesson_query(Lesson()) == {}


def test_a_hostile_teacher_link_is_ignored_with_a_note():
    from playground.core.config import NO_LESSON, lesson_from_query

    lesson, notices = lesson_from_query(
        {"hide": "__class__,learning_rate,x" * 1, "play": "maybe", "other": "1"}
    )
    assert lesson.hide == {"learning_rate"} and not lesson.play
    assert any("no setting called '__class__'" in n for n in notices)
    assert any("play" in n for n in notices)
    too_long, notices = lesson_from_query({"hide": "a," * 400})
    assert too_long == NO_LESSON and "too long" in notices[0]


def test_a_teacher_link_carries_a_task_and_a_goal():
    from playground.core.config import MAX_TEXT, Goal, Lesson, lesson_from_query, lesson_query

    lesson = Lesson(task="Fewest ReLUs: reach 95%", goal=Goal("accuracy", 0.95))
    query = lesson_query(lesson)
    assert query == {"task": "Fewest ReLUs: reach 95%", "goal": "accuracy:0.95"}
    assert lesson_from_query(query) == (lesson, [])
    assert Goal("r2", 0.9).words() == "test R² of at least 0.9"
    assert Goal("accuracy", 0.95).words() == "test accuracy of at least 95%"
    for bad in ("accuracy", "loss:0.1", "accuracy:1.5", "accuracy:nan", "r2:x"):
        got, notices = lesson_from_query({"goal": bad})
        assert got.goal is None and notices[0].startswith("Ignored goal"), bad
    got, notices = lesson_from_query({"task": "x" * (MAX_TEXT + 1)})
    assert got.task == "" and "too long" in notices[0]


def test_every_classroom_preset_is_a_valid_link():
    from playground.core.config import from_query, lesson_from_query
    from playground.core.presets import PRESETS

    for preset in PRESETS.values():
        query = preset.query()
        cfg, notices = from_query(query)
        assert not notices and cfg == preset.cfg
        assert lesson_from_query(query) == (preset.lesson, [])
        assert preset.lesson.hide <= set(FIELDS)

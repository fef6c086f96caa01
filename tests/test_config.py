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
    for word in ("problem", "learning_rate", "noise", "seed", "features", "show_test", "formula"):
        assert word in joined


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*FIELDS, "x"]), st.text(max_size=40), max_size=8))
def test_any_query_gives_a_valid_config(params):
    cfg, _ = from_query(params)
    again, notices = validate(cfg)
    assert again == cfg and notices == []


def test_strict_validation_refuses_out_of_range():
    with pytest.raises(PlaygroundError, match="learning_rate"):
        validate(RunConfig(learning_rate=100.0), strict=True)
    with pytest.raises(PlaygroundError, match="activation"):
        validate(RunConfig(activation="swish"), strict=True)

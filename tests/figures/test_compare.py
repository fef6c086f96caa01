"""Comparing two runs (issue 22): "Pin this run" keeps one; the page then draws both
boundaries, both loss curves (the runs' own histories) and the settings that differ."""

import json

import numpy as np

from playground.core.config import RunConfig, differing_fields
from playground.figures.compare import compare_loss_figure
from playground.live.session.live_run import LiveRun
from tests.pages.test_lesson_pages import array as values


def test_the_loss_chart_holds_both_histories():
    a, b = LiveRun(RunConfig(speed="fast")), LiveRun(RunConfig(learning_rate=0.1, speed="fast"))
    for r in (a, b):
        for _ in range(5):
            r.train_steps(25)
    hist = [
        (h.array("epoch"), h.array("train_loss"), h.array("test_loss"))
        for h in (a.history, b.history)
    ]
    fig = compare_loss_figure(hist).to_dict()
    by_name = {t["name"]: t for t in fig["data"]}
    np.testing.assert_array_equal(values(by_name["pinned run: test loss"]["y"]), hist[0][2])
    np.testing.assert_array_equal(values(by_name["this run: train loss"]["y"]), hist[1][1])
    np.testing.assert_array_equal(values(by_name["this run: test loss"]["x"]), hist[1][0])


def test_differing_fields_names_only_what_differs():
    a = RunConfig()
    b = a.replace(learning_rate=0.1, schedule="cosine")
    assert differing_fields(a, b) == ["learning_rate", "schedule"]
    assert differing_fields(a, a) == []


def _charts(at) -> dict[str, dict]:
    return {el.proto.id: json.loads(el.proto.spec) for el in at.get("plotly_chart")}


def _html(at) -> str:
    return " ".join(el.proto.body for el in at.main if getattr(el, "type", "") == "html")


def test_pin_this_run_then_compare_with_the_next():
    from tests.pages.test_playground_page import app, button, no_exceptions

    at = app(problem="circle", noise="0.2", hidden="4,3")
    for _ in range(3):
        button(at, "Step").click().run()
    button(at, "Pin this run").click().run()
    no_exceptions(at)
    pinned = at.session_state["pinned"]
    assert pinned.run.step == 3 * pinned.run.steps_per_epoch
    # The next run: the same first weights with another learning rate.
    at.select_slider(key="cfg_learning_rate").set_value(0.1).run()
    button(at, "Restart from the same weights").click().run()
    for _ in range(2):
        button(at, "Step").click().run()
    no_exceptions(at)
    run = at.session_state["run"]
    charts = list(_charts(at).values())
    titles = [c["layout"].get("title", {}).get("text", "") for c in charts]
    assert "Pinned run" in titles and "This run" in titles
    loss = next(c for c in charts if "Loss: the pinned run" in str(c["layout"].get("title")))
    by_name = {t["name"]: t for t in loss["data"]}
    np.testing.assert_allclose(
        values(by_name["pinned run: test loss"]["y"]), pinned.history.array("test_loss")
    )
    np.testing.assert_allclose(
        values(by_name["this run: test loss"]["y"]), run.history.array("test_loss")
    )
    table = _html(at)
    assert "Settings that differ" in table and "Learning rate" in table
    assert "<td>0.01</td><td>0.1</td>" in table
    button(at, "Unpin").click().run()
    assert "pinned" not in at.session_state and not _html(at).count("Settings that differ")

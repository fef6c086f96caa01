"""The load-test client: real sessions against a real server, and its protocol details.

One ``streamlit run`` server for the module; three learners play on it for 15 s. No
assertion on speed: the machine is shared, so only "pictures came, epochs advanced".
"""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from playground.loadtest.drive import (
    SessionResult,
    WallResult,
    _drive,
    class_query,
    drive_session,
    percentile,
    run_sessions,
)
from playground.loadtest.protocol import (
    StreamSession,
    WallRefresh,
    epoch_of,
    picture_stream,
    widget_state,
)
from playground.loadtest.report import main, summarize
from playground.loadtest.server import Server, ServerMonitor, free_port, rss_slope

KEYS = {
    "sessions",
    "seconds",
    "min_pictures_per_s",
    "median_pictures_per_s",
    "min_epochs_per_s",
    "median_epochs_per_s",
    "server_cpu_cores",
    "server_rss_mb",
    "server_rss_max_mb",
    "errors",
    "error_messages",
    "upstreams",
    "per_session",
    "min_p10_pictures_per_s",
    "max_gap_s",
    "max_first_picture_s",
}
WALL_KEYS = {
    "class",
    "class_code",
    "wall_refreshes",
    "wall_tiles_last",
    "wall_tile_age_p95_s",
    "wall_tile_age_max_s",
}


@pytest.fixture(scope="module")
def server():
    with Server() as srv:
        yield srv


WINDOW_S = 4  # the common window the three learners play through


def test_three_learners_play_and_get_pictures(server):
    monitor = ServerMonitor(server.pid)
    results = run_sessions(server.url, 3, WINDOW_S, monitor=monitor)
    assert [r.index for r in results] == [0, 1, 2]
    for r in results:
        assert r.errors == [], r.errors
        assert r.pictures > 0
        assert len(r.picture_times) == r.pictures
        assert r.picture_times == sorted(r.picture_times)
        assert r.first_epoch is not None and r.last_epoch > r.first_epoch
        assert r.seconds >= WINDOW_S - 0.5  # every session plays through the common window
        assert r.pictures_per_s > 0 and r.epochs_per_s > 0
        # The pictures came over the frames stream: the page script did not rerun.
        assert r.fragment_runs == 0
        assert r.upstream is None  # no nginx in front
    summary = summarize(results, seconds=WINDOW_S, server_pid=server.pid, cpu=monitor.result())
    assert summary.keys() >= KEYS
    assert summary["errors"] == 0 and summary["error_messages"] == []
    assert summary["upstreams"] == {"(none)": 3}
    assert summary["server_cpu_cores"] > 0
    assert summary["server_rss_max_mb"] >= summary["server_rss_mb"] > 50
    assert 0 < summary["min_pictures_per_s"] <= summary["median_pictures_per_s"]
    assert len(summary["per_session"]) == 3
    # Every learner saw a first picture after opening the page, and its stalls are timed.
    assert summary["first_pictures"] == 3 and summary["max_first_picture_s"] > 0
    for r, small in zip(results, summary["per_session"], strict=True):
        assert r.opened_at < r.played_at < r.picture_times[0]
        assert small["first_picture_s"] == round(r.picture_times[0] - r.opened_at, 2)
        assert 0 < small["longest_gap_s"] <= summary["max_gap_s"]


def test_gap_and_worst_second_from_arrival_times():
    r = SessionResult(index=0, opened_at=0.0, played_at=1.0, seconds=5.0)
    # 10 pictures a second for 4 s, then a 1.5 s stall with none.
    r.picture_times = [1.5 + k / 10 for k in range(40)]
    r.pictures = len(r.picture_times)
    assert r.first_picture_s == 1.5
    assert r.longest_gap_s == pytest.approx(0.1)
    assert r.p10_pictures_per_s == 10
    r.picture_times.append(7.0)  # a late one after a stall
    assert r.longest_gap_s == pytest.approx(7.0 - 5.4)
    assert r.longest_gap_starts_s == pytest.approx(5.4)  # by arrival times: no taken times
    # Taken by the server 0.1 s before each arrived: the stall began 4.8 s after the
    # page opened (the picture taken at 5.3).
    r.opened_at = 0.5
    r.taken_times = [t - 0.1 for t in r.picture_times]
    assert r.longest_gap_s == pytest.approx(7.0 - 5.4)
    assert r.longest_gap_starts_s == pytest.approx(5.3 - 0.5)


def test_json_line_of_the_command(server, capsys):
    assert main(["--url", server.url, "--sessions", "1,2", "--seconds", "2", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    first, data = json.loads(lines[-2]), json.loads(lines[-1])  # a sweep: one line a size
    assert first["sessions"] == 1 and data["sessions"] == 2 and data.keys() >= KEYS
    assert data.keys() >= KEYS
    assert data["errors"] == 0, data["error_messages"]
    assert data["per_session"][0]["pictures"] > 0
    # A server it did not start: nothing to say about its CPU and memory.
    assert data["server_cpu_cores"] is None and data["server_rss_mb"] is None


def test_a_class_with_the_teachers_wall(server, capsys):
    """``--class``: a teacher creates a class on the Class page, both learners join it
    and play, and the teacher's wall shows both tiles, with their ages."""
    argv = ["--url", server.url, "--sessions", "2", "--seconds", "5", "--class", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert data.keys() >= KEYS | WALL_KEYS
    assert data["errors"] == 0, data["error_messages"]
    assert data["class"] is True and data["class_code"]
    assert data["wall_tiles_last"] == 2
    assert data["wall_refreshes"] > 0
    for key in ("wall_tile_age_p95_s", "wall_tile_age_max_s"):
        assert math.isfinite(data[key]) and data[key] >= 0, (key, data[key])
    assert data["wall_tile_age_max_s"] >= data["wall_tile_age_p95_s"]
    assert all(s["pictures"] > 0 for s in data["per_session"])


def test_a_learner_not_in_the_class_is_an_error(server):
    """A join link whose class the server does not know: the learner is on their own,
    which the load test counts as an error (its numbers would not be a class's)."""
    result = asyncio.run(
        _drive(server.url, 1, index=0, query="class=ZZZZZZ&name=Ann", class_code="ZZZZZZ")
    )
    assert result.pictures == 0 and len(result.errors) == 1, result.errors
    assert result.errors[0].startswith("RuntimeError: not in class ZZZZZZ: This class has ended")


def test_join_links_and_the_walls_numbers():
    assert class_query("AB12CD", 0) == "class=AB12CD&name=Learner%201"
    assert class_query("AB12CD", 4, "?speed=fast") == "class=AB12CD&name=Learner%205&speed=fast"
    assert percentile([], 95) is None
    assert percentile([float(k) for k in range(1, 101)], 95) == 95.0
    assert percentile([0.3, 0.1, 0.2], 95) == 0.3
    wall = WallResult(code="AB12CD")
    assert wall.summary()["wall_refreshes"] == 0 and wall.summary()["wall_tiles_last"] is None
    wall.refreshes = [WallRefresh(10.0, [0.2, 0.9]), WallRefresh(11.5, [0.4, 0.1, 0.3])]
    got = wall.summary()
    assert got["wall_refreshes"] == 2 and got["wall_tiles_last"] == 3
    assert got["wall_tile_age_max_s"] == 0.9 and got["wall_tile_age_p95_s"] == 0.9
    assert got["wall_refresh_gap_max_s"] == 1.5
    # Without a class the wall's entries are there, empty.
    summary = summarize([SessionResult(index=0)], seconds=1)
    assert summary["class"] is False and summary["wall_refreshes"] == 0


def test_no_server_is_an_error_not_a_crash():
    result = asyncio.run(drive_session(f"http://127.0.0.1:{free_port()}", 1))
    assert result.pictures == 0 and result.seconds == 0
    assert len(result.errors) == 1 and "Connection" in result.errors[0]
    summary = summarize([result], seconds=1)
    assert summary["errors"] == 1 and summary["min_pictures_per_s"] == 0


# -- protocol details, no server ------------------------------------------------------------------
def _delta(element: Element, path: tuple[int, ...] = (0, 1)) -> ForwardMsg:
    msg = ForwardMsg()
    msg.delta.new_element.CopyFrom(element)
    msg.metadata.delta_path.extend(path)
    return msg


def _epoch_metric(body: str) -> Element:
    el = Element()
    el.metric.label = "Epoch"
    el.metric.body = body
    return el


def _finished(session: StreamSession, *, fragment: str = "") -> None:
    """A run as the server sends it: new_session ... script_finished."""
    start, end = ForwardMsg(), ForwardMsg()
    start.new_session.page_script_hash = "page"
    end.script_finished = (
        ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
        if fragment
        else ForwardMsg.FINISHED_SUCCESSFULLY
    )
    for msg in (start, end):
        msg.metadata.run.script_run_id = "run"
        if fragment:
            msg.metadata.run.fragment_ids.append(fragment)
    session.handle(start.SerializeToString())
    session.handle(end.SerializeToString())


def test_cached_messages_are_resolved_and_expire():
    """Streamlit sends a big element once; later, only its hash (``ref_hash``) for
    elements the client listed in ``cached_message_hashes``."""
    session = StreamSession("http://127.0.0.1:1")
    big = _delta(_epoch_metric("1,234"))
    big.hash, big.metadata.cacheable = "h1", True
    session.handle(big.SerializeToString())
    assert session.epoch == 1234 and list(session.cache) == ["h1"]

    session.epoch = None
    ref = ForwardMsg(ref_hash="h1")
    ref.metadata.delta_path.extend([0, 2])
    session.handle(ref.SerializeToString())
    assert session.epoch == 1234 and session.errors == []

    for _ in range(3):  # unused for more than max_cached_message_age (2) runs: gone
        _finished(session)
    assert session.cache == {}
    session.handle(ref.SerializeToString())
    assert session.errors == ["forward message cache miss: h1"]


def test_fragment_runs_age_only_their_own_cached_messages():
    session = StreamSession("http://127.0.0.1:1")
    msg = _delta(_epoch_metric("1"))
    msg.hash, msg.metadata.cacheable = "page-element", True
    session.handle(msg.SerializeToString())
    for _ in range(5):
        _finished(session, fragment="frag")
    assert "page-element" in session.cache


def test_page_errors_are_recorded():
    session = StreamSession("http://127.0.0.1:1")
    missing = ForwardMsg()
    missing.page_not_found.page_name = "nope"
    session.handle(missing.SerializeToString())
    el = Element()
    el.exception.type, el.exception.message = "ValueError", "bad width"
    el.exception.stack_trace.extend(
        ['File "/app/app_pages/playground.py", line 51, in live', "    live()"]
    )
    session.handle(_delta(el).SerializeToString())
    assert session.errors == [
        "Page not found: 'nope'",
        "exception in the page: ValueError: bad width (at app_pages/playground.py:51)",
    ]
    result = SessionResult(index=0, errors=["a", "b", "a"])
    assert result.small()["errors"] == ["a (x2)", "b"]


def test_the_walls_refreshes_and_the_pages_address():
    """The Class page's wall: its head opens a refresh, each tile's caption adds its
    age, and a run that finished adds the refresh (a run cut short adds none)."""
    session = StreamSession("http://127.0.0.1:1/app", page="class", query="a=1")
    assert session.page_url == "http://127.0.0.1:1/app/class?a=1"

    def markdown(body: str) -> bytes:
        el = Element()
        el.markdown.body = body
        return _delta(el).SerializeToString()

    def run(*bodies: str, status=ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY) -> None:
        start, end = ForwardMsg(), ForwardMsg()
        start.new_session.page_script_hash = "main"
        end.script_finished = status
        for msg in (start, end):
            msg.metadata.run.fragment_ids.append("wall")
        session.handle(start.SerializeToString())
        for body in bodies:
            session.handle(markdown(body))
        session.handle(end.SerializeToString())

    tile = "epoch 1,200 · test loss 0.1 · test accuracy 98%  \n2 → 8 → 1 · seen {} s ago"
    run("**2 learners**: 2 playing", tile.format("0.4"), tile.format("1.3"))
    run("**1 learner**: 1 playing", tile.format("0.2"), status=ForwardMsg.FINISHED_EARLY_FOR_RERUN)
    run(tile.format("9.9"))  # no head: not a wall
    run("**0 learners**")
    assert [r.ages for r in session.wall_refreshes] == [[0.4, 1.3], []]

    # A learner's page says which class it is in.
    el = Element()
    el.text.body = "Class AB12CD · you appear as: Ann"
    session.handle(_delta(el).SerializeToString())
    assert session.in_class == "AB12CD"

    # st.navigation names the page it ran: the next rerun asks for it by its hash.
    nav = ForwardMsg()
    nav.navigation.page_script_hash = "class-page"
    session.handle(nav.SerializeToString())
    assert session.page_script_hash == "class-page"


def test_a_full_run_whose_end_never_came():
    """Streamlit drops the last events of a run when a fragment's rerun starts a new
    ScriptRunner before they were sent: the fragment's run tells the full run is over."""
    session = StreamSession("http://127.0.0.1:1")
    start = ForwardMsg()
    start.new_session.page_script_hash = "page"
    start.metadata.run.script_run_id = "full"
    session.handle(start.SerializeToString())
    play = Element()
    play.button.id, play.button.label = "play-id", "Play"
    session.handle(_delta(play).SerializeToString())
    assert session.full_runs_finished == 0
    _finished(session, fragment="watch")  # no script_finished of the full run came
    assert session.full_runs_finished == 1 and session.full_runs_unfinished == 1
    assert session.play_id == "play-id"
    _finished(session, fragment="watch")
    _finished(session)
    assert session.full_runs_finished == 2 and session.full_runs_unfinished == 1


def test_play_button_and_widget_values():
    session = StreamSession("http://127.0.0.1:1")
    play = Element()
    play.button.id, play.button.label = "play-id", "Play"
    box = Element()
    box.selectbox.id = "problem"
    box.selectbox.options.extend(["Circle", "XOR"])
    box.selectbox.default = 1
    session.handle(_delta(play).SerializeToString())
    session.handle(_delta(box).SerializeToString())
    assert session.play_id == "play-id" and session.playing is False
    assert session.widgets["problem"].string_value == "XOR"
    assert "play-id" not in session.widgets  # buttons carry a trigger only when pressed

    slider = Element()
    slider.slider.id = "lr"
    slider.slider.options.extend(["0.01", "0.03", "0.1"])
    slider.slider.default.append(1)
    assert list(widget_state(slider).string_array_value.data) == ["0.03"]
    slider.slider.raw_value.append("0.1")
    slider.slider.set_value = True
    assert list(widget_state(slider).string_array_value.data) == ["0.1"]

    number = Element()
    number.number_input.id = "seed"
    number.number_input.default = 7
    assert widget_state(number).int_value == 7


def test_pictures_come_from_the_boundary_frames():
    session = StreamSession("http://127.0.0.1:1")
    frames = [
        {"seq": s, "t": 0.1 * s, "label": f"epoch {s * 1000:,}", "arrays": {}} for s in (4, 5)
    ]
    for el_json in (
        {"key": "loss", "spec": "x"},  # other plots carry no pictures
        {"key": "boundary", "spec": "x"},  # the picture did not change: no frames
        {"key": "boundary", "spec": "x", "frames": frames},
    ):
        el = Element()
        el.bidi_component.component_name = "playground.live_plot"
        el.bidi_component.json = json.dumps(el_json)
        session.handle(_delta(el).SerializeToString())
    session._payloads.put_nowait(None)  # the stream closed

    async def collect():
        return [p async for p in picture_stream(session)]

    pictures = asyncio.run(collect())
    assert [(p.seq, p.epoch) for p in pictures] == [(4, 4000.0), (5, 5000.0)]
    assert epoch_of("epoch 12,345") == 12345 and epoch_of("—") is None


def test_rates_of_a_result():
    r = SessionResult(index=0, pictures=50, first_epoch=100.0, last_epoch=2100.0, seconds=10.0)
    assert r.pictures_per_s == 5.0 and r.epochs_per_s == 200.0
    assert SessionResult(index=1).pictures_per_s == 0.0
    assert SessionResult(index=1).epochs_per_s == 0.0


def test_the_rss_slope_over_the_window_and_its_second_half():
    """Memory that grew and then settled: the whole window's slope says it grew, the
    second half's that it stopped."""
    rising = [(float(t), 1000 + t / 6) for t in range(300)]  # 10 MB a minute
    settled = [(float(t), 1050.0) for t in range(300, 600)]
    assert rss_slope(rising) == pytest.approx(10)
    assert rss_slope(rising + settled) > 4
    assert rss_slope(rising + settled, last=0.5) == pytest.approx(0, abs=1e-9)
    assert rss_slope(rising[:9]) is None  # too few samples to say

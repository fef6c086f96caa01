"""The frames stream (``live/server/stream.py``): only the session's own page may read its
run's pictures, and what it sends is what the figures' builders pack."""

import json
import time
import zlib
from types import SimpleNamespace

import pytest
from websockets.exceptions import InvalidStatus

from playground.core.config import RunConfig
from playground.figures.protocol import STATUS_KEYS, decode_message, frames_for
from playground.figures.wire import decode_array
from playground.live.engine.limits import HostLimits
from playground.live.server import stream
from playground.live.server.frames import BoundaryView, PictureEncoder
from playground.live.server.scheduler import Scheduler, SessionTrainer
from playground.live.session.live_run import LiveRun


def session(scheduler: Scheduler, name: str, seed: int = 0, hidden=(8, 8)):
    """A session as the page sets it up: a run, its trainer and its stream link."""
    live = LiveRun(RunConfig(problem="xor", hidden=hidden, batch_size=10, seed=seed))
    trainer = SessionTrainer(scheduler, name)
    link = stream.StreamLink(name, scheduler)
    view = BoundaryView(n_layers=2, discretize=False)
    encode = PictureEncoder(live.data, view)

    def resume():
        return trainer.start(live, snapshot_grid=16, encode=encode)

    link.live, link.view, link.playing, link.resume = live, view, True, resume
    resume()
    return live, trainer, link


def messages(ws, until, timeout: float = 120.0):
    """Messages from the socket until ``until(all so far)`` holds."""
    got, end = [], time.monotonic() + timeout
    while not until(got):
        assert time.monotonic() < end, f"gave up after {len(got)} messages"
        got.append(decode_message(ws.recv(timeout=timeout)))  # as the schema has it
    return got


def frames_of(got, key="boundary"):
    return [f for m in got for f in frames_for(m, key)]


@pytest.mark.parametrize(
    "query, origin",
    [
        ("token=not-a-token", ""),  # a guessed token
        ("", ""),  # none at all
        (None, "http://evil.example"),  # a page of another site
        (None, None),  # no Origin header
    ],
)
def test_a_socket_without_its_sessions_token_and_origin_is_refused(client, query, origin):
    scheduler = Scheduler(HostLimits(workers=1))
    _, trainer, link = session(scheduler, "me")
    try:
        q = query if query is not None else f"token={link.token}"
        # Refused before the handshake completes: the server answers HTTP 403.
        with (
            pytest.raises(InvalidStatus) as err,
            client.websocket_connect(f"{stream.PATH}?{q}", origin) as ws,
        ):
            ws.recv(timeout=60)
        assert err.value.response.status_code == 403
        assert scheduler.watchers("me") == 0
    finally:
        trainer.stop()


def test_each_session_reads_only_its_own_runs_pictures(client):
    scheduler = Scheduler(HostLimits(workers=2))
    mine, my_trainer, my_link = session(scheduler, "mine", seed=0)
    theirs, their_trainer, _ = session(scheduler, "theirs", seed=1)
    try:
        url = f"{stream.PATH}?token={my_link.token}"
        with client.websocket_connect(url) as ws:
            got = messages(ws, lambda g: len(frames_of(g)) >= 5)
        frames = frames_of(got)
        my_seqs = {s.seq for s in mine.snapshots.since(0)}
        their_seqs = {s.seq for s in theirs.snapshots.since(0)}
        assert their_seqs and {f["seq"] for f in frames} <= my_seqs
        assert not {f["seq"] for f in frames} & their_seqs
        # Each picture is this run's own grid, packed as the page would pack it.
        snap = next(s for s in mine.snapshots.since(0) if s.seq == frames[-1]["seq"])
        grid = decode_array(frames[-1]["arrays"]["surface.z"])
        assert grid.shape == (16, 16)
        assert abs(grid - snap.grid).max() <= 1 / 254 + 1e-6  # one byte per cell over [0, 1]
        assert [f["seq"] for f in frames] == sorted(f["seq"] for f in frames)
        status = next(m["status"] for m in got if "status" in m)
        assert status["state"] in ("playing", "waiting") and "Epoch" in status["readouts"]
    finally:
        my_trainer.stop()
        their_trainer.stop()


def test_three_learners_train_their_own_networks_and_see_only_their_own_pictures(client):
    scheduler = Scheduler(HostLimits(workers=2))
    widths = (4, 6, 8)
    sessions = [session(scheduler, f"learner {w}", seed=w, hidden=(w, w)) for w in widths]
    try:
        for w, (live, _, link) in zip(widths, sessions, strict=True):
            with client.websocket_connect(f"{stream.PATH}?token={link.token}") as ws:
                got = messages(ws, lambda g: len(frames_of(g)) >= 3)
            frames = frames_of(got)
            own = {s.seq for s in live.snapshots.since(0)}
            others = {s.seq for other, _, _ in sessions if other is not live for s in
                      other.snapshots.since(0)}  # fmt: skip
            assert {f["seq"] for f in frames} <= own and not {f["seq"] for f in frames} & others
            # Its own network: layer 1's lines and layer 2's signs, one per unit of its own.
            signs = [
                decode_array(f["arrays"]["bends-2.signs"])
                for f in frames
                if "bends-2.signs" in f["arrays"]
            ]
            assert signs and all(a.shape == (w, 12, 12) for a in signs)  # signs_grid(16)
            lines = [
                decode_array(f["arrays"]["bends-1.x"]) for f in frames if "bends-1.x" in f["arrays"]
            ]
            assert lines and all(len(x) == 3 * w for x in lines)  # two ends and a gap a unit
    finally:
        for _, trainer, _ in sessions:
            trainer.stop()


def test_the_status_says_the_run_compiles_while_it_plays(monkeypatch):
    """``compiling`` and ``message`` come with every status of a run, not only a stopped
    one's (the page's note says "compiling" while the first chunk compiles)."""
    scheduler = Scheduler(HostLimits(workers=1))
    link = stream.StreamLink("me", scheduler)
    link.live, link.playing = LiveRun(RunConfig(problem="xor", hidden=(3,))), True
    monkeypatch.setattr(scheduler, "job", lambda key: SimpleNamespace(stopped="", admitted=True))
    monkeypatch.setattr(link.live, "compile_pending", lambda: True)
    status = link.status()
    assert status["state"] == "playing" and status["compiling"] is True
    assert status["message"] == "" and set(status) <= STATUS_KEYS
    link.live = None  # no run yet: the state alone
    assert set(link.status()) == {"state", "ahead", "why"}


def test_the_stream_says_when_training_stopped_by_itself(client):
    scheduler = Scheduler(HostLimits(workers=1))
    live, trainer, link = session(scheduler, "me")
    try:
        live.run = live.run._replace(counters=(live.step, 5))  # as if it had diverged
        live.message = "Training stopped at step 5: ..."
        with client.websocket_connect(f"{stream.PATH}?token={link.token}", origin="") as ws:
            got = messages(ws, lambda g: any(m["status"]["state"] == "stopped" for m in g))
        status = got[-1]["status"]
        assert status["state"] == "stopped" and status["message"].startswith("Training stopped")
    finally:
        trainer.stop()


def test_a_run_that_stopped_by_itself_says_why_after_its_job_is_gone():
    """The page's script may take a diverged run's job away before the stream next
    speaks: the stream still says the run's own reason, not that nobody watched."""
    scheduler = Scheduler(HostLimits(workers=1))
    link = stream.StreamLink("me", scheduler)
    link.live, link.playing = LiveRun(RunConfig(problem="xor", hidden=(3,))), True
    assert scheduler.job("me") is None
    assert link.status()["why"] == "nobody is watching"  # a run that could go on
    link.live.run = link.live.run._replace(counters=(link.live.step, 5))  # it diverged
    link.live.message = "Training stopped at step 5: the loss became NaN."
    status = link.status()
    assert status["state"] == "stopped" and status["why"] == link.live.message
    assert "nobody" not in status["says"] and "step 5" in status["says"]


def test_a_closed_stream_stops_training_and_a_reconnect_resumes(client):
    scheduler = Scheduler(HostLimits(workers=1), idle_stop=1.0)
    live, trainer, link = session(scheduler, "me")
    try:
        url = f"{stream.PATH}?token={link.token}"
        with client.websocket_connect(url) as ws:
            messages(ws, lambda g: len(frames_of(g)) >= 2)
            assert scheduler.watchers("me") == 1
        end = time.monotonic() + 60
        while scheduler.job("me") is not None and time.monotonic() < end:
            time.sleep(0.1)  # the tab is gone: the idle stop follows
        assert scheduler.job("me") is None and scheduler.watchers("me") == 0
        assert live.snapshots.since(0) == []  # its pictures are freed
        step = live.step
        with client.websocket_connect(url) as ws:  # the same session returns
            got = messages(ws, lambda g: len(frames_of(g)) >= 2)
        assert scheduler.job("me") is not None and live.step > step
        assert frames_of(got)
    finally:
        trainer.stop()


def test_the_stream_draws_the_network_again_while_playing(client):
    scheduler = Scheduler(HostLimits(workers=1))
    live, trainer, link = session(scheduler, "me", hidden=(4, 3))
    calls = []

    def network():  # what the page's Network panel gives the link
        calls.append(live.step)
        return {"spec": json.dumps({"data": [], "layout": {"step": live.step}}), "alt": "N"}

    link.network = network
    try:

        def steps(got):
            figures = [m["figures"]["network"] for m in got if "figures" in m]
            return [json.loads(f["spec"])["layout"]["step"] for f in figures]

        with client.websocket_connect(f"{stream.PATH}?token={link.token}") as ws:
            # (The first may come before the first chunk is compiled.)
            got = messages(ws, lambda g: len(set(steps(g))) >= 2)
        assert steps(got) == sorted(steps(got))  # the run as it trains
        figures = [m["figures"]["network"] for m in got if "figures" in m]
        assert all(f["alt"] == "N" for f in figures)
    finally:
        trainer.stop()


def test_the_network_comes_rarer_the_more_runs_play_and_the_more_it_costs():
    assert stream.network_wait_s(0.01, 1) == stream.NETWORK_S
    # 30 runs at 10 ms each: each one's every 3 s, 10 % of one core for all.
    assert stream.network_wait_s(0.01, 30) == pytest.approx(0.01 * 30 / stream.NETWORK_SHARE)
    assert stream.network_wait_s(0.5, 1) == pytest.approx(0.5 / stream.NETWORK_SHARE)
    # 8 layers of 16: ~700 KB a figure, so one every 7 s.
    assert stream.network_wait_s(0.01, 1, 700_000) == pytest.approx(7.0)


def test_the_websockets_deflate_at_the_cheaper_level(monkeypatch):
    from uvicorn.protocols.websockets import websockets_sansio_impl as impl

    monkeypatch.setattr(impl, "ServerPerMessageDeflateFactory", impl.ServerPerMessageDeflateFactory)
    assert stream.cheaper_compression()
    # As uvicorn's protocol makes its factory for each connection:
    factory = impl.ServerPerMessageDeflateFactory(
        server_max_window_bits=12, client_max_window_bits=12, compress_settings={"memLevel": 5}
    )
    assert factory.compress_settings == {"memLevel": 5, "level": stream.WS_DEFLATE_LEVEL}
    _, ext = factory.process_request_params([], [])
    data = b"0123456789abcdef" * 500
    cheap = zlib.compressobj(stream.WS_DEFLATE_LEVEL, zlib.DEFLATED, -12, 5)
    assert ext.encoder.compress(data) + ext.encoder.flush() == cheap.compress(data) + cheap.flush()

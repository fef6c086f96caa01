"""Compiling ahead: which shapes a learner reaches next, and that ``precompile`` leaves
them compiled and recorded in the ledger a page reads (``LEDGER.compiled(shape)``); a
live run's longer chunks compiled on a thread of their own (``BackgroundCompiles``)."""

import threading
import time

import jax
import numpy as np
import pytest

from playground.core.config import DEFAULT, RunConfig
from playground.live.engine import compile_cache as C
from playground.live.engine import run as engine
from playground.live.server import precompile as P

WIDTHS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 48, 64, 128)


def test_neighbours_are_the_next_widths_and_depths_nearest_first():
    found = [c.hidden for c in P.neighbours(RunConfig(hidden=(8, 8)), WIDTHS, limit=6)]
    assert found[:2] == [(10, 10), (6, 6)]
    assert {(8,), (8, 8, 8)} <= set(found)
    assert (8, 8) not in found and all(max(h, default=0) <= P.PRECOMPILE_MAX_WIDTH for h in found)
    linear = [c.hidden for c in P.neighbours(RunConfig(hidden=()), WIDTHS)]
    assert linear[0] == (8,) and () not in linear


def test_precompile_records_every_chunk_it_compiles():
    ledger = C.ChunkLedger()
    cfg = RunConfig(hidden=(3,), n_points=40, batch_size=5)
    took = P.precompile([cfg], grids=(8,), steps=(1, 16), ledger=ledger)
    run = engine.new_run(cfg)
    shapes = [engine.chunk_shape(run, n) for n in (1, 16)]
    assert set(took) == set(shapes) and all(t > 0 for t in took.values())
    assert all(ledger.compiled(s) and ledger.steps_per_s(s) is None for s in shapes)
    assert P.precompile([cfg], steps=(1, 16), ledger=ledger) == {}  # nothing new to do
    state, _ = engine.train_one_chunk(run, 16)  # and the chunk is there to run
    assert int(jax.block_until_ready(state.step)) == 16


@pytest.mark.parametrize("value", ["0", "own"])
def test_background_precompile_can_be_turned_off(monkeypatch, value):
    """ "own": a class server's replica (its compile-ahead process compiled the
    neighbours); "0" turns off the start's warming too."""
    monkeypatch.setenv("PLAYGROUND_PRECOMPILE", value)
    monkeypatch.setattr(P, "_later", lambda name, work, delay: name)  # started, not run
    assert P.precompile_in_background(RunConfig(), widths=WIDTHS) is None
    assert (P.warm_in_background() is None) == (value == "0")


def test_an_app_process_keeps_the_default_networks_first_chunk_and_pictures(monkeypatch):
    ledger = C.ChunkLedger()
    monkeypatch.setattr(C, "LEDGER", ledger)
    monkeypatch.setattr(P, "LEDGER", ledger)
    assert P.warm_default_network() == 1
    run = engine.new_run(DEFAULT)
    assert ledger.compiled(engine.chunk_shape(run, engine.CHUNK_LADDER[1]))


@pytest.mark.parametrize("bad", [RunConfig(problem="upload")])
def test_precompile_skips_configs_it_cannot_build(bad):
    assert P.precompile([bad], ledger=C.ChunkLedger()) == {}


def _wait(done, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the background compile never finished"
        time.sleep(0.02)


def test_a_live_run_trains_compiled_chunks_while_a_longer_one_compiles_on_a_thread(monkeypatch):
    """A trainer serves every learner's pictures: a chunk length not compiled yet is
    compiled on another thread while the compiled shorter one trains; the weights are
    those of training without it."""
    calls: list[tuple[str, int]] = []
    real = engine.train_one_chunk
    cfg = RunConfig(hidden=(5, 3), n_points=60, batch_size=6, seed=11)

    def spy(run, n_steps):
        if run.cfg == cfg:  # not the runs an earlier test left training on its threads
            calls.append((threading.current_thread().name, n_steps))
        return real(run, n_steps)

    monkeypatch.setattr(engine, "train_one_chunk", spy)
    run = engine.new_run(cfg)
    first, log = engine.train(run, steps=16, compile_elsewhere=True)  # nothing shorter: here
    assert calls == [("MainThread", 16)] and log.compile_seconds > 0
    calls.clear()
    long_shape = engine.chunk_shape(run, 256)
    assert not C.LEDGER.compiled(long_shape)
    second, log = engine.train(first, steps=256, compile_elsewhere=True)
    here = [n for name, n in calls if name == "MainThread"]
    assert here == [16] * 16 and log.compile_seconds == 0.0
    _wait(lambda: C.LEDGER.compiled(long_shape))
    assert ("playground-compile", 256) in calls
    calls.clear()
    third, _ = engine.train(second, steps=256, compile_elsewhere=True)
    assert calls == [("MainThread", 256)]
    alone, _ = engine.train(run, steps=16 + 256 + 256)
    leaves = jax.tree.leaves(third.state.params), jax.tree.leaves(alone.state.params)
    for a, b in zip(*leaves, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_background_compiles_start_each_job_once_and_do_not_retry_a_failure():
    compiles = C.BackgroundCompiles("test-compile")
    release, ran = threading.Event(), []

    def slow():
        ran.append("slow")
        release.wait(30)

    assert compiles.start("a", slow) and not compiles.start("a", slow)
    assert compiles.pending("a")
    release.set()
    _wait(lambda: not compiles.pending("a"))
    assert ran == ["slow"] and compiles.start("a", slow)  # done: may be asked again

    def broken():
        ran.append("broken")
        raise RuntimeError("out of memory")

    assert compiles.start("b", broken)
    _wait(lambda: not compiles.pending("b"))
    assert not compiles.start("b", broken) and ran.count("broken") == 1


@pytest.fixture
def exiting():
    """The process's exit, undone after the test (``EXITING`` is process-wide)."""
    yield C._join_running_compiles
    C.EXITING.clear()


def test_exit_waits_only_for_compiles_still_running(exiting):
    # A daemon thread whose compile ends while the interpreter finalizes aborts the process
    # ("terminate called ...", exit 134): `python -m playground.bench frame --smoke` did.
    release = threading.Event()
    compiles = C.BackgroundCompiles("test-exit")
    compiles.start("slow", lambda: release.wait(30))
    _wait(lambda: compiles.pending("slow"))
    waited = threading.Thread(target=exiting)
    waited.start()
    waited.join(0.3)
    assert waited.is_alive()  # still waiting for the compile
    release.set()
    waited.join(30)
    assert not waited.is_alive() and not compiles.pending("slow")


def test_an_exiting_process_compiles_nothing_more_ahead(exiting):
    ledger = C.ChunkLedger()
    exiting()
    assert P.precompile([RunConfig(hidden=(3, 3))], ledger=ledger) == {}
    ran = []
    P._later("test-later", lambda: ran.append("work"), 0.0).join(5)
    assert ran == []

"""Compiling ahead: which shapes a learner reaches next, and that ``precompile`` leaves
them compiled and recorded in the ledger a page reads (``LEDGER.compiled(shape)``)."""

import jax
import pytest

from playground.core.config import RunConfig
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


def test_background_precompile_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_PRECOMPILE", "0")
    assert P.precompile_in_background(RunConfig(), widths=WIDTHS) is None


@pytest.mark.parametrize("bad", [RunConfig(problem="upload")])
def test_precompile_skips_configs_it_cannot_build(bad):
    assert P.precompile([bad], ledger=C.ChunkLedger()) == {}

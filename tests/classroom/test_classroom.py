"""Classes for teachers, below the pages: codes, secrets and names (``classroom.model``),
a learner's tile and its status, the wall's order, the publisher that puts a real run's
tile and spotlight picture in the store (``classroom.publish``), the wall's pictures
(``figures.tile``), and the frames stream's refusals and class readouts
(``live.server.stream``).

The store's own behaviour is ``test_class_store.py``'s; here a ``MemoryStore`` is only
where the publisher writes. Every expectation is worked out independently of the code
under test (hashlib, PIL pixels, the run's own predictions, plain sorting rules).
"""

import asyncio
import base64
import gc
import hashlib
import io
import json
import math
import secrets
import string
import weakref

import numpy as np
import pytest
from PIL import Image
from starlette.applications import Starlette

from playground.classroom import model
from playground.classroom.model import (
    CODE_ALPHABET,
    CODE_LENGTH,
    IDLE_S,
    MAX_NAME,
    SECRET_BYTES,
    SOLVED,
    STALE_S,
    STALL_CHANGE,
    STALL_EPOCHS,
    STATUSES,
    ClassInfo,
    Tile,
    clean_name,
    is_teacher,
    learner_status,
    new_code,
    new_secret,
    normal_code,
    secret_hash,
    sorted_tiles,
    status_counts,
)
from playground.classroom.publish import (
    GRID_N,
    SPOT_GRID_N,
    Member,
    Publisher,
    spotlight_view,
    tile_of,
)
from playground.classroom.store import MemoryStore
from playground.core.config import RunConfig
from playground.figures.style import BLUE, ORANGE, class_colour
from playground.figures.tile import TILE_PX, boundary_tile_png, spotlight_figures
from playground.live.engine.limits import HostLimits
from playground.live.server import stream
from playground.live.server.scheduler import Scheduler
from playground.live.session.history import History
from playground.live.session.live_run import LiveRun

# -- helpers -------------------------------------------------------------------------------


def rgb(hex_colour: str) -> np.ndarray:
    """'#f59322' -> [245, 147, 34], by hand (not the code's own conversion)."""
    h = hex_colour.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)], np.int64)


def png_pixels(b64: str) -> np.ndarray:
    """A base64 PNG as an (H, W, 3) int array; fails unless it is a PNG."""
    raw = base64.b64decode(b64, validate=True)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(raw))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"), np.int64)


def a_class(store: MemoryStore, secret: str = "s3cret") -> ClassInfo:
    info = ClassInfo(code=new_code(), teacher_hash=secret_hash(secret), exercise={"a": "b"})
    store.create(info, idle_s=60)
    return info


# -- codes, secrets, names -------------------------------------------------------------------


def test_the_code_alphabet_has_no_look_alikes():
    # A code read off a projector: 0/O and 1/I/L would be guessed at.
    assert not set("0O1IL") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET)


def test_new_codes_are_six_characters_of_the_alphabet_and_differ():
    codes = [new_code() for _ in range(300)]
    assert all(len(c) == CODE_LENGTH == 6 for c in codes)
    assert all(set(c) <= set(CODE_ALPHABET) for c in codes)
    # 31^6 ≈ 8.9e8 codes: 300 draws repeat with probability ~5e-5.
    assert len(set(codes)) >= 299


def test_a_code_is_read_in_any_case_with_spaces_or_dashes():
    code = new_code()
    assert normal_code(code) == code
    assert normal_code(code.lower()) == code
    assert normal_code(f" {code[:3].lower()} - {code[3:]} ") == code
    assert normal_code("-".join(code)) == code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ABCDE",  # too short
        "ABCDEFG",  # too long
        "ABCDE0",  # zero
        "ABCDEO",  # letter O
        "ABCDE1",  # one
        "ABCDEI",
        "ABCDEL",
        "abcde1",
        "ABC_DE",  # only spaces and dashes are ignored
        "ABC\tDEF",
        "ABCDÉF",
    ],
)
def test_what_cannot_be_a_code_reads_as_none(text):
    assert normal_code(text) == ""


def test_a_new_secret_carries_at_least_128_random_bits():
    s = new_secret()
    assert SECRET_BYTES * 8 >= 128
    assert len(s) == len(secrets.token_urlsafe(24)) == 32  # 24 bytes = 32 base64 characters
    assert set(s) <= set(string.ascii_letters + string.digits + "-_")  # safe in a link
    assert len({new_secret() for _ in range(50)}) == 50


def test_only_the_right_secret_is_the_teacher():
    secret = new_secret()
    info = ClassInfo(code=new_code(), teacher_hash=secret_hash(secret), exercise={})
    assert is_teacher(info, secret)
    assert not is_teacher(info, new_secret())
    assert not is_teacher(info, secret + "x")
    assert not is_teacher(info, secret[:-1])
    assert not is_teacher(info, "")
    assert not is_teacher(info, None)
    assert not is_teacher(None, secret)
    # Even a class whose stored hash is of "" (or of "None") opens to no empty secret.
    for hashed, given in (("", ""), ("None", None)):
        odd = ClassInfo(code=new_code(), teacher_hash=secret_hash(hashed), exercise={})
        assert not is_teacher(odd, given)


def test_the_store_keeps_the_secrets_sha256_not_the_secret():
    secret = new_secret()
    assert secret_hash(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert secret_hash("é") == hashlib.sha256("é".encode()).hexdigest()
    assert secret not in secret_hash(secret)


def test_a_name_stays_text_the_page_escapes_it():
    assert clean_name("<b>Bob</b>") == ("<b>Bob</b>", False)
    assert clean_name("Zoë 🚀") == ("Zoë 🚀", False)


def test_control_characters_and_newlines_become_single_spaces():
    assert clean_name("  Ann\nMarie\t\x00\x1b  Lee\r\n") == ("Ann Marie Lee", False)
    # A right-to-left override would turn the rest of the wall's line around.
    assert clean_name("ab\u202ecd") == ("ab cd", False)


def test_a_long_name_is_cut_and_says_so():
    assert MAX_NAME == 24
    assert clean_name("x" * 30) == ("x" * 24, True)
    assert clean_name("y" * 24) == ("y" * 24, False)
    # The length counts after squeezing: 24 letters in a lot of spaces are not cut.
    assert clean_name(" ".join("z" * 12) + "   ") == (" ".join("z" * 12), False)


# -- tiles ----------------------------------------------------------------------------------


def test_a_tile_round_trips_through_json_with_nan_as_null():
    tile = Tile(
        member="m1",
        name="Ann",
        status="stalled",
        epoch=321,
        test_loss=math.nan,
        score=0.75,
        metric="r2",
        shape="2 → 4 → 1",
        picture="iVBOR",
        version=3,
        updated=1234.5,
    )
    raw = tile.to_json()
    assert raw["test_loss"] is None and raw["score"] == 0.75
    text = json.dumps(raw, allow_nan=False)  # what a store writes: strict JSON
    back = Tile.from_json(json.loads(text))
    assert math.isnan(back.test_loss)
    assert back.score == 0.75
    for key in ("member", "name", "status", "epoch", "metric", "shape", "picture", "version"):
        assert getattr(back, key) == getattr(tile, key), key
    assert back.updated == 1234.5
    # Both unscored: both null, both NaN again.
    empty = Tile(member="m2", name="B", status="waiting", updated=1.0)
    again = Tile.from_json(json.loads(json.dumps(empty.to_json(), allow_nan=False)))
    assert math.isnan(again.test_loss) and math.isnan(again.score)


def test_a_tile_not_refreshed_for_stale_s_reads_as_left():
    tile = Tile(member="m", name="Ann", status="playing", updated=1000.0)
    assert tile.seen_status(now=1000.0) == "playing"
    assert tile.seen_status(now=1000.0 + STALE_S - 0.01) == "playing"
    assert tile.seen_status(now=1000.0 + STALE_S + 0.01) == "left"


# -- a learner's status ----------------------------------------------------------------------


def flat_history(span: float = STALL_EPOCHS, change: float = 0.0, level: float = 0.5):
    """Epochs 0..span (21 records) and test losses moving by ``change`` (relative)."""
    epochs = list(np.linspace(0.0, span, 21))
    losses = [level * (1 + change * i / 20) for i in range(21)]
    return losses, epochs


def status(**kw) -> str:
    losses, epochs = kw.pop("history", flat_history())
    base = dict(
        playing=True,
        waiting=False,
        diverged=False,
        dead_layer=False,
        test_losses=losses,
        epochs=epochs,
        idle_for=0.0,
        score=0.5,
    )
    return learner_status(**{**base, **kw})


def test_stuck_statuses_come_in_order_diverged_dead_layer_stalled():
    assert status() == "stalled"  # flat loss while playing, not solved
    assert status(dead_layer=True) == "dead layer"
    assert status(diverged=True, dead_layer=True) == "diverged"
    assert status(diverged=True, playing=False) == "diverged"  # whatever they do
    assert status(dead_layer=True, playing=False, idle_for=1e6) == "dead layer"
    assert status(waiting=True) == "stalled"  # a stuck run is stuck before it waits


def test_stalled_needs_playing_a_long_flat_loss_and_no_solution():
    assert status(playing=False) == "paused"  # flat, but not playing
    # Not STALL_EPOCHS long yet.
    assert status(history=flat_history(span=STALL_EPOCHS - 1)) == "playing"
    # Moving by a little less / more than STALL_CHANGE of the last loss.
    assert status(history=flat_history(change=STALL_CHANGE * 0.8)) == "stalled"
    assert status(history=flat_history(change=STALL_CHANGE * 1.2)) == "playing"
    assert status(history=flat_history(change=-0.5)) == "playing"  # still learning
    # A solved problem's loss is flat too: that is not stuck.
    assert status(score=SOLVED) == "playing"
    assert status(score=0.999) == "playing"
    assert status(score=SOLVED - 0.01) == "stalled"
    assert status(score=math.nan) == "stalled"  # unscored is not solved
    assert status(history=([], [])) == "playing"  # no history at all


def test_stalled_looks_only_at_the_last_stall_epochs():
    # A big drop long ago, flat for the last STALL_EPOCHS: stalled.
    epochs = [0.0, 50.0, *np.linspace(100.0, 100.0 + STALL_EPOCHS, 11)]
    losses = [5.0, 2.0, *([0.4] * 11)]
    assert status(history=(losses, epochs)) == "stalled"
    assert model.stalled(losses, epochs)
    # NaN losses are skipped, not counted as movement.
    losses_nan = [*losses[:-3], math.nan, 0.4, 0.4]
    assert model.stalled(losses_nan, epochs)


def test_playing_waiting_paused_and_idle():
    moving = flat_history(change=-0.5)
    assert status(history=moving) == "playing"
    assert status(history=moving, waiting=True) == "waiting"
    assert status(history=moving, playing=False, idle_for=IDLE_S - 1) == "paused"
    assert status(history=moving, playing=False, idle_for=IDLE_S) == "idle"
    # Idle is about a paused run: one that plays is never idle however long untouched.
    assert status(history=moving, idle_for=10 * IDLE_S) == "playing"


# -- the wall's order ------------------------------------------------------------------------

NOW = 5000.0


def tile(name: str, status: str = "playing", score: float = math.nan, **kw) -> Tile:
    return Tile(member=f"id-{name}", name=name, status=status, score=score, updated=NOW, **kw)


def names(tiles: list[Tile]) -> list[str]:
    return [t.name for t in tiles]


def test_by_status_stuck_first_then_by_name_ignoring_case():
    tiles = [
        tile("hal", "idle"),
        tile("gus", "waiting"),
        tile("amy", "playing"),
        tile("Fay", "dead layer"),
        tile("dave", "paused"),
        tile("carl", "diverged"),
        tile("Bob", "stalled"),
        tile("alice", "stalled"),
    ]
    gone = Tile(member="id-eve", name="eve", status="playing", updated=NOW - STALE_S - 1)
    got = names(sorted_tiles([*tiles, gone], "status", now=NOW))
    want = ["carl", "Fay", "alice", "Bob", "gus", "amy", "dave", "hal", "eve"]
    assert got == want
    # The same order as the statuses' own list: stuck ones first.
    assert list(STATUSES[:3]) == ["diverged", "dead layer", "stalled"]


def test_by_score_best_first_unscored_last():
    tiles = [tile("a", score=0.5), tile("b"), tile("c", score=0.9), tile("d", score=0.7)]
    # An R² can be below 0: still above no score at all.
    tiles.append(tile("e", score=-0.3, metric="r2"))
    assert names(sorted_tiles(tiles, "score", now=NOW)) == ["c", "d", "a", "e", "b"]


def test_by_name_ignoring_case():
    tiles = [tile("carl"), tile("Bob"), tile("alice")]
    assert names(sorted_tiles(tiles, "name", now=NOW)) == ["alice", "Bob", "carl"]


def test_status_counts_count_what_the_wall_shows():
    tiles = [tile("a", "stalled"), tile("b", "stalled"), tile("c", "paused")]
    tiles.append(Tile(member="d", name="d", status="playing", updated=NOW - STALE_S - 1))
    counts = status_counts(tiles, now=NOW)
    assert set(counts) == set(STATUSES)
    assert counts["stalled"] == 2 and counts["paused"] == 1 and counts["left"] == 1
    assert counts["playing"] == 0 and sum(counts.values()) == 4


# -- the wall's picture ----------------------------------------------------------------------

N = 24  # grid cells a side; the tile scales them to TILE_PX
FAR = 12  # pixels kept away from a colour edge (bilinear blends across it)


def assert_colour(pixels: np.ndarray, colour: str, tol: int = 2):
    diff = np.abs(pixels.reshape(-1, 3) - rgb(colour)).max()
    assert diff <= tol, f"{colour}: off by {diff}"


def test_a_tile_is_a_tile_px_square_png():
    grid = np.full((N, N), 0.5, np.float32)
    pixels = png_pixels(boundary_tile_png(grid, "binary", 2, False))
    assert pixels.shape == (TILE_PX, TILE_PX, 3)


@pytest.mark.parametrize("discretize", [False, True])
def test_class_0_is_orange_class_1_blue_left_to_right(discretize):
    grid = np.zeros((N, N), np.float32)
    grid[:, N // 2 :] = 1.0  # columns follow x: P = 1 on the right half
    if discretize:
        grid = np.where(grid > 0.5, 0.8, 0.2).astype(np.float32)  # drawn as classes
    pixels = png_pixels(boundary_tile_png(grid, "binary", 2, discretize))
    half = TILE_PX // 2
    assert_colour(pixels[:, : half - FAR], ORANGE)
    assert_colour(pixels[:, half + FAR :], BLUE)


def test_up_in_the_tile_is_plus_x2():
    grid = np.zeros((N, N), np.float32)
    grid[N // 2 :] = 1.0  # rows follow y upwards: the largest y's are class 1
    pixels = png_pixels(boundary_tile_png(grid, "binary", 2, False))
    half = TILE_PX // 2
    assert_colour(pixels[: half - FAR], BLUE)  # the image's top
    assert_colour(pixels[half + FAR :], ORANGE)


def test_a_multiclass_tile_paints_each_class_its_colour():
    k = 3
    grid = np.full((N, N, k), 0.1, np.float32)
    band = N // k
    for c in range(k):  # class c wins in the c-th third from the left
        grid[:, c * band : (c + 1) * band, c] = 0.8
    pixels = png_pixels(boundary_tile_png(grid, "multiclass", k, False))
    width = TILE_PX // k
    for c in range(k):
        middle = pixels[:, c * width + FAR : (c + 1) * width - FAR]
        assert_colour(middle, class_colour(c))


# -- the publisher, with a real run ----------------------------------------------------------


@pytest.fixture(scope="module")
def run() -> LiveRun:
    # Small: 40 points, one layer of 4 (a compile takes seconds; the module shares it).
    return LiveRun(RunConfig(problem="xor", hidden=(4,), n_points=40, batch_size=10, seed=3))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def join(store: MemoryStore, run: LiveRun, member: str = "m1", name: str = "Ann"):
    info = a_class(store)
    assert store.join(info.code, member, name, max_size=40)
    m = Member(store=store, code=info.code, member=member, name=name, version=1)
    m.run = weakref.ref(run)
    pub = Publisher()
    # The publisher's own members, without ``add`` (which starts its thread): each
    # test calls ``publish`` itself.
    pub.members[m.member] = m
    return info, m, pub


def only_tile(store: MemoryStore, code: str) -> Tile:
    tiles = store.tiles(code)
    assert len(tiles) == 1
    return tiles[0]


def test_publish_puts_the_runs_tile_and_follows_its_training(store, run):
    info, m, pub = join(store, run)
    assert m.attention() == "0:0"  # nothing brought back yet
    pub.publish()
    first = only_tile(store, info.code)
    assert first.member == "m1" and first.name == "Ann" and first.version == 1
    assert first.epoch == run.epoch
    assert first.status == "paused"  # not playing, touched just now
    assert first.shape == " → ".join(map(str, run.spec.sizes))
    assert first.metric == "accuracy"
    assert first.test_loss == pytest.approx(float(run.metrics.test_loss))
    assert first.score == pytest.approx(float(run.metrics.test_metric))
    assert m.class_version == info.version == 1 and m.attention() == "1:0"
    # The picture is this run's boundary: as the tile of its own output grid.
    pixels = png_pixels(first.picture)
    assert pixels.shape == (TILE_PX, TILE_PX, 3)
    *_, grid = run.output_grid(GRID_N)
    own = png_pixels(boundary_tile_png(grid, run.spec.task, run.spec.n_classes, False))
    assert np.abs(pixels - own).max() <= 2
    json.dumps(first.to_json(), allow_nan=False)  # what Redis would keep

    run.train_steps(200)
    pub.publish()
    second = only_tile(store, info.code)
    assert second.epoch == run.epoch > first.epoch
    assert second.picture != first.picture
    assert np.abs(png_pixels(second.picture) - pixels).max() > 2  # the boundary moved


def test_a_playing_learner_shows_as_playing(store, run):
    info, m, pub = join(store, run)
    # Under STALL_EPOCHS of history (this module trains 100 epochs): never stalled.
    assert run.epoch < STALL_EPOCHS
    m.playing = True
    pub.publish()
    assert only_tile(store, info.code).status == "playing"
    m.waiting = True
    pub.publish()
    assert only_tile(store, info.code).status == "waiting"
    m.playing, m.touched = False, m.touched - IDLE_S  # paused, untouched for IDLE_S
    pub.publish()
    assert only_tile(store, info.code).status == "idle"


def expected_lines(run: LiveRun) -> list:
    """The run's first-layer bends as JSON: 4 decimals, NaN as null."""
    ends = np.asarray(run.first_layer_bends(), np.float64)
    return [
        [[None if math.isnan(v) else round(float(v), 4) for v in point] for point in line]
        for line in ends
    ]


@pytest.fixture
def spotlit(store, run):
    """A learner the teacher put on screen, after one publish."""
    info, m, pub = join(store, run)
    pub.publish()
    before = m.attention()
    assert not m.on_screen and m.note() == ""
    assert store.spotlight_view(info.code) is None  # no spotlight: no picture made
    store.set_spotlight(info.code, m.member)
    pub.publish()
    return info, m, pub, before


def test_the_spotlit_learners_view_is_their_runs_picture(store, run, spotlit):
    info, m, _, before = spotlit
    assert m.on_screen and m.attention() != before and m.attention() == "1:1"
    assert m.note()  # their page says they are on the class's screen
    view = store.spotlight_view(info.code)
    assert view is not None
    json.dumps(view, allow_nan=False)  # strict JSON: what Redis would keep
    assert view["name"] == "Ann" and view["epoch"] == run.epoch
    assert view["shape"] == " → ".join(map(str, run.spec.sizes))
    # The first layer's bends, as the run computes them (NumPy, float64) to 4 decimals.
    want = expected_lines(run)
    assert len(view["lines"]) == len(want) == run.spec.sizes[1]
    for got_line, want_line in zip(view["lines"], want, strict=True):
        for got_pt, want_pt in zip(got_line, want_line, strict=True):
            for g, w in zip(got_pt, want_pt, strict=True):
                assert (g is None) == (w is None)
                if w is not None:
                    assert g == pytest.approx(w, abs=2e-4)  # float32 vs float64, rounded
    # The grid: the run's prediction at each (x, y), rows following y.
    xs, ys = np.asarray(view["xs"], np.float64), np.asarray(view["ys"], np.float64)
    assert len(xs) == len(ys) == SPOT_GRID_N
    gx, gy = np.meshgrid(xs, ys)
    pred = run.predict(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)
    grid = np.asarray(view["grid"], np.float64)
    assert grid.shape == (SPOT_GRID_N, SPOT_GRID_N)
    assert np.abs(grid - pred).max() <= 1e-3
    # The loss curves are the run's history.
    assert view["epochs"] == pytest.approx(list(run.history.array("epoch")), abs=1e-4)


def test_the_spotlight_goes_off_with_the_teachers_choice(store, run, spotlit):
    info, m, pub, before = spotlit
    store.set_spotlight(info.code, None)
    pub.publish()
    assert not m.on_screen and m.attention() == before and m.note() == ""


def test_spotlight_figures_draw_the_views_bends_and_epochs(store, run, spotlit):
    info, *_ = spotlit
    view = store.spotlight_view(info.code)
    fig, arrays, curves = spotlight_figures(view, run.data)
    bends = [t for t in fig.data if (t.name or "").startswith("bends")]
    assert len(bends) == 1
    # The lines end to end with a NaN gap after each (traces.polylines_xy), by hand.
    lines = np.array(view["lines"], np.float64)  # null -> NaN
    want_x = np.concatenate([[a[0][0], a[1][0], np.nan] for a in lines])
    want_y = np.concatenate([[a[0][1], a[1][1], np.nan] for a in lines])
    np.testing.assert_array_equal(np.asarray(bends[0].x, np.float64), want_x)
    np.testing.assert_array_equal(np.asarray(bends[0].y, np.float64), want_y)
    # The live arrays that refresh it say the same.
    uid = bends[0].uid
    np.testing.assert_array_equal(arrays[f"{uid}.x"].values, want_x)
    np.testing.assert_array_equal(arrays[f"{uid}.y"].values, want_y)
    # The background is the view's grid.
    heat = fig.data[0]
    np.testing.assert_allclose(np.asarray(heat.z, np.float64), np.asarray(view["grid"]), atol=1e-6)
    assert len(curves.data) == 2
    for trace in curves.data:
        np.testing.assert_array_equal(np.asarray(trace.x, np.float64), view["epochs"])
    np.testing.assert_allclose(np.asarray(curves.data[0].y, np.float64), view["train_loss"])
    np.testing.assert_allclose(np.asarray(curves.data[1].y, np.float64), view["test_loss"])
    assert "Ann" in fig.layout.title.text


def test_a_closed_tab_leaves_the_wall_at_once(store, run):
    info, m, pub = join(store, run)
    pub.publish()
    assert only_tile(store, info.code).status == "paused"
    del m  # the learner's session let go of its member: the tab closed
    gc.collect()
    assert len(pub.members) == 0
    pub.publish()
    gone = only_tile(store, info.code)
    assert gone.status == "left" and gone.seen_status() == "left"
    assert store.roster(info.code) == {"m1": "Ann"}  # a closed tab is not a leave


def test_a_member_whose_run_is_gone_shows_as_left(store, run):
    class Gone:  # anything weakly referenced, then dropped
        pass

    info, m, pub = join(store, run)
    ghost = Gone()
    m.run = weakref.ref(ghost)
    del ghost
    gc.collect()
    pub.publish()
    assert only_tile(store, info.code).status == "left"


def test_an_ended_class_brings_back_version_zero(store, run):
    info, m, pub = join(store, run)
    store.set_spotlight(info.code, m.member)
    pub.publish()
    assert m.class_version == 1 and m.on_screen
    store.send_exercise(info.code, {"dataset": "circle"})
    pub.publish()
    assert m.class_version == 2 and m.attention() == "2:1"  # a new exercise reruns the page
    store.end(info.code)
    pub.publish()
    assert m.class_version == 0 and not m.on_screen and m.attention() == "0:0"
    assert store.tiles(info.code) == [] and store.spotlight_view(info.code) is None


class TrainerAppends(History):
    """A history the trainer appends to right after each read: what its thread may do
    between two reads of the publisher's (LiveRun's history is appended to while
    pages read it; they take ``history.copy()`` for one consistent view)."""

    def array(self, key: str) -> np.ndarray:
        out = super().array(key)
        self.append(**{k: v[-1] for k, v in self.rows.items()})
        return out


def racing_history(rows: int, limit: int = 600, span: float = 300.0) -> TrainerAppends:
    history = TrainerAppends(limit)
    for i, epoch in enumerate(np.linspace(0.0, span, rows)):
        history.append(step=2 * i, epoch=float(epoch), train_loss=0.5, test_loss=0.5)
    return history


@pytest.fixture
def own_run() -> LiveRun:
    # The module run's twin (its compiled functions are reused): a history of its own.
    return LiveRun(RunConfig(problem="xor", hidden=(4,), n_points=40, batch_size=10, seed=3))


def test_a_tile_survives_the_trainer_appending_while_it_is_read(store, own_run):
    own_run.history = racing_history(50)  # 300 epochs of flat loss
    assert own_run.metrics.test_metric < SOLVED  # so stalled() is asked
    _, m, _ = join(store, own_run)
    m.playing = True
    assert tile_of(m).status == "stalled"


def test_a_spotlight_view_survives_the_history_thinning_while_it_is_read(store, own_run):
    own_run.history = racing_history(600, limit=600)  # the next append thins it
    _, m, _ = join(store, own_run)
    view = spotlight_view(m)
    assert len(view["epochs"]) == len(view["train_loss"]) == len(view["test_loss"])


# -- the stream: refusals and the class's readouts ---------------------------------------------
#
# starlette.testclient needs httpx2, which this environment lacks; the route is driven
# through the same ASGI app the way TestClient drives it: a scope, a receive and a send.

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


def knock(query: str, headers=SAME_ORIGIN) -> list[dict]:
    """Open ``stream.PATH?query`` on ``Starlette(routes=stream.ROUTES)``; the messages the
    app sent. The browser goes away at the first data message (its send fails)."""
    app = Starlette(routes=stream.ROUTES)
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "http_version": "1.1",
        "path": stream.PATH,
        "raw_path": stream.PATH.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": list(headers),
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
        "subprotocols": [],
    }
    inbox = [{"type": "websocket.connect"}]
    sent: list[dict] = []

    async def receive():
        if inbox:
            return inbox.pop(0)
        await asyncio.sleep(60)
        return {"type": "websocket.disconnect", "code": 1001}

    async def send(message):
        sent.append(message)
        if message["type"] == "websocket.send":
            raise ConnectionResetError("the tab closed")

    async def main():
        await asyncio.wait_for(app(scope, receive, send), timeout=30)

    asyncio.run(main())
    return sent


@pytest.fixture
def link():
    scheduler = Scheduler(HostLimits(workers=1), threads=False)
    yield stream.StreamLink("learner", scheduler)


# Made once per test run, outside the parameter ids: pytest-xdist's workers must collect
# the same tests.
NOT_TOKENS = {
    "class-code": f"token={new_code()}",  # a class's code is on the projector, not a token
    "teacher-secret": f"token={new_secret()}",  # nor is the teacher's secret
    "empty": "token=",
    "none": "",
}


@pytest.mark.parametrize("query", list(NOT_TOKENS.values()), ids=list(NOT_TOKENS))
def test_the_stream_refuses_what_is_not_a_sessions_token(link, query):
    sent = knock(query)
    # Closed before the handshake, with the policy code: never accepted.
    assert [m["type"] for m in sent] == ["websocket.close"]
    assert sent[0]["code"] == stream.BAD_REQUEST
    assert link.scheduler.watchers("learner") == 0


def test_the_class_code_and_secret_of_a_real_class_are_refused(link):
    store = MemoryStore()
    secret = new_secret()
    info = a_class(store, secret)
    for token in (info.code, secret, secret_hash(secret)):
        sent = knock(f"token={token}")
        assert [m["type"] for m in sent] == ["websocket.close"]
        assert sent[0]["code"] == stream.BAD_REQUEST


def test_the_sessions_own_token_is_served_with_the_class_readouts(link):
    # The control for the refusals above: the same request with the real token streams.
    link.attention, link.note = (lambda: "4:1"), (lambda: "on screen")
    sent = knock(f"token={link.token}")
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send"]
    msg = json.loads(sent[1]["text"])
    assert msg["status"]["state"] == "paused"
    assert msg["status"]["attention"] == "4:1" and msg["status"]["note"] == "on screen"
    assert link.scheduler.watchers("learner") == 0  # closed: no longer watched
    # Its token from another site is refused all the same.
    other = [(b"origin", b"http://evil.example"), (b"host", b"testserver")]
    assert [m["type"] for m in knock(f"token={link.token}", other)] == ["websocket.close"]


def test_status_carries_attention_and_note_only_when_set(link, store, run):
    plain = link.status()
    assert "attention" not in plain and "note" not in plain
    assert plain["state"] == "paused"
    info, m, pub = join(store, run)
    link.attention, link.note = m.attention, m.note
    pub.publish()
    assert link.status()["attention"] == "1:0" and link.status()["note"] == ""
    store.set_spotlight(info.code, m.member)
    pub.publish()
    got = link.status()
    assert got["attention"] == "1:1" and got["note"] == m.note() != ""
    link.note = None
    assert "note" not in link.status() and "attention" in link.status()

"""The class store: one suite, run against both stores (in memory, and Redis through a
throwaway Debian redis-server), so they mean the same; then what only Redis has (a class
shared by two app processes, a restart, Redis down) and ``class_store()``'s address.

Time: the memory store's clock is set by hand; Redis's expiries are real, so its idle
classes get 1 s and its spotlight pictures a shortened life."""

from __future__ import annotations

import json
import math
import socket
import threading
import time

import pytest
import redis

from playground.classroom.host_store import STORE_ENV, class_store
from playground.classroom.model import ClassInfo, Tile, new_code, secret_hash
from playground.classroom.redis_store import PREFIX, RedisStore
from playground.classroom.store import (
    SPOTLIGHT_VIEW_S,
    ClassStore,
    MemoryStore,
    StoreUnavailable,
)
from playground.core.errors import PlaygroundError

VIEW_S = 0.4  # a Redis spotlight picture's life in these tests


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> ClassStore:
    if request.param == "memory":
        mem = MemoryStore()
        mem.now = [1000.0]  # the test's clock, moved by later()
        mem.clock = lambda: mem.now[0]
        return mem
    server = request.getfixturevalue("redis_server")
    red = RedisStore(server.url)
    red.view_s = VIEW_S
    return red


def later(store: ClassStore, seconds: float) -> None:
    if isinstance(store, MemoryStore):
        store.now[0] += seconds
    else:
        time.sleep(seconds)


def view_expiry(store: ClassStore) -> float:
    return SPOTLIGHT_VIEW_S if isinstance(store, MemoryStore) else store.view_s


def redis_keys(store: RedisStore, code: str) -> list[str]:
    client = redis.Redis.from_url(url_of(store), decode_responses=True)
    return sorted(client.scan_iter(match=f"{PREFIX}{{{code}}}:*"))


def url_of(store: RedisStore) -> str:
    kw = store._redis.connection_pool.connection_kwargs
    return f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"


def a_class(store: ClassStore, idle_s: float = 600.0, **exercise: str) -> ClassInfo:
    info = ClassInfo(
        code=new_code(),
        teacher_hash=secret_hash("the teacher's secret"),
        exercise=exercise or {"dataset": "xor", "lr": "0.03"},
        title="Maths 4b",
    )
    store.create(info, idle_s)
    return info


def a_tile(member: str, **fields) -> Tile:
    base = dict(name=f"Learner {member}", status="playing", epoch=120, test_loss=0.25)
    return Tile(member=member, **{**base, **fields})


# --- the same meaning in both stores ------------------------------------------------------


def test_create_and_info_round_trip(store: ClassStore) -> None:
    info = a_class(store)
    assert store.info(info.code) == info
    assert store.info(new_code()) is None
    assert store.roster(info.code) == {} and store.tiles(info.code) == []
    assert store.spotlight(info.code) is None and store.spotlight_view(info.code) is None


def test_send_exercise_bumps_the_version(store: ClassStore) -> None:
    info = a_class(store)
    assert store.send_exercise(info.code, {"dataset": "spiral"}) == 2
    assert store.send_exercise(info.code, {"dataset": "circle", "lr": "0.1"}) == 3
    got = store.info(info.code)
    assert got.version == 3 and got.exercise == {"dataset": "circle", "lr": "0.1"}
    assert (got.code, got.teacher_hash, got.title, got.created) == (
        info.code,
        info.teacher_hash,
        info.title,
        info.created,
    )
    assert store.send_exercise(new_code(), {"dataset": "xor"}) == 0


def test_join_respects_max_size_and_a_rejoin_renames(store: ClassStore) -> None:
    code = a_class(store).code
    assert store.join(code, "m1", "Ada", max_size=2)
    assert store.join(code, "m2", "Bob", max_size=2)
    assert not store.join(code, "m3", "Cy", max_size=2)
    assert store.join(code, "m1", "Ada L.", max_size=2)  # already in: always room
    assert store.roster(code) == {"m1": "Ada L.", "m2": "Bob"}
    assert not store.join(new_code(), "m1", "Ada", max_size=2)


def test_concurrent_joins_never_exceed_max_size(store: ClassStore) -> None:
    """Sixteen learners press "Join" at once for five places (through two app processes'
    stores, for Redis): exactly five get in."""
    code = a_class(store).code
    stores = [store, RedisStore(url_of(store)) if isinstance(store, RedisStore) else store]
    start = threading.Barrier(16)
    got: dict[str, bool] = {}

    def join(i: int) -> None:
        start.wait()
        got[f"m{i}"] = stores[i % 2].join(code, f"m{i}", f"Learner {i}", max_size=5)

    threads = [threading.Thread(target=join, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(got.values()) == 5
    assert set(store.roster(code)) == {m for m, ok in got.items() if ok}


def test_leave_removes_the_tile_and_clears_the_spotlight(store: ClassStore) -> None:
    code = a_class(store).code
    for m in ("m1", "m2"):
        store.join(code, m, m.upper(), max_size=30)
        store.put_tile(code, a_tile(m))
    store.set_spotlight(code, "m1")
    store.put_spotlight_view(code, "m1", {"picture": "abc"})
    store.leave(code, "m1")
    assert store.roster(code) == {"m2": "M2"}
    assert [t.member for t in store.tiles(code)] == ["m2"]
    assert store.spotlight(code) is None and store.spotlight_view(code) is None
    store.set_spotlight(code, "m2")
    store.leave(code, "m-never-joined")  # someone else leaving keeps the spotlight
    assert store.spotlight(code) == "m2"


def test_put_tile_is_ignored_for_non_members(store: ClassStore) -> None:
    code = a_class(store).code
    store.join(code, "m1", "Ada", max_size=30)
    store.put_tile(code, a_tile("stranger"))
    store.put_tile(new_code(), a_tile("m1"))  # a class that does not exist
    assert store.tiles(code) == []
    store.put_tile(code, a_tile("m1", epoch=5))
    store.put_tile(code, a_tile("m1", epoch=6))  # the newest replaces it
    assert [(t.member, t.epoch) for t in store.tiles(code)] == [("m1", 6)]


def test_tiles_round_trip_with_nan(store: ClassStore) -> None:
    code = a_class(store).code
    store.join(code, "m1", "<b>Bob</b>", max_size=30)
    store.join(code, "m2", "Zoë", max_size=30)
    sent = {
        "m1": a_tile("m1", name="<b>Bob</b>", test_loss=math.nan, score=math.nan, picture="iVBOR"),
        "m2": a_tile("m2", name="Zoë", status="diverged", score=0.875, metric="R²", version=3),
    }
    for tile in sent.values():
        store.put_tile(code, tile)
    got = {t.member: t for t in store.tiles(code)}
    assert set(got) == set(sent)
    assert math.isnan(got["m1"].test_loss) and math.isnan(got["m1"].score)
    for m, tile in sent.items():
        # NaN != NaN: compare the JSON forms, where NaN is None.
        assert got[m].to_json() == tile.to_json()


def test_spotlight_set_and_clear(store: ClassStore) -> None:
    code = a_class(store).code
    store.join(code, "m1", "Ada", max_size=30)
    store.set_spotlight(code, "m1")
    assert store.spotlight(code) == "m1"
    store.set_spotlight(code, "stranger")  # only a learner of the class
    assert store.spotlight(code) is None
    store.set_spotlight(code, "m1")
    store.set_spotlight(code, None)
    assert store.spotlight(code) is None


def test_spotlight_view_is_shown_fresh_and_not_when_expired(store: ClassStore) -> None:
    code = a_class(store).code
    for m in ("m1", "m2"):
        store.join(code, m, m, max_size=30)
    store.set_spotlight(code, "m1")
    store.put_spotlight_view(code, "m2", {"picture": "not on screen"})
    assert store.spotlight_view(code) is None
    store.put_spotlight_view(code, "m1", {"picture": "big", "epoch": 7})
    assert store.spotlight_view(code) == {"picture": "big", "epoch": 7}
    later(store, view_expiry(store) + 0.3)
    assert store.spotlight_view(code) is None
    store.put_spotlight_view(code, "m1", {"picture": "again"})
    assert store.spotlight_view(code) == {"picture": "again"}
    store.set_spotlight(code, "m2")  # another learner: the old picture is not theirs
    assert store.spotlight_view(code) is None


def test_an_idle_class_expires_with_all_its_data(store: ClassStore) -> None:
    code = a_class(store, idle_s=1.0).code
    store.join(code, "m1", "Ada", max_size=30)
    store.put_tile(code, a_tile("m1"))
    store.set_spotlight(code, "m1")
    store.put_spotlight_view(code, "m1", {"picture": "big"})
    later(store, 1.5)
    assert store.info(code) is None
    assert store.roster(code) == {} and store.tiles(code) == []
    assert store.spotlight(code) is None and store.spotlight_view(code) is None
    assert not store.join(code, "m2", "Bob", max_size=30)
    assert store.send_exercise(code, {"dataset": "xor"}) == 0
    if isinstance(store, RedisStore):
        assert redis_keys(store, code) == []


def test_every_write_keeps_the_class_alive(store: ClassStore) -> None:
    code = a_class(store, idle_s=1.0).code
    later(store, 0.6)
    assert store.join(code, "m1", "Ada", max_size=30)
    later(store, 0.6)  # 1.2 s after creation, 0.6 s after the join
    assert store.info(code) is not None
    store.put_tile(code, a_tile("m1"))
    later(store, 0.6)
    assert store.roster(code) == {"m1": "Ada"} and len(store.tiles(code)) == 1
    if isinstance(store, RedisStore):  # every key expires together
        client = redis.Redis.from_url(url_of(store))
        ttls = [client.pttl(k) for k in redis_keys(store, code)]
        assert len(ttls) == 3 and all(0 < ms <= 1000 for ms in ttls), ttls
    later(store, 1.2)
    assert store.info(code) is None and store.roster(code) == {}


def test_end_deletes_everything(store: ClassStore) -> None:
    info = a_class(store)
    code = info.code
    other = a_class(store)
    store.join(code, "m1", "Ada", max_size=30)
    store.put_tile(code, a_tile("m1"))
    store.set_spotlight(code, "m1")
    store.put_spotlight_view(code, "m1", {"picture": "big"})
    store.end(code)
    assert store.info(code) is None and store.roster(code) == {} and store.tiles(code) == []
    assert store.spotlight(code) is None and store.spotlight_view(code) is None
    assert not store.join(code, "m1", "Ada", max_size=30)
    assert store.info(other.code) == other  # only that class
    store.end(code)  # twice: nothing to do
    if isinstance(store, RedisStore):
        assert redis_keys(store, code) == []


def an_entry(member: str, challenge: str = "xor-4", **fields) -> dict:
    base = dict(name=f"Learner {member}", relus=4, parameters=17, steps=300, score=0.97)
    return {"member": member, "challenge": challenge, "time": 1000.0, **base, **fields}


def test_the_leaderboard_keeps_each_learners_best_in_order(store: ClassStore) -> None:
    code = a_class(store).code
    for m in ("m1", "m2", "m3"):
        store.join(code, m, m.upper(), max_size=30)
    store.submit(code, an_entry("m1", relus=4, steps=900, time=1.0))
    store.submit(code, an_entry("m2", relus=4, steps=200, time=2.0))
    store.submit(code, an_entry("m3", relus=8, steps=10, time=0.5))
    assert [e["member"] for e in store.leaderboard(code, "xor-4")] == ["m2", "m1", "m3"]
    # m3's better try replaces theirs; m1's worse and equal tries do not.
    store.submit(code, an_entry("m3", relus=3, parameters=13, steps=5000, time=9.0))
    store.submit(code, an_entry("m1", relus=5, steps=1, time=3.0))
    store.submit(code, an_entry("m1", relus=4, steps=900, time=4.0))
    board = store.leaderboard(code, "xor-4")
    assert [(e["member"], e["relus"], e["time"]) for e in board] == [
        ("m3", 3, 9.0),
        ("m2", 4, 2.0),
        ("m1", 4, 1.0),
    ]
    assert board[0] == an_entry("m3", relus=3, parameters=13, steps=5000, time=9.0)
    # Another challenge is its own board; a stranger and a gone class are ignored.
    store.submit(code, an_entry("m1", challenge="spiral-3", relus=40, steps=None))
    store.submit(code, an_entry("stranger", relus=1))
    store.submit(new_code(), an_entry("m1", relus=1))
    assert [e["member"] for e in store.leaderboard(code, "spiral-3")] == ["m1"]
    assert store.leaderboard(code, "spiral-3")[0]["steps"] is None
    assert list(store.leaderboards(code)) == ["spiral-3", "xor-4"]
    assert len(store.entries(code)) == 4
    assert store.leaderboard(code, "product") == []
    store.end(code)
    assert store.entries(code) == []


def test_a_tie_keeps_the_earlier_entry_and_the_time_breaks_ties(store: ClassStore) -> None:
    code = a_class(store).code
    for m in ("a", "b"):
        store.join(code, m, m, max_size=30)
    store.submit(code, an_entry("b", time=5.0))
    store.submit(code, an_entry("a", time=6.0))
    store.submit(code, an_entry("b", time=7.0))  # the same numbers later: not better
    board = store.leaderboard(code, "xor-4")
    assert [(e["member"], e["time"]) for e in board] == [("b", 5.0), ("a", 6.0)]


def test_an_experiment_assigns_places_in_order_once_each(store: ClassStore) -> None:
    info = a_class(store)
    code = info.code
    for m in ("m1", "m2", "m3"):
        store.join(code, m, m, max_size=30)
    assert store.assign(code, "m1") is None  # no experiment yet
    exp = {"knob": "learning_rate", "start": 0.001, "stop": 0.1, "count": 3, "log": True}
    assert store.start_experiment(code, exp) == info.version + 1
    assert store.info(code).experiment == exp
    assert [store.assign(code, m) for m in ("m2", "m1", "m2", "m3")] == [0, 1, 0, 2]
    assert store.assign(code, "stranger") is None
    assert store.assign(new_code(), "m1") is None
    assert store.start_experiment(new_code(), exp) == 0
    # A new experiment starts the places again; ending it leaves none.
    assert store.start_experiment(code, {**exp, "knob": "seed"}) == info.version + 2
    assert store.assign(code, "m3") == 0
    assert store.start_experiment(code, None) == info.version + 3
    assert store.info(code).experiment is None and store.assign(code, "m3") is None


def test_a_class_created_with_an_experiment_has_it(store: ClassStore) -> None:
    exp = {"knob": "seed", "start": 0, "stop": 9, "count": 10, "log": False, "id": "ab12"}
    info = ClassInfo(code=new_code(), teacher_hash=secret_hash("s"), exercise={}, experiment=exp)
    store.create(info, 600)
    assert store.info(info.code) == info
    store.join(info.code, "m1", "Ada", max_size=30)
    assert store.assign(info.code, "m1") == 0


def test_concurrent_assignments_give_distinct_places(store: ClassStore) -> None:
    """Sixteen learners take their place at once (through two app processes' stores, for
    Redis): sixteen different places, 0 to 15."""
    code = a_class(store).code
    for i in range(16):
        store.join(code, f"m{i}", f"Learner {i}", max_size=30)
    store.start_experiment(code, {"knob": "seed", "start": 0, "stop": 15, "count": 16})
    stores = [store, RedisStore(url_of(store)) if isinstance(store, RedisStore) else store]
    start = threading.Barrier(16)
    got: dict[str, int | None] = {}

    def assign(i: int) -> None:
        start.wait()
        got[f"m{i}"] = stores[i % 2].assign(code, f"m{i}")

    threads = [threading.Thread(target=assign, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(got.values()) == list(range(16))
    assert all(store.assign(code, m) == place for m, place in got.items())  # kept


# --- Redis only ----------------------------------------------------------------------------


def test_a_class_spans_two_app_processes(redis_url: str) -> None:
    """A teacher's replica and a learner's replica, each with its own store."""
    teacher, learner = RedisStore(redis_url), RedisStore(redis_url)
    info = a_class(teacher)
    assert learner.info(info.code) == info
    assert learner.join(info.code, "m1", "Ada", max_size=30)
    learner.put_tile(info.code, a_tile("m1", epoch=42))
    assert teacher.roster(info.code) == {"m1": "Ada"}
    assert [t.epoch for t in teacher.tiles(info.code)] == [42]
    assert teacher.send_exercise(info.code, {"dataset": "spiral"}) == 2
    assert learner.info(info.code).exercise == {"dataset": "spiral"}


def test_redis_holds_only_json(redis_url: str) -> None:
    store = RedisStore(redis_url)
    code = a_class(store).code
    store.join(code, "m1", "Ada", max_size=30)
    store.put_tile(code, a_tile("m1", test_loss=math.nan))
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    fields = client.hgetall(f"{PREFIX}{{{code}}}:info")
    assert {"info", "exercise", "version", "idle_ms"} <= set(fields)
    assert json.loads(fields["info"])["code"] == code
    assert json.loads(fields["exercise"]) == {"dataset": "xor", "lr": "0.03"}
    tile = json.loads(client.hget(f"{PREFIX}{{{code}}}:tiles", "m1"))
    assert tile["test_loss"] is None and tile["member"] == "m1"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when this returns: nothing listens


def test_store_unavailable_when_redis_is_down() -> None:
    port = _closed_port()
    store = RedisStore(f"redis://127.0.0.1:{port}/0")
    info = ClassInfo(code=new_code(), teacher_hash=secret_hash("s"), exercise={})
    calls = [
        lambda: store.create(info, 60),
        lambda: store.info(info.code),
        lambda: store.join(info.code, "m1", "Ada", 30),
        lambda: store.tiles(info.code),
        lambda: store.put_tile(info.code, a_tile("m1")),
        lambda: store.spotlight_view(info.code),
    ]
    for call in calls:
        began = time.monotonic()
        with pytest.raises(StoreUnavailable) as err:
            call()
        assert time.monotonic() - began < 5  # a page does not hang on a dead store
        message = str(err.value)
        assert message.startswith(f"the class store (Redis at 127.0.0.1:{port}) cannot be reached")
    assert isinstance(err.value, PlaygroundError)


def test_a_redis_restart_keeps_its_classes(redis_server) -> None:
    """Persistence on (append-only file): a class outlives a Redis restart, and the same
    store object goes on working (its pool reconnects)."""
    store = RedisStore(redis_server.url)
    info = a_class(store)
    store.join(info.code, "m1", "Ada", max_size=30)
    store.put_tile(info.code, a_tile("m1", epoch=9))
    assert store.send_exercise(info.code, {"dataset": "spiral"}) == 2
    redis_server.restart()
    got = store.info(info.code)
    assert got is not None and got.version == 2 and got.exercise == {"dataset": "spiral"}
    assert store.roster(info.code) == {"m1": "Ada"}
    assert [t.epoch for t in store.tiles(info.code)] == [9]
    assert store.join(info.code, "m2", "Bob", max_size=30)  # writes (the scripts) too
    assert store.send_exercise(info.code, {"dataset": "xor"}) == 3


def test_redis_down_then_back(redis_server) -> None:
    """While Redis is down every call says so plainly; once it is back, the same store
    works again without being made anew."""
    store = RedisStore(redis_server.url)
    info = a_class(store)
    redis_server.stop()
    for call in (lambda: store.info(info.code), lambda: store.put_tile(info.code, a_tile("m"))):
        with pytest.raises(StoreUnavailable, match="cannot be reached"):
            call()
    redis_server.start()
    assert store.info(info.code) == info
    assert store.join(info.code, "m1", "Ada", max_size=30)


# --- class_store(): which store --------------------------------------------------------------


@pytest.fixture
def fresh_cache():
    class_store.cache_clear()
    yield
    class_store.cache_clear()


def test_class_store_is_memory_by_default(fresh_cache, monkeypatch) -> None:
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert isinstance(class_store(), MemoryStore)
    assert class_store() is class_store()  # one per process
    assert isinstance(class_store("memory"), MemoryStore)
    assert isinstance(class_store("  "), MemoryStore)


def test_class_store_redis_from_the_environment(fresh_cache, monkeypatch) -> None:
    # Made without connecting: an address alone reaches nothing yet.
    monkeypatch.setenv(STORE_ENV, "redis://cache.example.org:6380/2")
    store = class_store()
    assert isinstance(store, RedisStore) and store.where == "cache.example.org:6380"


def test_class_store_bad_address_says_what_to_fix(fresh_cache, monkeypatch) -> None:
    monkeypatch.setenv(STORE_ENV, "http://localhost:6379")
    with pytest.raises(PlaygroundError) as err:
        class_store()
    message = str(err.value)
    assert STORE_ENV in message and "redis://" in message and "http://localhost:6379" in message

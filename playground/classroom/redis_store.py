"""The class store in Redis (``PLAYGROUND_CLASS_STORE=redis://host:6379/0``): every replica
behind the balancer reads and writes the same classes, so a teacher on one replica sees the
learners on another. Same meaning as ``MemoryStore``; only the keeping differs.

A class is seven keys, ``playground:class:{CODE}:<part>`` (the braces put them in one
Redis Cluster slot, so one script may touch all of them):

- ``info``: a hash: ``info`` (the ClassInfo as JSON, without its exercise, version and
  experiment), ``exercise`` (JSON), ``version`` (counted up by HINCRBY), ``idle_ms``,
  and while a class experiment runs ``experiment`` (JSON) and ``next`` (the next place,
  counted up by HINCRBY);
- ``roster``: a hash, member -> name;
- ``tiles``: a hash, member -> Tile JSON;
- ``spotlight``: the spotlit member;
- ``view``: the spotlit learner's picture, JSON, expiring after SPOTLIGHT_VIEW_S;
- ``board``: a hash, "challenge NUL member" -> {"key": the four ranking numbers,
  "entry": the entry}, each learner's best of each challenge;
- ``places``: a hash, member -> place in the class experiment.

Every write runs as one Lua script: it checks the class exists, changes it, and sets the
expiry of all of the class's keys to its idle time, so a class nobody touched expires
with all its keys at once. Only JSON goes in and out, nothing is unpickled.

No pub/sub: the wall polls the store once a second, which is as live as the tiles (each
learner's page publishes its tile once a second).

Errors of reach (Redis down, restarting, loading its data, too slow) are raised as
StoreUnavailable, in plain words. The client's connection pool reconnects on the next
call, so a restarted Redis is used again without restarting the app.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from playground.classroom.model import ClassInfo, Tile, entry_key
from playground.classroom.store import SPOTLIGHT_VIEW_S, ClassStore, StoreUnavailable

PREFIX = "playground:class:"
PARTS = ("info", "roster", "tiles", "spotlight", "view", "board", "places")
# Short: a page waiting on a dead Redis is a page that does not draw.
CONNECT_TIMEOUT_S = 2.0
OP_TIMEOUT_S = 2.0
# A pooled connection idle this long is pinged before use, so one cut by a Redis restart
# is replaced instead of failing the call.
HEALTH_CHECK_S = 5

# Every write script starts with this. KEYS are the class's keys in PARTS order.
_PRELUDE = """
local function touch()
  local ms = redis.call('HGET', KEYS[1], 'idle_ms')
  for _, i in ipairs({1, 2, 3, 4, 6, 7}) do redis.call('PEXPIRE', KEYS[i], ms) end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
"""

# ARGV: exercise JSON. Returns the new version.
_SEND = """
redis.call('HSET', KEYS[1], 'exercise', ARGV[1])
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
touch()
return version
"""

# ARGV: experiment JSON, or "" to end it. The places start again from 0.
_START_EXPERIMENT = """
if ARGV[1] == '' then
  redis.call('HDEL', KEYS[1], 'experiment', 'next')
else
  redis.call('HSET', KEYS[1], 'experiment', ARGV[1], 'next', 0)
end
redis.call('DEL', KEYS[7])
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
touch()
return version
"""

# ARGV: member. Returns the member's place + 1 (0 is the prelude's "no class"); -1 for
# no experiment or not a learner. HINCRBY in the script: two replicas never hand out
# the same place.
_ASSIGN = """
if redis.call('HEXISTS', KEYS[1], 'experiment') == 0
   or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  return -1
end
local place = redis.call('HGET', KEYS[7], ARGV[1])
if not place then
  place = redis.call('HINCRBY', KEYS[1], 'next', 1) - 1
  redis.call('HSET', KEYS[7], ARGV[1], place)
end
touch()
return tonumber(place) + 1
"""

# ARGV: member, board field, stored JSON, then the entry's four ranking numbers
# (model.entry_key). Kept only when better than the learner's best (a tie keeps it).
_SUBMIT = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
local old = redis.call('HGET', KEYS[6], ARGV[2])
if old then
  local key = cjson.decode(old)['key']
  local better = false
  for i = 1, 4 do
    local new, was = tonumber(ARGV[3 + i]), tonumber(key[i])
    if new < was then better = true break end
    if new > was then break end
  end
  if not better then touch() return 1 end
end
redis.call('HSET', KEYS[6], ARGV[2], ARGV[3])
touch()
return 1
"""

# ARGV: member, name, max size. Checked and added in one step: two joins at once cannot
# both take the last place.
_JOIN = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0
   and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[3]) then
  touch()
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
touch()
return 1
"""

# ARGV: member.
_LEAVE = """
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4], KEYS[5]) end
touch()
return 1
"""

# ARGV: member, tile JSON.
_PUT_TILE = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
end
touch()
return 1
"""

# ARGV: member, or "" for none.
_SET_SPOTLIGHT = """
if ARGV[1] ~= '' and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  redis.call('SET', KEYS[4], ARGV[1])
else
  redis.call('DEL', KEYS[4])
end
redis.call('DEL', KEYS[5])
touch()
return 1
"""

# ARGV: member, view JSON, its life in ms. Not a touch (as in MemoryStore); the view
# never outlives its class.
_PUT_VIEW = """
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return 0 end
local ms = math.min(tonumber(ARGV[3]), redis.call('PTTL', KEYS[1]))
if ms > 0 then redis.call('SET', KEYS[5], ARGV[2], 'PX', ms) end
return 1
"""


def keys(code: str) -> list[str]:
    """The class's keys, in PARTS order."""
    return [f"{PREFIX}{{{code}}}:{part}" for part in PARTS]


class RedisStore(ClassStore):
    """Classes in one Redis, shared by every app process that points at it."""

    view_s = SPOTLIGHT_VIEW_S  # tests shorten it

    def __init__(self, url: str):
        self._redis = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=OP_TIMEOUT_S,
            health_check_interval=HEALTH_CHECK_S,
            # One quick retry on a broken connection (a restarted Redis); not on a
            # timeout, where the script may have run and a second HINCRBY would count twice.
            retry=Retry(ExponentialBackoff(cap=0.25, base=0.05), 1, (RedisConnectionError,)),
        )
        kw = self._redis.connection_pool.connection_kwargs
        self.where = kw.get("path") or f"{kw.get('host', 'localhost')}:{kw.get('port', 6379)}"
        self._scripts = {
            name: self._redis.register_script(_PRELUDE + body)
            for name, body in [
                ("send", _SEND),
                ("join", _JOIN),
                ("leave", _LEAVE),
                ("put_tile", _PUT_TILE),
                ("set_spotlight", _SET_SPOTLIGHT),
                ("put_view", _PUT_VIEW),
                ("start_experiment", _START_EXPERIMENT),
                ("assign", _ASSIGN),
                ("submit", _SUBMIT),
            ]
        }

    @contextlib.contextmanager
    def _reach(self) -> Iterator[None]:
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError) as err:
            raise StoreUnavailable(
                f"the class store (Redis at {self.where}) cannot be reached: {err}"
            ) from err
        except RedisError as err:  # e.g. out of memory, read-only replica: the host's to fix
            raise StoreUnavailable(
                f"the class store (Redis at {self.where}) refused a command: {err}"
            ) from err

    def _run(self, script: str, code: str, *args) -> int:
        with self._reach():
            return int(self._scripts[script](keys=keys(code), args=list(args)))

    def create(self, info: ClassInfo, idle_s: float) -> None:
        raw = info.to_json()
        exercise, version = raw.pop("exercise"), raw.pop("version")
        experiment = raw.pop("experiment")
        k = keys(info.code)
        fields = {
            "info": json.dumps(raw),
            "exercise": json.dumps(exercise),
            "version": int(version),
            "idle_ms": max(1, round(idle_s * 1000)),
        }
        if experiment is not None:
            fields.update(experiment=json.dumps(experiment), next=0)
        with self._reach():
            pipe = self._redis.pipeline(transaction=True)  # MULTI: a fresh class, whole
            pipe.delete(*k)
            pipe.hset(k[0], mapping=fields)
            pipe.pexpire(k[0], fields["idle_ms"])
            pipe.execute()

    def info(self, code: str) -> ClassInfo | None:
        with self._reach():
            fields = self._redis.hgetall(keys(code)[0])
        if not fields:
            return None
        raw = json.loads(fields["info"])
        raw["exercise"] = json.loads(fields["exercise"])
        raw["version"] = int(fields["version"])
        raw["experiment"] = json.loads(fields["experiment"]) if "experiment" in fields else None
        return ClassInfo.from_json(raw)

    def send_exercise(self, code: str, exercise: dict[str, str]) -> int:
        return self._run("send", code, json.dumps(dict(exercise)))

    def end(self, code: str) -> None:
        with self._reach():
            self._redis.delete(*keys(code))

    def join(self, code: str, member: str, name: str, max_size: int) -> bool:
        return self._run("join", code, member, name, int(max_size)) == 1

    def leave(self, code: str, member: str) -> None:
        self._run("leave", code, member)

    def roster(self, code: str) -> dict[str, str]:
        with self._reach():
            return dict(self._redis.hgetall(keys(code)[1]))

    def put_tile(self, code: str, tile: Tile) -> None:
        self._run("put_tile", code, tile.member, json.dumps(tile.to_json()))

    def tiles(self, code: str) -> list[Tile]:
        with self._reach():
            raw = self._redis.hvals(keys(code)[2])
        return [Tile.from_json(json.loads(text)) for text in raw]

    def set_spotlight(self, code: str, member: str | None) -> None:
        self._run("set_spotlight", code, member or "")

    def spotlight(self, code: str) -> str | None:
        with self._reach():
            return self._redis.get(keys(code)[3]) or None

    def put_spotlight_view(self, code: str, member: str, view: dict) -> None:
        text = json.dumps({"member": member, "view": view})
        self._run("put_view", code, member, text, max(1, round(self.view_s * 1000)))

    def spotlight_view(self, code: str) -> dict | None:
        k = keys(code)
        with self._reach():
            member, text = self._redis.mget(k[3], k[4])
        if not member or not text:
            return None
        held = json.loads(text)
        return held["view"] if held.get("member") == member else None

    def start_experiment(self, code: str, experiment: dict | None) -> int:
        text = "" if experiment is None else json.dumps(dict(experiment))
        return self._run("start_experiment", code, text)

    def assign(self, code: str, member: str) -> int | None:
        got = self._run("assign", code, member)
        return got - 1 if got > 0 else None

    def submit(self, code: str, entry: dict) -> None:
        entry = dict(entry)
        key = entry_key(entry)
        held = json.dumps({"key": key, "entry": entry})
        field = f"{entry['challenge']}\0{entry['member']}"
        # repr: every float goes to Lua exactly (tonumber reads it back bit for bit).
        self._run("submit", code, entry["member"], field, held, *(repr(k) for k in key))

    def entries(self, code: str) -> list[dict]:
        with self._reach():
            raw = self._redis.hvals(keys(code)[5])
        return [json.loads(text)["entry"] for text in raw]

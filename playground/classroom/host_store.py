"""The class store this server process uses, from the host's setting: in memory by
default, in Redis when ``PLAYGROUND_CLASS_STORE=redis://host:6379/0`` (a class spanning
the replicas behind a balancer)."""

import functools
import os

from playground.classroom.redis_store import RedisStore
from playground.classroom.store import ClassStore, MemoryStore
from playground.core.errors import PlaygroundError

STORE_ENV = "PLAYGROUND_CLASS_STORE"


@functools.cache
def class_store(url: str | None = None) -> ClassStore:
    """This process's store: ``url`` or ``$PLAYGROUND_CLASS_STORE`` (redis://...), else
    memory. A bad address is the host's to fix: a PlaygroundError saying so."""
    url = (os.environ.get(STORE_ENV, "") if url is None else url).strip()
    if url in ("", "memory"):
        return MemoryStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url)
    raise PlaygroundError(
        f"{STORE_ENV} must be a redis:// address such as redis://localhost:6379/0, not {url[:80]!r}"
    )

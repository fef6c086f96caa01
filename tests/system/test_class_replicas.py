"""A class that spans replicas: two app servers behind nginx sharing one Redis class
store (``PLAYGROUND_CLASS_STORE``). The teacher is pinned to one replica and a learner to
the other (nginx's route cookie); the teacher's wall shows the learner, a Redis restart
(append-only file on) loses no class, and a Redis that is down is said in plain words.

Opt-in with the other replicas tests: ``make test-deploy`` (``.ci/run`` runs them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RedisServer, started_redis
from tests.system.test_replicas import UPSTREAM_HEADER, Cluster, _route_cookies, running_cluster

pytestmark = pytest.mark.replicas
CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 240_000


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with started_redis(tmp_path_factory.mktemp("class-redis")) as server:
        yield server


@pytest.fixture(scope="module")
def class_cluster(tmp_path_factory, redis: RedisServer) -> Iterator[Cluster]:
    env = {"PLAYGROUND_CLASS_STORE": redis.url}
    with running_cluster(tmp_path_factory.mktemp("class-replicas"), env) as lb:
        yield lb


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def pinned_page(browser, cluster: Cluster, route_key: str):
    """A browser context whose every request goes to one replica (its route cookie)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": "playground_route", "value": route_key, "url": cluster.url}])
    return context.new_page()


def test_a_class_spans_two_replicas_and_survives_a_redis_restart(
    class_cluster: Cluster, redis: RedisServer, browser
) -> None:
    keys = _route_cookies(class_cluster)
    assert len(keys) == 2, keys
    (teacher_replica, teacher_key), (learner_replica, learner_key) = sorted(keys.items())
    teacher = pinned_page(browser, class_cluster, teacher_key)
    response = teacher.goto(class_cluster.url + "/class")
    assert response.headers[UPSTREAM_HEADER.lower()] == teacher_replica
    teacher.get_by_role("button", name="Create a class").click()
    teacher.wait_for_url("**teacher=**", timeout=WAIT_MS)  # the class's page
    join = teacher.locator('[data-testid="stCode"]').first.inner_text().strip()
    code = re.search(r"class=(\w+)", join).group(1)

    learner = pinned_page(browser, class_cluster, learner_key)
    response = learner.goto(f"{class_cluster.url}/?class={code}&name=Remote%20Rae")
    assert response.headers[UPSTREAM_HEADER.lower()] == learner_replica
    learner.get_by_text("you appear as: Remote Rae").wait_for(timeout=WAIT_MS)
    # The learner's replica publishes her tile to Redis; the teacher's replica shows it.
    wall_tile = teacher.locator('[class*="st-key-tile_"]').filter(has_text="Remote Rae")
    wall_tile.first.wait_for(timeout=WAIT_MS)

    redis.restart()  # the append-only file brings the class back
    teacher.reload()
    wall_tile.first.wait_for(timeout=WAIT_MS)
    assert teacher.get_by_text("This link is not a teacher's link.").count() == 0

    redis.stop()  # down: said plainly, on the teacher's page, nothing crashes
    teacher.reload()
    teacher.get_by_text("cannot be reached").first.wait_for(timeout=WAIT_MS)
    redis.start()

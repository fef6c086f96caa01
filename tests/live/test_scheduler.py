"""The process scheduler, driven step by step with a fake clock: fair shares, slices that
shrink as learners join, a line when the server is full, closed sessions that stop, and
host limits that refuse with a message."""

import itertools
import threading
import time

import pytest

from playground.core.config import RunConfig
from playground.core.errors import PlaygroundError
from playground.live.engine.limits import HostLimits, load_limits, step_gflop
from playground.live.server.scheduler import (
    FIRST_STREAM_S,
    MATE_WAIT_S,
    MAX_SLICE_S,
    MIN_SLICE_S,
    SPIKE_CAP,
    Scheduler,
    SessionTrainer,
    TrainTask,
)
from playground.live.server.stream import StreamLink
from playground.live.session.live_run import LiveRun


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeTask:
    """Each slice costs ``cost`` times the slice it was given (a big net overruns)."""

    def __init__(self, clock: Clock, cost: float = 1.0, stop_after: int | None = None):
        self.clock, self.cost, self.stop_after = clock, cost, stop_after
        self.slices: list[float] = []
        self.spikes: dict[int, float] = {}  # slice number -> its cost instead (a busy machine)

    def run_slice(self, seconds: float) -> None:
        cost = self.spikes.pop(len(self.slices), self.cost)
        self.slices.append(seconds)
        self.clock.now += seconds * cost

    def stopped(self) -> str:
        done = self.stop_after is not None and len(self.slices) >= self.stop_after
        return "diverged" if done else ""


def scheduler(clock: Clock, **limits) -> Scheduler:
    return Scheduler(HostLimits(workers=2, **limits), clock=clock, threads=False)


def run(s: Scheduler, n: int) -> None:
    for _ in range(n):
        assert s.work_once()


def test_every_run_gets_the_same_share_of_time_even_a_huge_one():
    clock = Clock()
    s = scheduler(clock)
    small = [FakeTask(clock) for _ in range(3)]
    huge = FakeTask(clock, cost=10.0)  # each of its slices overruns tenfold
    for i, task in enumerate([*small, huge]):
        s.play(i, task)
        s.watch(i, +1)  # a stream shows each
    run(s, 400)
    used = [s.job(i).used for i in range(4)]
    # Worker time, not slices, is shared: the huge net gets ~1/10 as many slices.
    assert max(used) / min(used) < 1.3
    assert len(huge.slices) < len(small[0].slices) / 5


def test_a_slice_slowed_by_a_busy_machine_does_not_leave_its_run_behind():
    """A slice that took 20x its usual time (the machine was busy, the run no bigger) is
    charged at most SPIKE_CAP typical slices: its run comes round again after a few
    slices of the others, not after each of them has caught up 19 slices."""
    clock = Clock()
    s = scheduler(clock)
    tasks = [FakeTask(clock) for _ in range(4)]
    for i, task in enumerate(tasks):
        s.play(i, task)
        s.watch(i, +1)
    run(s, 40)
    slowed = tasks[0]
    slowed.spikes[len(slowed.slices)] = 20.0
    spiked_at = len(slowed.slices) + 1
    while len(slowed.slices) < spiked_at:
        run(s, 1)
    turns = 0
    while len(slowed.slices) == spiked_at:
        run(s, 1)
        turns += 1
    # Charged in full, it would wait for 19 slices of each other run; capped, for
    # SPIKE_CAP - 1 of each, and one round more where their times tie.
    others = len(tasks) - 1
    assert turns <= (SPIKE_CAP + 1) * others + 1, turns
    run(s, 400)  # and the shares stay even
    used = [s.job(i).used for i in range(4)]
    assert max(used) / min(used) < 1.3


class FakeCohortTask(FakeTask):
    """A run of one shape: its slices are taken in calls for several (``run_together``)."""

    def __init__(self, clock: Clock):
        super().__init__(clock)
        self.served: list[float] = []

    def cohort_key(self) -> str:
        return "xor 8-8"

    def run_slice(self, seconds: float) -> None:
        self.served.append(self.clock.now)
        super().run_slice(seconds)

    @staticmethod
    def run_together(tasks: "list[FakeCohortTask]", seconds: float) -> float:
        for t in tasks:
            t.served.append(t.clock.now)
        tasks[0].clock.now += seconds
        return 0.0


def test_runs_left_out_of_a_full_cohort_call_go_in_before_long():
    """20 runs of one shape, a call holds 16: the four first learners, served far more
    while they trained alone, still get a slice at least every MATE_WAIT_S and a bit (by
    served time alone they waited until the others had caught up, seconds)."""
    clock = Clock()
    s = scheduler(clock, max_playing=40)
    tasks = [FakeCohortTask(clock) for _ in range(20)]
    for i, task in enumerate(tasks):
        s.play(i, task)
        s.watch(i, +1)
        s.job(i).used = 5.0 if i < 4 else 0.0  # the first learners' lead
    start = clock.now
    while clock.now - start < 3.0:
        assert s.work_once()
    for task in tasks:
        times = [start, *task.served, clock.now]
        longest = max(b - a for a, b in itertools.pairwise(times))
        assert longest <= MATE_WAIT_S + 2 * MAX_SLICE_S, longest


def test_slices_shrink_as_learners_join():
    clock = Clock()
    s = scheduler(clock, pictures_per_s=25)
    s.play("a", FakeTask(clock))
    alone = s.slice_seconds()
    for i in range(30):
        s.play(i, FakeTask(clock))
    assert alone == MAX_SLICE_S
    assert s.slice_seconds() == MIN_SLICE_S < alone
    # Each of 31 runs on 2 workers comes round within 31 x 8 ms / 2 = 124 ms: 8 a second.
    assert 31 * s.slice_seconds() / 2 < 1 / 5


def test_a_full_server_puts_new_runs_in_line_and_lets_them_in_in_order():
    clock = Clock()
    s = scheduler(clock, max_playing=2)
    for key in "abcd":
        s.play(key, FakeTask(clock))
    assert s.playing() == 2
    assert [s.ahead(k) for k in "abcd"] == [0, 0, 1, 2]
    run(s, 20)
    assert not s.job("c").slices and not s.job("d").slices  # waiting runs never train
    s.stop("a")
    assert s.ahead("c") == 0 and s.ahead("d") == 1 and s.playing() == 2
    run(s, 20)
    assert s.job("c").slices > 0
    # A newcomer starts level with those playing, not owed the time it waited.
    assert s.job("c").used >= min(s.job("b").used, s.job("c").used) > 0


def test_a_run_that_stops_by_itself_frees_its_place_and_says_why():
    clock = Clock()
    s = scheduler(clock, max_playing=1)
    s.play("a", FakeTask(clock, stop_after=3))
    s.play("b", FakeTask(clock))
    run(s, 3)
    assert s.job("a").stopped == "diverged"
    assert s.ahead("b") == 0 and s.playing() == 1  # b took a's place
    run(s, 2)
    assert s.job("b").slices == 2


def test_a_closed_session_stops_after_the_idle_time_and_an_open_stream_keeps_it():
    clock = Clock()
    s = scheduler(clock)
    s.idle_stop = 3.0
    s.play("gone", FakeTask(clock))
    s.play("watched", FakeTask(clock))
    s.watch("watched", +1)
    clock.now += 3.5  # nobody touched "gone" for longer than the idle time
    run(s, 1)
    assert s.job("gone") is None and s.job("watched") is not None
    s.watch("watched", -1)  # the tab closed
    clock.now += 2.0
    run(s, 1)
    assert s.job("watched") is not None  # within the grace time a reconnect resumes
    clock.now += 1.5
    assert not s.work_once()
    assert s.job("watched") is None


def test_a_streaming_page_gets_time_to_open_its_first_stream():
    clock = Clock()
    s = scheduler(clock)
    s.idle_stop = 3.0
    s.play("slow page", FakeTask(clock), streamed=True)
    clock.now += 3.5  # a busy browser has not opened the socket yet
    run(s, 1)
    assert s.job("slow page") is not None
    s.watch("slow page", +1)  # it connects: from now on the usual idle time
    s.watch("slow page", -1)
    clock.now += 3.5
    assert not s.work_once()
    assert s.job("slow page") is None
    s.play("never", FakeTask(clock), streamed=True)
    clock.now += FIRST_STREAM_S + 0.5  # a tab closed before its stream ever came
    assert not s.work_once()
    assert s.job("never") is None


def test_a_new_task_takes_the_place_of_a_busy_one_without_a_gap():
    """A page that starts its run again (a new picture encoder) while a worker is inside
    the old task's slice: whoever asks for the key's job meanwhile gets the old one,
    still playing, never none (a stream would have said the run stopped)."""
    clock = Clock()
    s = scheduler(clock)
    old, new = FakeTask(clock), FakeTask(clock)
    first = s.play("me", old)
    link = StreamLink("me", s)
    link.playing = True  # the page plays: its stream reports the job's state
    with s._cv:
        first.busy = True  # a worker is inside its slice
    playing = threading.Thread(target=s.play, args=("me", new))
    playing.start()
    seen = []
    deadline = time.monotonic() + 60
    while not first.removed:  # play() took it out of the line and waits for the worker
        assert time.monotonic() < deadline, "play() never retired the old job"
        time.sleep(0.01)
    for _ in range(10):
        job = s.job("me")
        seen.append(None if job is None else (job.task, job.stopped, link.status()["state"]))
        time.sleep(0.01)
    assert playing.is_alive()  # still waiting for the worker
    assert seen == [(old, "", "playing")] * 10
    with s._cv:
        first.busy = False
        s._cv.notify_all()
    playing.join(timeout=60)
    assert not playing.is_alive()
    assert s.job("me").task is new and first not in s._line
    run(s, 2)
    assert len(new.slices) == 2 and old.slices == []  # only the new task trains


def test_a_page_heartbeat_keeps_a_run_without_a_stream():
    clock = Clock()
    s = scheduler(clock)
    s.play("page", FakeTask(clock))
    for _ in range(5):
        clock.now += 2.0
        s.touch("page")
        run(s, 1)
    assert s.job("page") is not None


def test_a_failing_task_is_stopped_with_a_message():
    class Broken(FakeTask):
        def run_slice(self, seconds):
            raise RuntimeError("out of memory")

    clock = Clock()
    s = scheduler(clock)
    s.play("x", Broken(clock))
    run(s, 1)
    assert s.job("x").stopped == "Training stopped: out of memory"
    assert not s.work_once()


def test_a_real_run_trains_and_takes_pictures_under_the_scheduler():
    s = Scheduler(
        HostLimits(workers=1), threads=False, idle_stop=1e9
    )  # a busy machine compiles slowly
    live = LiveRun(RunConfig(problem="xor", hidden=(8, 8), batch_size=10))
    s.play("me", TrainTask(live, grid_n=16, pictures_per_s=1000))
    for _ in range(20):
        s.work_once()
    assert live.step > 0
    snaps = live.snapshots.since(0)
    assert snaps and snaps[-1].grid.shape == (16, 16) and snaps[-1].step <= live.step


def test_a_page_run_again_does_not_take_the_same_picture_twice():
    """A page run again gives its run a new task (a new encoder); the run has not moved
    since the old task's last picture, so the new one waits for a step before its first:
    the same picture again left the browser a frame without its output grid (an array
    equal to the one before it is not sent), in a page test beside two CPU hogs."""
    clock = Clock()
    s = Scheduler(HostLimits(workers=1), clock=clock, threads=False, idle_stop=1e9)
    live = LiveRun(RunConfig(problem="xor", hidden=(8, 8), batch_size=10, speed="normal"))
    live.clock = clock
    trainer = SessionTrainer(s, "me")
    for _ in range(4):  # four runs of the page, each with an encoder of its own
        trainer.start(live, snapshot_grid=8, encode=lambda snap: snap)
        for _ in range(3):
            s.work_once()
            clock.now += 0.02
    steps = [snap.step for snap in live.snapshots.since(0)]
    assert len(steps) >= 3 and steps == sorted(set(steps)), steps


class SleepyTask(FakeTask):
    """Has work only every ``every`` seconds, and says so (``ready_at``)."""

    def __init__(self, clock: Clock, every: float):
        super().__init__(clock, cost=0.0)
        self.every, self.next = every, clock.now

    def run_slice(self, seconds: float) -> None:
        super().run_slice(seconds)
        self.next = self.clock.now + self.every

    def ready_at(self) -> float:
        return self.next


def test_a_task_that_waits_for_its_time_is_not_visited_before_it():
    clock = Clock()
    s = scheduler(clock)
    sleepy, busy = SleepyTask(clock, every=0.04), FakeTask(clock)
    s.play("sleepy", sleepy)
    assert s.work_once() and len(sleepy.slices) == 1
    assert not s.work_once()  # nothing else has work: the worker would sleep...
    assert s._sleep_s(0.5) == pytest.approx(0.04)  # ...until the sleepy one is ready
    s.play("busy", busy)
    run(s, 50)  # 50 slices of 5-60 ms: sleepy is visited once per 40 ms, not each time
    elapsed = clock.now - 100.0
    assert 1 <= len(sleepy.slices) - 1 <= elapsed / 0.04 + 1
    assert len(busy.slices) >= 50 - len(sleepy.slices)


def test_a_paced_run_is_visited_once_a_picture_and_trains_in_few_calls():
    """At "normal" speed (750 steps a second) and 25 pictures a second, a run has work
    every 40 ms: one visit trains what is owed and takes a picture. Between visits no
    worker spends anything on it."""
    clock = Clock()
    s = Scheduler(HostLimits(workers=1), clock=clock, threads=False)
    live = LiveRun(RunConfig(problem="xor", hidden=(8, 8), batch_size=10, speed="normal"))
    live.clock = clock
    task = TrainTask(live, grid_n=8, pictures_per_s=25, clock=clock)
    s.play("me", task)
    s.watch("me", +1)
    ticks, visits = 100, 0  # 2 s in 20 ms ticks
    for _ in range(ticks):
        for _ in range(10):
            if not s.work_once():
                break
            visits += 1
        clock.now += 0.02
    pictures = live.snapshots.added
    assert 40 <= visits <= 55 and 40 <= pictures <= 55
    assert abs(live.step - 2.0 * live.pace) <= 64
    assert task.ready_at() > clock.now - 0.02  # it says when it next has work


# -- host limits ---------------------------------------------------------------------


def test_limits_come_from_the_host_file(tmp_path, monkeypatch):
    f = tmp_path / "host.toml"
    f.write_text("[limits]\nmax_width = 64\nmax_playing = 30\npictures_per_s = 10\n")
    limits = load_limits(f)
    assert (limits.max_width, limits.max_playing, limits.pictures_per_s) == (64, 30, 10.0)
    monkeypatch.setenv("PLAYGROUND_HOST_CONFIG", str(f))
    assert load_limits() == limits
    monkeypatch.delenv("PLAYGROUND_HOST_CONFIG")
    monkeypatch.chdir(tmp_path / "..")
    assert load_limits() == HostLimits()  # no file: a laptop's defaults


@pytest.mark.parametrize(
    "text, words",
    [
        ("max_width = 'many'", "max_width must be a int number"),
        ("max_widht = 3", "unknown settings max_widht"),
        ("max_playing = -1", "max_playing must be 0 or more"),
        ("max_width = 5000", "at most 1024 units"),
        ("max_width = [", "host.toml"),
    ],
)
def test_a_bad_host_file_is_refused_in_plain_words(tmp_path, text, words):
    f = tmp_path / "host.toml"
    f.write_text(text)
    with pytest.raises(PlaygroundError, match=words.replace("(", r"\(")):
        load_limits(f)


def test_the_repository_host_file_is_valid():
    assert load_limits("host.toml").playing_limit() >= 15  # 15 a core


def test_a_step_costs_six_times_batch_times_parameters():
    big = (64, 64, 64)
    assert step_gflop([2, *big, 1], 1000) == pytest.approx(
        6 * 1000 * (3 * 64 + 2 * 64 * 65 + 65) / 1e9
    )

"""Job queue: id de-duplication, retries by error type, dead letters — in-process and on RQ."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import queue_jobs
import redis
from rq import SimpleWorker
from rq.registry import FailedJobRegistry

from app.core.logging import correlation
from app.core.queue import InProcessJobQueue, JobSpec, RQJobQueue

PREFIX = "queue_jobs."


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    queue_jobs.CALLS.clear()
    queue_jobs.FAIL_TIMES.clear()
    yield


@pytest.fixture
def inproc() -> Iterator[InProcessJobQueue]:
    q = InProcessJobQueue(workers=2, retry_scale=0.001)
    yield q
    q.close()


def test_job_ids_must_be_valid_everywhere() -> None:
    with pytest.raises(ValueError, match="job id"):
        JobSpec(PREFIX + "record", job_id="book:shp 1")


def test_in_process_runs_with_correlation(inproc: InProcessJobQueue) -> None:
    with correlation("wb-test-1"):
        assert inproc.enqueue(JobSpec(PREFIX + "record", ("a",), job_id="j1")) == "j1"
    assert inproc.join()
    assert queue_jobs.CALLS == [("record", "a", "wb-test-1")]


def test_in_process_retries_retryable_then_succeeds(inproc: InProcessJobQueue) -> None:
    queue_jobs.FAIL_TIMES["x"] = 2
    inproc.enqueue(JobSpec(PREFIX + "flaky", ("x",), job_id="j2", retry_intervals=(1, 1, 1)))
    assert inproc.join()
    assert [c[0] for c in queue_jobs.CALLS] == ["flaky"] * 3
    assert inproc.dead_letters == []


def test_in_process_dead_letters_rejected_at_once(inproc: InProcessJobQueue) -> None:
    inproc.enqueue(JobSpec(PREFIX + "rejected", ("y",), job_id="j3"))
    assert inproc.join()
    assert len(queue_jobs.CALLS) == 1  # BadRequest is not retryable
    assert [d.attempts for d in inproc.dead_letters] == [1]


def test_in_process_exhausted_retries_dead_letter(inproc: InProcessJobQueue) -> None:
    queue_jobs.FAIL_TIMES["z"] = 10
    inproc.enqueue(JobSpec(PREFIX + "flaky", ("z",), job_id="j4", retry_intervals=(1, 1)))
    assert inproc.join()
    assert len(queue_jobs.CALLS) == 3
    assert inproc.dead_letters[0].attempts == 3


@pytest.mark.redis
def test_rq_deduplicates_pending_job_ids_and_runs_them(redis_conn: redis.Redis) -> None:
    q = RQJobQueue(redis_conn)
    with correlation("wb-rq-1"):
        assert q.enqueue(JobSpec(PREFIX + "record", ("b",), job_id="book-shp_1")) == "book-shp_1"
        assert q.enqueue(JobSpec(PREFIX + "record", ("b",), job_id="book-shp_1")) is None
    assert q.depth() == {"default": 1}
    SimpleWorker(["default"], connection=redis_conn).work(burst=True)
    assert queue_jobs.CALLS == [("record", "b", "wb-rq-1")]
    # finished: the same id may be enqueued again (e.g. a replay)
    assert q.enqueue(JobSpec(PREFIX + "record", ("b",), job_id="book-shp_1")) == "book-shp_1"


@pytest.mark.redis
def test_rq_failed_jobs_land_in_the_failed_registry(redis_conn: redis.Redis) -> None:
    q = RQJobQueue(redis_conn)
    q.enqueue(JobSpec(PREFIX + "rejected", ("c",), job_id="bad-1", retry_intervals=()))
    SimpleWorker(["default"], connection=redis_conn).work(burst=True)
    registry = FailedJobRegistry("default", connection=redis_conn)
    assert registry.get_job_ids() == ["bad-1"]


def test_work_requested_during_a_run_runs_again(inproc: InProcessJobQueue) -> None:
    """A drain asked for while it runs must run once more, or late work would sit unseen."""
    import threading

    started, release = threading.Event(), threading.Event()
    queue_jobs.GATE = (started, release)
    spec = JobSpec(PREFIX + "gated", ("g",), job_id="drain", rerun_if_running=True)
    inproc.enqueue(spec)
    assert started.wait(5)
    assert inproc.enqueue(spec) is None  # already running: not a second concurrent run
    assert inproc.enqueue(spec) is None  # several requests collapse into one re-run
    release.set()
    assert inproc.join()
    assert [c[0] for c in queue_jobs.CALLS] == ["gated", "gated"]


@pytest.mark.redis
def test_rq_dead_letters_a_rejected_job_without_spending_retries(redis_conn: redis.Redis) -> None:
    q = RQJobQueue(redis_conn)
    q.enqueue(JobSpec(PREFIX + "rejected", ("d",), job_id="bad-2", retry_intervals=(0, 0, 0)))
    SimpleWorker(["default"], connection=redis_conn).work(burst=True)
    assert len(queue_jobs.CALLS) == 1  # BadRequest is not retryable: no second attempt
    assert FailedJobRegistry("default", connection=redis_conn).get_job_ids() == ["bad-2"]


@pytest.mark.redis
def test_rq_retries_a_retryable_failure_then_succeeds(redis_conn: redis.Redis) -> None:
    queue_jobs.FAIL_TIMES["r"] = 2
    q = RQJobQueue(redis_conn)
    q.enqueue(JobSpec(PREFIX + "flaky", ("r",), job_id="flaky-1", retry_intervals=(0, 0, 0)))
    SimpleWorker(["default"], connection=redis_conn).work(burst=True)
    assert [c[0] for c in queue_jobs.CALLS] == ["flaky"] * 3
    assert FailedJobRegistry("default", connection=redis_conn).get_job_ids() == []


@pytest.mark.redis
def test_rq_retry_intervals_are_jittered(redis_conn: redis.Redis) -> None:
    from rq.job import Job

    q = RQJobQueue(redis_conn)
    firsts = []
    for i in range(20):
        q.enqueue(JobSpec(PREFIX + "record", (i,), job_id=f"j-{i}", retry_intervals=(10, 100)))
        intervals = Job.fetch(f"j-{i}", connection=redis_conn).retry_intervals
        assert 8 <= intervals[0] <= 12 and 80 <= intervals[1] <= 120
        firsts.append(intervals[0])
    assert len(set(firsts)) > 1  # a burst failing together does not retry together


def test_in_process_shutdown_finishes_running_and_drops_queued() -> None:
    """What is running finishes; what never started is left to the sweeper (its state is in
    the database), so shutdown neither waits for a backlog nor kills a job half-way."""
    import threading

    q = InProcessJobQueue(workers=1, retry_scale=1.0)
    started, release = threading.Event(), threading.Event()
    queue_jobs.GATE = (started, release)
    queue_jobs.FAIL_TIMES["s"] = 1
    q.enqueue(JobSpec(PREFIX + "flaky", ("s",), job_id="retrying", retry_intervals=(30,)))
    assert q.join(timeout=0.5) is False  # its retry waits on a 30 s timer
    q.enqueue(JobSpec(PREFIX + "gated", ("g",), job_id="running"))
    assert started.wait(5)
    q.enqueue(JobSpec(PREFIX + "record", ("never",), job_id="queued"))
    threading.Timer(0.2, release.set).start()

    report = q.shutdown(grace_seconds=5)

    assert report == {"finished": 1, "unfinished": 0, "not_started": 1, "retries_dropped": 1}
    assert [c[0] for c in queue_jobs.CALLS] == ["flaky", "gated"]
    assert q.enqueue(JobSpec(PREFIX + "record", ("late",))) is None  # closed

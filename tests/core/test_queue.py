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

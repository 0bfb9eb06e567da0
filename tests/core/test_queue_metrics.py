"""Queue depth and dead letters reach /metrics, for both queue backends."""

from __future__ import annotations

import pytest
import queue_jobs
import redis
from prometheus_client import REGISTRY

from app.core.queue import InProcessJobQueue, JobSpec, RQJobQueue
from app.core.queue_metrics import refresh


def gauge(name: str, queue: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"queue": queue})


def test_in_process_dead_letters_are_counted() -> None:
    q = InProcessJobQueue(workers=1)
    try:
        q.enqueue(JobSpec("queue_jobs.rejected", ("m",), job_id="m-1", queue="booking"))
        assert q.join()
        refresh(q)
        assert gauge("waybill_dead_letters", "booking") == 1
        assert gauge("waybill_queue_depth", "in_process") == 0
    finally:
        q.close()
        queue_jobs.CALLS.clear()


@pytest.mark.redis
def test_rq_depth_and_failed_registry(redis_conn: redis.Redis) -> None:
    q = RQJobQueue(redis_conn)
    q.enqueue(JobSpec("queue_jobs.record", ("a",), job_id="d-1", queue="odoo"))
    q.enqueue(JobSpec("queue_jobs.record", ("b",), job_id="d-2", queue="odoo"))
    refresh(q)
    assert gauge("waybill_queue_depth", "odoo") == 2
    assert gauge("waybill_dead_letters", "odoo") == 0

"""Queue depth and dead letters as gauges, refreshed when Prometheus scrapes."""

from __future__ import annotations

from collections import Counter

from prometheus_client import Gauge
from rq import Queue
from rq.registry import FailedJobRegistry

from app.core.dlq import QUEUES
from app.core.logging import get_logger
from app.core.queue import InProcessJobQueue, JobQueue, RQJobQueue

log = get_logger(__name__)

QUEUE_DEPTH = Gauge("waybill_queue_depth", "Jobs waiting to run, per queue.", ["queue"])
DEAD_LETTERS = Gauge("waybill_dead_letters", "Dead-lettered jobs, per queue.", ["queue"])


def refresh(queue: JobQueue) -> None:
    """Read the queues' sizes now; a broken Redis leaves the last values and logs."""
    try:
        if isinstance(queue, RQJobQueue):
            for name in QUEUES:
                rq_queue = Queue(name, connection=queue.connection)
                QUEUE_DEPTH.labels(name).set(len(rq_queue))
                DEAD_LETTERS.labels(name).set(FailedJobRegistry(queue=rq_queue).count)
        elif isinstance(queue, InProcessJobQueue):
            for name, size in queue.depth().items():
                QUEUE_DEPTH.labels(name).set(size)
            dead = Counter(letter.spec.queue for letter in queue.dead_letters)
            for name in {*QUEUES, *dead}:
                DEAD_LETTERS.labels(name).set(dead.get(name, 0))
    except Exception as exc:  # metrics must answer even when Redis does not
        log.warning("queue_metrics_unavailable", error=type(exc).__name__)

"""Dead letters: jobs that exhausted their retries or failed for good, kept with their reason.

Production (RQ): each queue's failed-job registry *is* the store — nothing is copied, and a
replay re-queues the same job id, so a booking replayed twice still books once (the booking job
is idempotent). Embedded mode: the in-process queue's list (process memory; the intents
themselves are in the database, so nothing accepted is lost with the process).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from app.core.errors import NotFound
from app.core.queue import InProcessJobQueue, JobQueue, JobSpec, RQJobQueue

QUEUES = ("default", "booking", "odoo", "tracking")


@dataclass(frozen=True)
class DeadLetterView:
    id: str
    queue: str
    job: str
    args: list[Any]
    reason: str
    attempts: int
    failed_at: datetime | None

    def to_body(self) -> dict[str, Any]:
        body = self.__dict__.copy()
        body["failed_at"] = self.failed_at.isoformat() if self.failed_at else None
        return body


class DeadLetterStore(Protocol):
    def list(self) -> list[DeadLetterView]: ...
    def show(self, dead_id: str) -> DeadLetterView: ...
    def replay(self, dead_id: str) -> str: ...
    def discard(self, dead_id: str) -> None: ...


class RQDeadLetters:
    def __init__(self, conn: redis.Redis, queues: tuple[str, ...] = QUEUES) -> None:
        self.conn = conn
        self.queues = queues

    def _registry(self, name: str) -> FailedJobRegistry:
        return FailedJobRegistry(queue=Queue(name, connection=self.conn))

    def list(self) -> list[DeadLetterView]:
        views = []
        for name in self.queues:
            for job_id in self._registry(name).get_job_ids():
                job = Job.fetch(job_id, connection=self.conn)
                views.append(_view(job, name))
        return sorted(views, key=lambda v: v.failed_at or datetime.min.replace(tzinfo=UTC))

    def _find(self, dead_id: str) -> tuple[Job, str]:
        for name in self.queues:
            if dead_id in self._registry(name).get_job_ids():
                return Job.fetch(dead_id, connection=self.conn), name
        raise NotFound(f"no dead letter {dead_id!r}", code="dead_letter_not_found")

    def show(self, dead_id: str) -> DeadLetterView:
        job, name = self._find(dead_id)
        return _view(job, name)

    def replay(self, dead_id: str) -> str:
        _job, name = self._find(dead_id)
        self._registry(name).requeue(dead_id)
        return dead_id

    def discard(self, dead_id: str) -> None:
        job, name = self._find(dead_id)
        self._registry(name).remove(job, delete_job=True)


class InProcessDeadLetters:
    def __init__(self, queue: InProcessJobQueue) -> None:
        self.queue = queue

    def list(self) -> list[DeadLetterView]:
        return [
            DeadLetterView(
                id=d.id,
                queue=d.spec.queue,
                job=d.spec.func,
                args=list(d.spec.args),
                reason=d.error,
                attempts=d.attempts,
                failed_at=datetime.fromtimestamp(d.failed_at, UTC),
            )
            for d in list(self.queue.dead_letters)
        ]

    def show(self, dead_id: str) -> DeadLetterView:
        for view in self.list():
            if view.id == dead_id:
                return view
        raise NotFound(f"no dead letter {dead_id!r}", code="dead_letter_not_found")

    def replay(self, dead_id: str) -> str:
        letter = self._pop(dead_id)
        spec = JobSpec(
            letter.spec.func,
            letter.spec.args,
            job_id=letter.spec.job_id,
            queue=letter.spec.queue,
            retry_intervals=letter.spec.retry_intervals,
            correlation_id=letter.spec.correlation_id,
        )
        return self.queue.enqueue(spec) or dead_id

    def discard(self, dead_id: str) -> None:
        self._pop(dead_id)

    def _pop(self, dead_id: str) -> Any:
        letters = self.queue.dead_letters
        for index, letter in enumerate(letters):
            if letter.id == dead_id:
                return letters.pop(index)
        raise NotFound(f"no dead letter {dead_id!r}", code="dead_letter_not_found")


def dead_letters_for(queue: JobQueue) -> DeadLetterStore:
    if isinstance(queue, RQJobQueue):
        return RQDeadLetters(queue.connection)
    if isinstance(queue, InProcessJobQueue):
        return InProcessDeadLetters(queue)
    raise TypeError(f"no dead-letter store for {type(queue).__name__}")


def _view(job: Job, queue: str) -> DeadLetterView:
    args = list(job.args or ())
    func, real_args = (args[0], args[2:]) if len(args) >= 2 else (job.func_name, args)
    reason = (job.exc_info or "").strip().splitlines()[-1:] or [""]
    planned = len(getattr(job, "retry_intervals", None) or [])
    left = getattr(job, "retries_left", None) or 0
    return DeadLetterView(
        id=job.id,
        queue=queue,
        job=str(func),
        args=real_args,
        reason=reason[0][:500],
        attempts=planned - left + 1,
        failed_at=job.ended_at.replace(tzinfo=UTC) if job.ended_at else None,
    )

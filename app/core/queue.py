"""Background jobs, enqueued by id after the state they act on is persisted.

Two backends behind one small interface:

* ``RQJobQueue`` — production: RQ on Redis, deterministic job ids (a second enqueue of the same
  work while it is queued is a no-op), ``Retry`` with backoff, RQ's failed-job registry as the
  dead-letter store, any number of ``waybill worker`` processes.
* ``InProcessJobQueue`` — embedded defaults and the demo: a thread pool in the API process with
  the same id de-duplication, retry schedule and a dead-letter list, so a newcomer needs no
  Redis server and no second process.

Jobs are referenced by dotted path (``"app.sync.intake.jobs.settle_hint"``) so both backends —
and RQ workers in other processes — resolve the same function.

Retry is decided by error type: an exception whose ``retryable`` is false (a rejected request,
bad credentials) goes straight to the dead letters; anything else backs off along the job's
intervals, each stretched by up to ±20 % jitter so a burst that failed together does not retry
together. A job whose worker died (killed, host lost) is *abandoned*: RQ notices when its
heartbeat lapses and retries it like a failure; ``RQJobQueue`` also checks for that on every
enqueue of the same id, so a sweeper re-queueing lost work revives it at once.
"""

from __future__ import annotations

import importlib
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import redis
from rq import Queue, Retry
from rq.job import Job, JobStatus, get_current_job
from rq.utils import current_timestamp

from app.core.logging import correlation, correlation_id_var, get_logger

log = get_logger(__name__)

DEFAULT_RETRY_INTERVALS = (5, 30, 120, 600)
JITTER = 0.2
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # what RQ accepts
_random = random.Random()


def jittered(seconds: float, spread: float = JITTER) -> float:
    """``seconds`` stretched or shrunk by up to ``spread``: retries of a burst spread out."""
    return max(0.0, seconds * (1 + _random.uniform(-spread, spread)))


@dataclass(frozen=True)
class JobSpec:
    func: str
    args: tuple[Any, ...] = ()
    job_id: str | None = None
    queue: str = "default"
    retry_intervals: tuple[int, ...] = DEFAULT_RETRY_INTERVALS
    correlation_id: str | None = None
    rerun_if_running: bool = False  # drain-style jobs: a request during a run means run again

    def __post_init__(self) -> None:
        if self.job_id is not None and not _JOB_ID.match(self.job_id):
            raise ValueError(f"job id {self.job_id!r}: use letters, digits, '_' and '-' only")


@dataclass
class DeadLetter:
    spec: JobSpec
    error: str
    attempts: int
    failed_at: float = field(default_factory=time.time)
    # stable for the letter's life: a replay from a stale page can never hit another letter
    id: str = field(default_factory=lambda: f"dl-{uuid.uuid4().hex[:12]}")


class JobQueue(Protocol):
    def enqueue(self, spec: JobSpec) -> str | None:
        """Queue a job; returns its id, or None when the same job id is already pending."""

    def depth(self) -> dict[str, int]: ...

    def close(self) -> None: ...


def resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def _run_with_correlation(func_path: str, cid: str | None, *args: Any) -> Any:
    """RQ entry point: re-bind the correlation id in the worker, then call the job. A failure
    that retrying cannot fix spends the job's remaining retries, so RQ dead-letters it now."""
    with correlation(cid):
        try:
            return resolve(func_path)(*args)
        except Exception as exc:
            if not getattr(exc, "retryable", True):
                job = get_current_job()
                if job is not None:
                    job.retries_left = 0
            raise


_WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def _status(raw: bytes | str | None) -> JobStatus | None:
    """A job hash's ``status`` field as RQ's enum (None: no such job)."""
    if raw is None:
        return None
    try:
        return JobStatus(raw.decode() if isinstance(raw, bytes) else raw)
    except ValueError:
        return None


class RQJobQueue:
    def __init__(self, connection: redis.Redis) -> None:
        self.connection = connection
        self._queues: dict[str, Queue] = {}

    def _queue(self, name: str) -> Queue:
        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.connection)
        return self._queues[name]

    def _covered(self, spec: JobSpec) -> bool:
        """True when the full path below would return None without touching anything, read in
        one pipelined round trip instead of its six to ten: no started job of the queue has
        outlived its heartbeat (so ``recover_abandoned`` would be a no-op), and the job is
        waiting to run, or running with its follow-up run waiting or running too. A webhook
        storm triggers the projection once per delivery; each round trip counts there."""
        if spec.job_id is None:
            return False
        pipe = self.connection.pipeline(transaction=False)
        pipe.zrangebyscore(
            self._queue(spec.queue).started_job_registry.key, 0, current_timestamp(), 0, 1
        )
        pipe.hget(Job.key_for(spec.job_id), "status")
        if spec.rerun_if_running:
            pipe.hget(Job.key_for(f"{spec.job_id}-next"), "status")
        expired, *raw = pipe.execute()
        if expired:
            return False
        status, *follow_up = (_status(value) for value in raw)
        if status in _WAITING:
            return True
        if status != JobStatus.STARTED:
            return False
        return not spec.rerun_if_running or follow_up[0] in (*_WAITING, JobStatus.STARTED)

    def enqueue(self, spec: JobSpec) -> str | None:
        queue = self._queue(spec.queue)
        if spec.job_id is not None:
            if self._covered(spec):
                return None
            existing = (
                Job.fetch(spec.job_id, connection=self.connection)
                if Job.exists(spec.job_id, connection=self.connection)
                else None
            )
            status = existing.get_status(refresh=True) if existing is not None else None
            if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
                return None
            if status == JobStatus.STARTED:
                # its worker may be dead: hand abandoned jobs to RQ's own retry/dead-letter path
                self.recover_abandoned([spec.queue])
                status = existing.get_status(refresh=True) if existing is not None else None
            if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
                return None
            if status == JobStatus.STARTED and spec.rerun_if_running:
                # work arrived after the running job's last look: one follow-up run, deduped
                return self.enqueue(
                    replace(spec, job_id=f"{spec.job_id}-next", rerun_if_running=False)
                )
            if status == JobStatus.STARTED:
                return None
        cid = spec.correlation_id or correlation_id_var.get()
        job = queue.enqueue(
            _run_with_correlation,
            spec.func,
            cid,
            *spec.args,
            job_id=spec.job_id,
            retry=Retry(
                max=len(spec.retry_intervals),
                interval=[round(jittered(i), 3) for i in spec.retry_intervals],  # type: ignore[misc]
            )
            if spec.retry_intervals
            else None,
            failure_ttl=7 * 24 * 3600,
            description=spec.func,
        )
        return str(job.id)

    def depth(self) -> dict[str, int]:
        return {name: len(q) for name, q in self._queues.items()}

    def recover_abandoned(self, queues: list[str] | None = None) -> None:
        """Started jobs whose worker stopped heart-beating are retried (retries left) or moved to
        the failed registry, exactly as a worker's periodic maintenance would do later."""
        for name in queues or list(self._queues):
            self._queue(name).started_job_registry.cleanup()

    def close(self) -> None:
        self._queues.clear()


class InProcessJobQueue:
    """Thread-pool queue for one process. Retries sleep on a timer, never on a worker thread."""

    def __init__(self, workers: int = 4, *, retry_scale: float = 1.0) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="waybill-job")
        self._pending: set[str] = set()
        self._rerun: set[str] = set()
        self._lock = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._retry_scale = retry_scale
        self.dead_letters: list[DeadLetter] = []
        self._futures: set[Future[Any]] = set()
        self._closed = False

    def enqueue(self, spec: JobSpec) -> str | None:
        job_id = spec.job_id or f"job-{time.monotonic_ns()}"
        with self._lock:
            if self._closed:
                return None
            if job_id in self._pending:
                if spec.rerun_if_running:
                    self._rerun.add(job_id)
                return None
            self._pending.add(job_id)
        cid = spec.correlation_id or correlation_id_var.get()
        self._submit(spec, job_id, cid, attempt=1)
        return job_id

    def _submit(self, spec: JobSpec, job_id: str, cid: str | None, attempt: int) -> None:
        future = self._pool.submit(self._run, spec, job_id, cid, attempt)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(lambda f: self._futures.discard(f))

    def _run(self, spec: JobSpec, job_id: str, cid: str | None, attempt: int) -> None:
        with correlation(cid):
            try:
                resolve(spec.func)(*spec.args)
            except Exception as exc:  # a job's failure must not kill the pool
                self._after_failure(spec, job_id, cid, attempt, exc)
                return
        with self._lock:
            again = job_id in self._rerun and not self._closed
            self._rerun.discard(job_id)
            if not again:
                self._pending.discard(job_id)
        if again:
            self._submit(spec, job_id, cid, attempt=1)

    def _after_failure(
        self, spec: JobSpec, job_id: str, cid: str | None, attempt: int, exc: Exception
    ) -> None:
        retryable = getattr(exc, "retryable", True)
        if retryable and attempt <= len(spec.retry_intervals) and not self._closed:
            delay = jittered(spec.retry_intervals[attempt - 1]) * self._retry_scale
            log.warning(
                "job_retry",
                job=spec.func,
                job_id=job_id,
                attempt=attempt,
                delay=delay,
                error=type(exc).__name__,
            )
            timer = threading.Timer(delay, self._submit, (spec, job_id, cid, attempt + 1))
            timer.daemon = True
            with self._lock:
                self._timers.add(timer)
            timer.start()
            return
        log.error(
            "job_dead_letter",
            job=spec.func,
            job_id=job_id,
            attempts=attempt,
            error=type(exc).__name__,
            message=str(exc)[:500],
        )
        with self._lock:
            self._pending.discard(job_id)
            self.dead_letters.append(DeadLetter(spec, repr(exc), attempt))

    def depth(self) -> dict[str, int]:
        with self._lock:
            return {"in_process": len(self._pending)}

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until no job is pending (tests and the one-shot CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.01)
        return False

    def shutdown(self, grace_seconds: float = 20.0) -> dict[str, int]:
        """Stop taking work; let running jobs finish within ``grace_seconds``; drop the rest.

        Nothing dropped is lost: jobs are enqueued by id after their state is persisted, so a
        queued booking, a scheduled retry or an unfinished run is found again by the sweeper
        (bookings) or the next scheduled drain/poll after the restart.
        """
        with self._lock:
            self._closed = True
            timers, self._timers = list(self._timers), set()
            futures = list(self._futures)
        for timer in timers:
            timer.cancel()
        not_started = sum(1 for f in futures if f.cancel())
        running = [f for f in futures if not f.cancelled()]
        done, unfinished = wait_futures(running, timeout=grace_seconds)
        self._pool.shutdown(wait=False, cancel_futures=True)
        report = {
            "finished": len(done),
            "unfinished": len(unfinished),
            "not_started": not_started,
            "retries_dropped": len(timers),
        }
        log.info("job_queue_shutdown", **report)
        return report

    def close(self) -> None:
        self.shutdown()

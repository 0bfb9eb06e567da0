"""The RQ worker behind ``waybill worker``: warm shutdown, quick abandoned-job recovery, and
no exit when Redis restarts.

* SIGTERM (what Docker and Kubernetes send) is RQ's *warm* shutdown: the job in hand finishes,
  nothing new is taken, the process exits 0. A second SIGTERM, or the orchestrator's SIGKILL
  after its grace period, ends the job mid-way; that job is then *abandoned* (below).
* A worker proves it is alive every ``heartbeat_seconds``; a started job whose worker missed
  heartbeats for ``abandon_after_seconds`` is abandoned, and the next registry maintenance (every
  ``maintenance_seconds``, on any worker) retries it or moves it to the dead letters. RQ's own
  grace is fixed at 60 s past the heartbeat; here it is a setting, because how fast a killed
  worker's booking resumes matters at the warehouse cut-off.
* RQ forks a work-horse per job. Job code (karrio, MLflow, the models' code) is imported once,
  here, before the first fork, and SQLAlchemy's mappers are configured: each horse starts with
  both done (copy-on-write) instead of spending seconds on them for every booking; the loaded
  heap is then frozen (``gc.freeze``) so a horse's garbage collection does not copy it page by
  page. Connections are still opened per horse. ``--no-fork``
  (``WAYBILL_WORKER_FORK_PER_JOB=false``) runs jobs in the worker process instead
  (``InProcessWaybillWorker``): warm connections and caches, less isolation.
* RQ's loop quits on a Redis error outside the wait for jobs (a Redis restart while a job runs);
  this worker starts a fresh loop once Redis answers again, so a Redis failover does not need
  every worker restarted by hand.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import threading
from typing import Any

import redis
from rq import SimpleWorker, Worker
from rq.defaults import DEFAULT_WORKER_TTL
from rq.job import Job

from app.core.logging import get_logger

log = get_logger(__name__)

PRELOAD = (
    "app.sync.booking.jobs",
    "app.sync.intake.jobs",
    "app.sync.tracking.jobs",
    "app.triage.router",
    "app.triage.recommender",
    "mlflow",
    "httpcore",  # httpx imports it when a client is first built: in every horse otherwise
)


def preload(modules: tuple[str, ...] = PRELOAD) -> None:
    """Import job code in the worker process, before any fork (see the module docstring)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # an optional extra missing: its jobs import it themselves
            log.warning("worker_preload_skipped", module=name, error=str(exc))
    from sqlalchemy.orm import configure_mappers

    from app.carriers.karrio_support import runtime

    runtime.install()  # karrio's plugin discovery, once per worker instead of once per job
    from app.sync.odoo.client import tls_context

    tls_context()  # the CA bundle, loaded once for every horse's Odoo client
    # SQLAlchemy configures the mappers on the first query of a process: done here, the horses
    # inherit them configured instead of each spending a third of a short job on it.
    configure_mappers()


def preload_carriers(settings: Any) -> None:
    """Import the adapter module of each configured carrier before any fork: the registry
    imports it on first use, which would be in every horse (a tenth of a booking job)."""
    from app.carriers.accounts import load_accounts
    from app.carriers.registry import factory_for

    raw = settings.carrier_accounts.get_secret_value() if settings.carrier_accounts else "[]"
    try:
        for code in sorted({account.carrier for account in load_accounts(raw)}):
            factory_for(code)
    except Exception as exc:  # the job reports a bad configuration itself, with context
        log.warning("worker_carrier_preload_skipped", error=str(exc)[:200])


class WaybillWorker(Worker):
    """An RQ worker whose heartbeat grace is configurable (RQ hard-codes 60 s)."""

    abandon_after_seconds: int = 60
    stop_requested_by_signal: bool = False

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = int(min(job.timeout - working_time, interval))
        return max(1, interval) + self.abandon_after_seconds

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_requested_by_signal = True
        super().request_stop(signum, frame)


class InProcessWaybillWorker(WaybillWorker):
    """Runs each job in the worker process itself instead of a forked work-horse.

    A fork per job costs a booking about 0.15 s of CPU (a 300 MB process copied page by page
    as it runs, a new database connection, Odoo login and cold caches) — more than the booking
    itself; in process, connections and caches stay warm between jobs (``benchmarks/``:
    order_burst, 8 workers, same hour: 4.7 picks/s and 338 ms of CPU per picking forked,
    10.4 and 130 ms in process). What is given up is
    the isolation: a job that crashes the interpreter or leaks memory takes the worker with it
    (its job is then recovered like any abandoned one), and a job's time limit is enforced by
    an alarm in this process. No heartbeat can be written while a job runs here, so the
    heartbeat's lease covers the job's whole time limit, as RQ's own SimpleWorker does."""

    execute_job = SimpleWorker.execute_job

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        if job.timeout is None or job.timeout < 0:
            return DEFAULT_WORKER_TTL + self.abandon_after_seconds
        return int(job.timeout) + self.abandon_after_seconds


def run_worker(
    conn: redis.Redis,
    queues: list[str],
    *,
    burst: bool = False,
    heartbeat_seconds: int = 10,
    abandon_after_seconds: int = 60,
    maintenance_seconds: int = 60,
    reconnect_max_seconds: float = 30.0,
    fork_per_job: bool = True,
) -> int:
    """Work until stopped by a signal (or, with ``burst``, until the queues are empty).
    Returns how many times the loop was restarted after a Redis failure."""
    restarts = 0
    stop = threading.Event()
    worker_class = WaybillWorker if fork_per_job else InProcessWaybillWorker
    while True:
        worker = worker_class(
            queues,
            connection=conn,
            job_monitoring_interval=heartbeat_seconds,
            maintenance_interval=maintenance_seconds,
        )
        worker.abandon_after_seconds = abandon_after_seconds
        try:
            worker.work(burst=burst, with_scheduler=True)
        except (redis.ConnectionError, redis.TimeoutError) as exc:  # raised before the loop
            log.warning("worker_redis_unavailable", error=str(exc))
        # between loops RQ's handlers are stale: a signal now just ends the wait
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        if worker.stop_requested_by_signal or stop.is_set() or (burst and _redis_up(conn)):
            return restarts
        pause = 0.5
        while not stop.wait(pause) and not _redis_up(conn):
            pause = min(pause * 2, reconnect_max_seconds)
        if stop.is_set():
            return restarts
        restarts += 1
        log.warning("worker_restarted_after_redis_failure", restarts=restarts)


def work_from_settings(
    queues: list[str], *, burst: bool = False, fork_per_job: bool | None = None
) -> int:
    """``waybill worker``: the process's context from WAYBILL_* settings, then ``run_worker``.
    Returns 2 in embedded mode, where jobs run inside the API process and no worker is needed."""
    from app.core.config import get_settings
    from app.core.context import get_context
    from app.core.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    if settings.redis_embedded:
        log.error(
            "worker needs a Redis server: set WAYBILL_REDIS_URL (embedded mode runs jobs "
            "inside the API process)"
        )
        return 2
    if settings.worker_nice:
        os.nice(settings.worker_nice)  # inherited by forked work-horses
    preload()
    preload_carriers(settings)
    ctx = get_context()
    # Everything loaded so far lives as long as the worker: move it out of the collector's
    # reach. A horse's collection would otherwise walk (and so copy) every inherited object —
    # measured at 0.3 s of user and 0.16 s of system time per collection in a forked horse.
    gc.collect()
    gc.freeze()
    run_worker(
        ctx.redis,
        queues or ["default"],
        burst=burst,
        heartbeat_seconds=settings.worker_heartbeat_seconds,
        abandon_after_seconds=settings.worker_abandon_after_seconds,
        maintenance_seconds=settings.worker_maintenance_seconds,
        fork_per_job=settings.worker_fork_per_job if fork_per_job is None else fork_per_job,
    )
    return 0


def _redis_up(conn: redis.Redis) -> bool:
    try:
        return bool(conn.ping())
    except redis.RedisError:
        return False


if __name__ == "__main__":  # ``python -m app.core.worker booking odoo`` = ``waybill worker …``
    import sys

    raise SystemExit(work_from_settings(sys.argv[1:]))

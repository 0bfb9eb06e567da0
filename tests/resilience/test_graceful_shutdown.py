"""Graceful shutdown with real processes: SIGTERM to a worker and to the API server."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from processes import Process, RedisServer, subprocess_env, wait_for
from rq.job import Job, JobStatus

from app.core.queue import JobSpec, RQJobQueue

pytestmark = pytest.mark.redis


def _slow(marker: Path, seconds: float, job_id: str) -> JobSpec:
    return JobSpec(
        "resilience_jobs.slow",
        (str(marker), seconds),
        job_id=job_id,
        queue="shutdown",
        retry_intervals=(),
    )


GRACEFUL = ["--timeout-graceful-shutdown", "20"]


def api_up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def start_api(
    processes: list[Process],
    tmp_path: Path,
    command: Callable[[int], list[str]],
    **settings: str,
) -> tuple[Process, int]:
    """The API as its own process on a spare port (SQLite, embedded queue), once it answers."""
    from processes import SPARE_PORTS, free_port

    port = next(p for p in reversed(SPARE_PORTS) if free_port(p))
    env = subprocess_env(
        env="dev",
        redis_url="embedded",
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        log_json="true",
        **settings,
    )
    api = Process(command(port), env, tmp_path / "api.log")
    processes.append(api)
    assert wait_for(lambda: api_up(port), 60, step=0.2), api.output()
    return api, port


@pytest.mark.parametrize("fork_per_job", ["true", "false"], ids=["forked", "in-process"])
def test_sigterm_lets_the_worker_finish_its_job_and_take_no_other(
    redis_server: RedisServer, processes: list[Process], tmp_path: Path, fork_per_job: str
) -> None:
    conn = redis_server.client()
    queue = RQJobQueue(conn)
    queue.enqueue(_slow(tmp_path / "a", 1.5, "slow-a"))
    queue.enqueue(_slow(tmp_path / "b", 0.1, "slow-b"))
    env = subprocess_env(
        env="test",
        redis_url=redis_server.url,
        database_url=f"sqlite:///{tmp_path / 'w.db'}",
        worker_fork_per_job=fork_per_job,
        worker_nice="3",
    )
    worker = Process(["app.core.worker", "shutdown"], env, tmp_path / "worker.log")
    processes.append(worker)
    assert wait_for(lambda: (tmp_path / "a.started").exists(), 60), worker.output()
    job_pid, job_nice = map(int, (tmp_path / "a.started").read_text().split())
    assert (job_pid == worker.pid) == (fork_per_job == "false")  # a horse, or the worker itself
    assert job_nice == os.nice(0) + 3  # WAYBILL_WORKER_NICE, inherited by a horse too

    worker.signal(signal.SIGTERM)

    assert worker.wait(30) == 0, worker.output()
    assert (tmp_path / "a.done").exists()  # the job in hand finished ...
    assert Job.fetch("slow-a", connection=conn).get_status() == JobStatus.FINISHED
    # ... and the next one was left queued for another worker, not started and not lost
    assert not (tmp_path / "b.started").exists()
    assert Job.fetch("slow-b", connection=conn).get_status() == JobStatus.QUEUED
    assert queue.depth() == {"shutdown": 1}


def test_sigterm_stops_the_api_and_closes_its_job_queue(
    processes: list[Process], tmp_path: Path
) -> None:
    # what ``waybill serve`` runs: uvicorn on app.main:app with a graceful-shutdown budget
    api, port = start_api(
        processes,
        tmp_path,
        lambda port: ["uvicorn", "app.main:app", "--port", str(port), *GRACEFUL],
    )

    api.signal(signal.SIGTERM)

    # uvicorn re-raises the signal once shut down, so a supervisor sees "terminated by SIGTERM"
    assert api.wait(30) in (0, -signal.SIGTERM), api.output()
    out = api.output()
    assert "Application shutdown complete" in out
    assert "job_queue_shutdown" in out  # the lifespan closed the context: jobs finished or left
    assert not api_up(port)


def test_in_process_worker_holds_its_lease_for_the_whole_time_limit(
    redis_server: RedisServer,
) -> None:
    """A job run in the worker process cannot heartbeat: its lease must outlast the job's
    time limit, or another worker's maintenance would take a running booking for abandoned."""
    from app.core.worker import InProcessWaybillWorker, WaybillWorker

    conn = redis_server.client()
    job = Job.create(func="os.getpid", connection=conn, timeout=600)
    in_process = InProcessWaybillWorker(["q"], connection=conn, job_monitoring_interval=10)
    forked = WaybillWorker(["q"], connection=conn, job_monitoring_interval=10)
    in_process.abandon_after_seconds = forked.abandon_after_seconds = 30
    assert in_process.get_heartbeat_ttl(job) == 630
    assert forked.get_heartbeat_ttl(job) == 40  # the horse heartbeats every 10 s


@pytest.mark.parametrize("access_log", ["true", "false"])
def test_waybill_serve_writes_access_lines_only_when_asked(
    processes: list[Process], tmp_path: Path, access_log: str
) -> None:
    """``WAYBILL_ACCESS_LOG=false`` silences uvicorn's per-request line, nothing else."""
    api, port = start_api(
        processes,
        tmp_path,
        lambda port: ["app.cli", "serve", "--port", str(port)],
        access_log=access_log,
    )
    httpx.get(f"http://127.0.0.1:{port}/health?probe=access-log", timeout=5)
    api.signal(signal.SIGTERM)
    api.wait(30)
    out = api.output()
    assert "Application startup complete" in out  # the server's own log lines stay
    assert ("probe=access-log" in out) is (access_log == "true"), out


def test_served_api_freezes_its_start_up_heap(tmp_path: Path) -> None:
    """The served app (``app.main:app``) moves what start-up loaded out of the collector's
    reach, as workers do; an app built around a caller's context (tests, demo) does not."""
    import subprocess
    import sys

    script = (
        "import gc\n"
        "from fastapi.testclient import TestClient\n"
        "import app.main as m\n"
        "with TestClient(m.app):\n"
        "    served = gc.get_freeze_count()\n"
        "gc.unfreeze()\n"
        "with TestClient(m.create_app(m.get_context())):\n"
        "    built = gc.get_freeze_count()\n"
        "print(served, built)\n"
    )
    env = subprocess_env(
        env="dev", redis_url="embedded", database_url=f"sqlite:///{tmp_path / 'api.db'}"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, timeout=120
    )
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    served, built = map(int, out.stdout.split()[-2:])
    assert served > 10_000 and built == 0

"""Production topology: the service as separate processes, the way it is deployed.

The in-process mode (the default of every benchmark) runs the API, the job queue's threads and
the Odoo writer inside the benchmark's own process — one interpreter lock, one core at most.
With ``--api-workers N --job-workers M`` a benchmark runs instead:

* the HTTP API as ``uvicorn`` with ``N`` worker processes, started the way ``waybill serve
  --workers N`` starts it (``uvicorn.run`` with the same arguments; ``app.main:app`` builds its
  context from ``WAYBILL_*`` variables);
* ``M`` RQ workers, each ``python -m app.core.worker <queues>`` (= ``waybill worker``: job code
  preloaded, one forked work-horse per job) against the real Redis and PostgreSQL;
* the benchmark process only seeds, triggers, waits and checks — the part the periodic
  scheduler (``waybill sync run``) plays in production: when the jobs are idle but work is left
  (stream entries, outbox rows), it enqueues the projection or the drain, as the scheduler's
  next cycle would, and counts it.

Every process gets its configuration from the environment (``service_env``: the benchmark's
``Settings`` written out as ``WAYBILL_*`` variables), binds 127.0.0.1 only, and is stopped
(SIGTERM, then SIGKILL after a grace period) when its block exits. A baseline served over HTTP
(the bare endpoint of ``webhook_storm``) goes through the same launcher with the same uvicorn
arguments and the same number of workers.

CPU is measured per role from ``/proc``: a process tree's user + system time, including that of
children it has reaped (RQ's work-horses, uvicorn's workers), so the figure is the service's
CPU, not the benchmark's.

``--no-fork`` runs the workers as ``waybill worker --no-fork`` (``WAYBILL_WORKER_FORK_PER_JOB=
false``): every job in its worker's own process instead of a forked horse per job.

``python -m benchmarks.topology serve TARGET --workers N --port P --ready-dir DIR``
``python -m benchmarks.topology worker QUEUE [QUEUE ...]`` (imports the benchmarks' job modules,
holds carrier calls to loopback, then runs ``app.core.worker.work_from_settings``)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from app.core.config import Settings, get_settings

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
READY_DIR_ENV = "WAYBILL_BENCH_READY_DIR"
TARGET_ENV = "WAYBILL_BENCH_SERVE_TARGET"
START_TIMEOUT = 180.0
BENCHMARK_JOB_MODULES = ("benchmarks.order_burst", "benchmarks.webhook_storm")
STOP_GRACE = 20.0


@dataclass(frozen=True)
class Topology:
    """How many API and job processes the service runs as."""

    api_workers: int = 2
    job_workers: int = 8
    fork_per_job: bool = True
    worker_nice: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "mode": "processes",
            "api_workers": self.api_workers,
            "job_workers": self.job_workers,
            "fork_per_job": self.fork_per_job,
            "worker_nice": self.worker_nice,
        }

    def worker_env(self, env: dict[str, str]) -> dict[str, str]:
        """``env`` for the job workers: with ``--no-fork``, jobs run in the worker process;
        ``--worker-nice N`` lowers their CPU priority (``WAYBILL_WORKER_NICE``)."""
        extra = {} if self.fork_per_job else {"WAYBILL_WORKER_FORK_PER_JOB": "false"}
        if self.worker_nice:
            extra["WAYBILL_WORKER_NICE"] = str(self.worker_nice)
        return {**env, **extra}


def add_topology_options(parser: argparse.ArgumentParser) -> None:
    """``--api-workers``/``--job-workers``: either one switches to the production topology."""
    parser.add_argument(
        "--api-workers",
        type=int,
        default=0,
        help="uvicorn worker processes for the API (production topology; 0 = in-process)",
    )
    parser.add_argument(
        "--job-workers",
        type=int,
        default=0,
        help="`waybill worker` RQ processes (production topology; 0 = in-process queue)",
    )
    parser.add_argument(
        "--no-fork",
        action="store_true",
        help="run the workers as `waybill worker --no-fork` (jobs in the worker process)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="lower the job workers' CPU priority by N (WAYBILL_WORKER_NICE)",
    )


def topology_from_args(args: argparse.Namespace) -> Topology | None:
    if not (args.api_workers or args.job_workers):
        return None
    return Topology(
        api_workers=max(1, args.api_workers),
        job_workers=max(1, args.job_workers),
        fork_per_job=not args.no_fork,
        worker_nice=args.worker_nice,
    )


# -- configuration ------------------------------------------------------------------------------


def service_env(settings: Settings) -> dict[str, str]:
    """``settings`` as the ``WAYBILL_*`` variables that rebuild it in another process.

    Only values that differ from the defaults are written, so a child reads exactly what the
    benchmark configured and the project's defaults for the rest.
    """
    env: dict[str, str] = {}
    for name, info in Settings.model_fields.items():
        value = getattr(settings, name)
        if value is None or value == info.get_default(call_default_factory=True):
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (list, dict)):
            text = json.dumps(value)
        else:
            text = str(value)
        env[f"WAYBILL_{name.upper()}"] = text
    return env


def child_env(env: dict[str, str]) -> dict[str, str]:
    """The children's environment: this one without inherited ``WAYBILL_*``, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
    base.update(env)
    base.setdefault("KARRIO_LOG_LEVEL", "ERROR")
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), base.get("PYTHONPATH")) if p)
    return base


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


# -- CPU per process tree -----------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid → (parent pid, CPU seconds incl. reaped children) for every process we can read."""
    table: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        # fields[0] = state (field 3); utime, stime, cutime, cstime are fields 14-17
        ppid = int(fields[1])
        ticks = sum(int(x) for x in fields[11:15])
        table[int(entry)] = (ppid, ticks / _TICKS)
    return table


def tree_cpu_seconds(roots: Sequence[int]) -> float:
    """CPU seconds used so far by ``roots`` and every live descendant (reaped ones included
    through their parents' ``cutime``/``cstime``)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack, seen = 0.0, [p for p in roots if p in table], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += table[pid][1]
        stack.extend(children.get(pid, ()))
    return total


@dataclass
class ServiceProcesses:
    """The processes a benchmark started, by role (``api``, ``jobs``, ``baseline_api``)."""

    roles: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)
    logs: Path | None = None

    def cpu_seconds(self) -> dict[str, float]:
        return {
            role: tree_cpu_seconds([p.pid for p in procs if p.poll() is None])
            for role, procs in self.roles.items()
        }


class CpuMeter:
    """CPU the service's processes used over a section, per role and in total."""

    def __init__(self, processes: ServiceProcesses, wall_clock: bool = True) -> None:
        self.processes = processes
        self.before: dict[str, float] = {}
        self.after: dict[str, float] = {}
        self.wall = 0.0
        self._t0 = 0.0

    def __enter__(self) -> CpuMeter:
        self.before = self.processes.cpu_seconds()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.after = self.processes.cpu_seconds()
        self.wall = time.perf_counter() - self._t0

    def report(self) -> dict[str, Any]:
        by_role = {
            role: round(self.after.get(role, 0.0) - self.before.get(role, 0.0), 2)
            for role in self.after
        }
        total = sum(by_role.values())
        return {
            "service_cpu_seconds": round(total, 2),
            "service_cpu_seconds_by_role": by_role,
            "service_cpu_cores_used": round(total / self.wall, 2) if self.wall else None,
            "load_average_1m": round(os.getloadavg()[0], 2),
        }


# -- starting and stopping ----------------------------------------------------------------------


def _spawn(
    args: list[str], env: dict[str, str], log_path: Path, *, new_session: bool = True
) -> subprocess.Popen[bytes]:
    log = log_path.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO,
            env=child_env(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )
    finally:
        log.close()


def _stop(procs: Sequence[subprocess.Popen[bytes]], grace: float = STOP_GRACE) -> None:
    """SIGTERM each (warm shutdown for RQ, graceful for uvicorn), SIGKILL what outlives grace."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: its workers too
            proc.wait(timeout=5)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def api_server(
    target: str,
    *,
    workers: int,
    env: dict[str, str],
    processes: ServiceProcesses,
    role: str = "api",
) -> Iterator[str]:
    """Serve ``target`` (``module:attribute``) with ``workers`` uvicorn processes on loopback;
    yields the base URL once every worker has built its app and answered a request."""
    logs = processes.logs or Path(tempfile.gettempdir())
    ready = Path(tempfile.mkdtemp(prefix=f"waybill-{role}-ready-", dir=logs))
    port = free_port()
    log_path = logs / f"{role}.log"
    proc = _spawn(
        [
            "-m",
            "benchmarks.topology",
            "serve",
            target,
            "--workers",
            str(workers),
            "--port",
            str(port),
            "--ready-dir",
            str(ready),
        ],
        env,
        log_path,
    )
    processes.roles.setdefault(role, []).append(proc)
    url = f"http://{LOOPBACK}:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while len(list(ready.iterdir())) < workers or not _answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{role} server did not start:\n{_tail(log_path)}")
            time.sleep(0.1)
        for _ in range(4 * workers):  # every worker past its first request
            _answers(url)
        yield url
    finally:
        _stop([proc])
        processes.roles[role].remove(proc)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/__bench_ready", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # 404: the app answered
    except OSError:
        return False


@contextmanager
def job_workers(
    count: int,
    queues: Sequence[str],
    *,
    env: dict[str, str],
    processes: ServiceProcesses,
    redis_conn: Any,
) -> Iterator[None]:
    """``count`` RQ worker processes on ``queues`` (priority order); yields once all are
    registered in Redis, stops them (warm shutdown) when the block exits."""
    from rq import Worker

    logs = processes.logs or Path(tempfile.gettempdir())
    procs = [
        _spawn(["-m", "benchmarks.topology", "worker", *queues], env, logs / f"worker-{i}.log")
        for i in range(count)
    ]
    processes.roles.setdefault("jobs", []).extend(procs)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while Worker.count(connection=redis_conn) < count:
            dead = [p for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"RQ workers did not start:\n{_tail(logs / 'worker-0.log')}")
            time.sleep(0.2)
        yield
    finally:
        _stop(procs)
        for proc in procs:
            processes.roles["jobs"].remove(proc)


@contextmanager
def service_processes() -> Iterator[ServiceProcesses]:
    """A place for the children's logs (kept only while the run lasts)."""
    with tempfile.TemporaryDirectory(prefix="waybill-topology-") as tmp:
        yield ServiceProcesses(logs=Path(tmp))


# -- RQ state -----------------------------------------------------------------------------------


def rq_busy(conn: Any, queues: Sequence[str]) -> int:
    """Jobs queued, started, scheduled (retries) or deferred on ``queues``."""
    from rq import Queue

    total = 0
    for name in queues:
        queue = Queue(name, connection=conn)
        total += (
            queue.count
            + queue.started_job_registry.count
            + queue.scheduled_job_registry.count
            + queue.deferred_job_registry.count
        )
    return total


def rq_join(conn: Any, queues: Sequence[str], timeout: float) -> bool:
    """Wait up to ``timeout`` for the queues to be idle, seen twice 50 ms apart (a job moving
    from its queue to the started registry is briefly in neither)."""
    deadline = time.monotonic() + timeout
    while True:
        if rq_busy(conn, queues) == 0:
            time.sleep(0.05)
            if rq_busy(conn, queues) == 0:
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def rq_dead_letters(conn: Any, queues: Sequence[str]) -> int:
    from rq import Queue

    return sum(Queue(name, connection=conn).failed_job_registry.count for name in queues)


# -- the child processes ------------------------------------------------------------------------


def served_app() -> Any:
    """uvicorn's factory in each API worker: the target app, then a ready marker for the
    parent (the benchmark must not time a server whose workers are still importing)."""
    module, _, attribute = os.environ[TARGET_ENV].partition(":")
    app = getattr(importlib.import_module(module), attribute)
    if callable(app) and not hasattr(app, "router"):  # a factory (the bare endpoint)
        app = app()
    ready = os.environ.get(READY_DIR_ENV)
    if ready:
        Path(ready, str(os.getpid())).touch()
    return app


def _serve(target: str, workers: int, port: int, ready_dir: str) -> None:
    """``waybill serve``'s ``uvicorn.run`` call, on loopback, for any target."""
    import uvicorn

    os.environ[TARGET_ENV] = target
    os.environ[READY_DIR_ENV] = ready_dir
    uvicorn.run(
        "benchmarks.topology:served_app",
        factory=True,
        host=LOOPBACK,
        port=port,
        workers=workers,
        log_config=None,
        access_log=get_settings().access_log,
        timeout_graceful_shutdown=20,
    )


def _work(queues: list[str]) -> int:
    """``waybill worker QUEUES``, with carrier calls held to loopback as in the test runs."""
    from app.carriers.karrio_support import runtime
    from app.core.worker import work_from_settings

    runtime.install(loopback_only=True)
    for module in BENCHMARK_JOB_MODULES:  # the benchmarks' own jobs, preloaded like the app's
        importlib.import_module(module)
    return work_from_settings(queues)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Start one service process of a benchmark.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("target")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--ready-dir", required=True)
    work = sub.add_parser("worker")
    work.add_argument("queues", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve(args.target, args.workers, args.port, args.ready_dir)
    else:
        raise SystemExit(_work(args.queues))


if __name__ == "__main__":
    main()

"""What every benchmark shares: a store, Redis, both sandboxes, the service, and the figures.

The stack is the one the end-to-end tests wire (``tests/resilience``, ``tests/tracking``): the
Odoo sandbox and the EasyPost-wire carrier sandbox served on loopback with realistic latency
(Odoo RPC 20 ms, carrier API 80 ms) — here from a process of their own, as Odoo and carriers
are separate systems — a migrated database (a throw-away PostgreSQL database, or
SQLite), a real Redis database, and an in-process job queue. Everything is bounded: servers bind
127.0.0.1 only and are stopped when the block exits.

With ``--api-workers``/``--job-workers`` (``benchmarks.topology``) the service runs as deployed
instead — uvicorn and RQ worker processes configured by ``WAYBILL_*`` variables — and this
module supplies their settings (``Stack.env``) and an RQ-backed ``Stack.join``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
import timeit
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis as redis_lib
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from app.carriers.accounts import CarrierAccount
from app.carriers.karrio_support import runtime
from app.core.config import Settings
from app.core.context import AppContext, set_context
from app.core.db import Database
from app.core.queue import InProcessJobQueue, JobQueue, RQJobQueue
from app.store.migrate import upgrade
from app.sync.booking.directory import CarrierChoice, CarrierDirectory
from app.sync.odoo import OdooClient
from benchmarks.sandboxes import RemoteSandboxes, SandboxConfig, remote_sandboxes
from benchmarks.topology import Topology, add_topology_options, service_env

ODOO_LATENCY_MS = 20.0
CARRIER_LATENCY_MS = 80.0
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# -- figures ------------------------------------------------------------------------------------


def percentiles(values: Sequence[float], *, scale: float = 1.0, digits: int = 1) -> dict[str, Any]:
    """p50/p90/p99/max of ``values`` (times ``scale``); empty input gives ``None``s, not zeros."""
    if not values:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(v * scale for v in values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], digits)

    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), digits),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": round(ordered[-1], digits),
    }


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator else None


class ResourceMeter:
    """Process CPU time, its share of the wall time, and peak RSS over a measured section."""

    def __init__(self) -> None:
        self._wall = 0.0
        self._cpu = 0.0

    def __enter__(self) -> ResourceMeter:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        self._usage = resource.getrusage(resource.RUSAGE_SELF)
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.system_seconds = usage.ru_stime - self._usage.ru_stime
        self.context_switches = (usage.ru_nvcsw - self._usage.ru_nvcsw) + (
            usage.ru_nivcsw - self._usage.ru_nivcsw
        )

    def report(self) -> dict[str, Any]:
        wall = getattr(self, "wall_seconds", 0.0)
        cpu = getattr(self, "cpu_seconds", 0.0)
        return {
            "cpu_seconds": round(cpu, 2),
            "cpu_cores_used": round(cpu / wall, 2) if wall else None,
            # Kernel time and context switches: the cost of many threads taking turns at
            # one GIL, and of the sockets they wait on.
            "system_cpu_seconds": round(getattr(self, "system_seconds", 0.0), 2),
            "context_switches": getattr(self, "context_switches", 0),
            "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "threads": threading.active_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        }


def python_speed_us() -> float:
    """Microseconds for ``sum(range(1000))``, the best of 20 runs of 200.

    The same hardware class has differed 2.5x in pure-Python speed between machines here, so
    figures from two runs compare only next to this reading (lower is faster).
    """
    timer = timeit.Timer("sum(range(1000))")
    return round(min(timer.repeat(repeat=20, number=200)) / 200 * 1e6, 2)


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "uname": " ".join(platform.uname()),
        "python": sys.version.split()[0],
        "python_speed_us": python_speed_us(),
    }


def emit(result: dict[str, Any]) -> None:
    """The one JSON object a benchmark prints (stdout); logs go to stderr."""
    print(json.dumps({**result, "machine": machine()}, sort_keys=False), flush=True)


def benchmark_parser(
    doc: str | None, *, size: int, topology: bool = False
) -> argparse.ArgumentParser:
    """The options every service benchmark takes: workload size and where the store lives;
    with ``topology``, also ``--api-workers``/``--job-workers`` (the production topology)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=size)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    if topology:
        add_topology_options(parser)
    return parser


def run_and_emit(measure: Callable[[], dict[str, Any]]) -> None:
    """A benchmark process: quiet logs, clean up on SIGTERM, print the one JSON object."""
    quiet_logs()
    exit_on_sigterm()
    emit(measure())


def exit_on_sigterm() -> None:
    """A stopped run still drops its throw-away database and stops its sandbox process."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def quiet_logs() -> None:
    """Benchmarks print one JSON object: the service's INFO logs would drown it and cost CPU."""
    import logging

    import structlog

    os.environ.setdefault("KARRIO_LOG_LEVEL", "ERROR")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger().setLevel(logging.ERROR)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )
    try:
        from loguru import logger

        logger.remove()
        logger.add(sys.stderr, level="ERROR")
    except ImportError:  # pragma: no cover - karrio brings loguru
        pass


# -- store and Redis ----------------------------------------------------------------------------


@contextmanager
def bench_database(kind: str = "postgres") -> Iterator[Database]:
    """A migrated, empty store for one run: a throw-away PostgreSQL database, or SQLite."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="waybill-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            database = Database(url)
            try:
                yield database
            finally:
                database.dispose()
        return
    admin_url = os.environ.get("WAYBILL_BENCH_PG_ADMIN_URL", PG_ADMIN_URL)
    name = f"waybill_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        database = Database(url)
        try:
            yield database
        finally:
            database.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextmanager
def bench_redis(url: str = DEFAULT_REDIS_URL) -> Iterator[redis_lib.Redis]:
    """The benchmark's own Redis database, flushed before and after; ``embedded`` = fakeredis."""
    if url == "embedded":
        import fakeredis

        yield fakeredis.FakeRedis()
        return
    conn = redis_lib.Redis.from_url(url)
    conn.flushdb()
    try:
        yield conn
    finally:
        conn.flushdb()
        conn.close()


# -- the stack ----------------------------------------------------------------------------------


@dataclass
class Stack:
    ctx: AppContext
    odoo_box: RemoteSandboxes  # both sandboxes, served from their own process
    accounts: list[CarrierAccount]
    queue: JobQueue  # in-process thread pool, or RQ when ``topology`` is set
    odoo_url: str
    extras: dict[str, Any] = field(default_factory=dict)
    topology: Topology | None = None
    env: dict[str, str] = field(default_factory=dict)  # WAYBILL_* for the service processes
    job_queues: tuple[str, ...] = ("odoo", "tracking", "booking", "intake", "default")

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` until no job is queued, running or waiting for a retry."""
        if isinstance(self.queue, InProcessJobQueue):
            return self.queue.join(timeout=timeout)
        from benchmarks.topology import rq_join

        return rq_join(self.ctx.redis, self.job_queues, timeout)

    def dead_letter_count(self) -> int:
        if isinstance(self.queue, InProcessJobQueue):
            return len(self.queue.dead_letters)
        from benchmarks.topology import rq_dead_letters

        return rq_dead_letters(self.ctx.redis, self.job_queues)

    @property
    def webhook_secret(self) -> str:
        secret = self.accounts[0].webhook_secret
        return secret.get_secret_value() if secret else ""

    def rpc_total(self) -> int:
        """Object-service RPCs Odoo answered (logins excluded)."""
        return sum(n for (model, _), n in self.odoo_box.rpc_calls.items() if model != "common")

    def rpc_by_method(self) -> dict[str, int]:
        calls: Counter[str] = Counter()
        for (model, method), n in self.odoo_box.rpc_calls.items():
            if model != "common":
                calls[f"{model}.{method}"] += n
        return dict(calls.most_common())

    def purchases(self) -> Counter[str]:
        """Labels bought per shipment reference, over every carrier sandbox."""
        return self.odoo_box.purchases()


def customs_catalog(odoo_box: RemoteSandboxes) -> str:
    """HS codes and values for the demo catalogue, as a shipper configures them: cross-border
    pickings are then bookable instead of waiting for a person."""
    entries = {
        str(p["default_code"]): {
            "hs_code": "940360",
            "unit_value": "25.00",
            "currency": "USD",
            "origin_country": "US",
        }
        for p in odoo_box.records("product.product")
        if p.get("default_code")
    }
    return json.dumps(entries)


def sandbox_account(index: int, base_url: str, api_key: str, secret: str) -> CarrierAccount:
    """What ``CarrierSandbox.account()`` builds, for a sandbox served by another process."""
    return CarrierAccount(
        id=f"sandbox-easypost-{index + 1}",
        carrier="easypost",
        credentials={"api_key": SecretStr(api_key)},
        server_url=f"{base_url}/v2",
        test_mode=True,
        webhook_secret=SecretStr(secret),
        timeout_seconds=10.0,
    )


@contextmanager
def service_stack(
    db: Database,
    redis_conn: redis_lib.Redis,
    *,
    odoo_latency_ms: float = ODOO_LATENCY_MS,
    carrier_latency_ms: float = CARRIER_LATENCY_MS,
    carriers: int = 1,
    workers: int = 16,
    odoo_version: str = "17.0",
    seed: int = 7,
    settings_overrides: dict[str, Any] | None = None,
    topology: Topology | None = None,
) -> Iterator[Stack]:
    """Both sandboxes (own process, loopback), an installed ``AppContext``, the directory.

    Every Odoo delivery carrier maps to the first account, so the default selection policy
    books each ready picking without asking a person (the dispatcher path is not measured).

    With a ``topology`` the benchmark's context is the one a service process builds from its
    environment: RQ on ``redis_conn``'s server, the accounts and the carrier map as settings,
    the directory with its Redis circuit breakers — and ``Stack.env`` holds those settings as
    ``WAYBILL_*`` variables for the API and worker processes. The carrier rate limit is off
    (``WAYBILL_CARRIER_RATE_PER_SECOND=0``), as it is in-process: the sandbox does not
    throttle, and a 10 calls/s budget would measure the limit, not the service.
    """
    previous = runtime.loopback_only()
    runtime.install(loopback_only=True)
    config = SandboxConfig(
        odoo_version=odoo_version,
        seed=seed,
        carriers=carriers,
        carrier_latency_ms=carrier_latency_ms,
    )
    with remote_sandboxes(config) as boxes:
        accounts = [sandbox_account(i, *c) for i, c in enumerate(boxes.carriers)]
        overrides = {"customs_catalog": customs_catalog(boxes), **(settings_overrides or {})}
        carrier_ids = [str(c["id"]) for c in boxes.records("delivery.carrier")]
        if topology is not None:
            overrides = {
                **process_settings(redis_conn, accounts, carrier_ids),
                **overrides,
            }
        settings = Settings(
            env="test",
            database_url=db.url,
            odoo_url=boxes.odoo_url,
            odoo_db=boxes.db,
            odoo_username=boxes.login,
            odoo_api_key=boxes.api_key,
            odoo_page_size=500,
            auto_book=True,
            log_json=False,
            webhook_max_body_bytes=1024 * 1024,
            **overrides,
            _env_file=None,  # type: ignore[call-arg]
        )
        queue: JobQueue
        if topology is None:
            queue = InProcessJobQueue(workers=workers, retry_scale=0.01)
        else:
            queue = RQJobQueue(redis_conn)
        ctx = AppContext(settings=settings, db=db, redis=redis_conn, queue=queue)
        ctx.use_odoo(OdooClient.from_settings(settings))
        if topology is None:
            carrier_map = {cid: CarrierChoice(accounts[0].id) for cid in carrier_ids}
            ctx.extras["carrier_directory"] = CarrierDirectory(accounts, carrier_map)
        else:  # what every worker builds from the same settings
            ctx.extras["carrier_directory"] = CarrierDirectory.from_settings(
                settings, breakers=redis_conn
            )
        set_context(ctx)
        try:
            boxes.latency_ms = odoo_latency_ms  # after seeding: setup is not measured
            yield Stack(
                ctx,
                boxes,
                accounts,
                queue,
                boxes.odoo_url,
                topology=topology,
                env=service_env(settings) if topology is not None else {},
            )
        finally:
            queue.close()
            set_context(None)
            ctx.odoo.close()
            runtime.set_loopback_only(previous)


def process_settings(
    redis_conn: redis_lib.Redis, accounts: list[CarrierAccount], carrier_ids: list[str]
) -> dict[str, Any]:
    """What the in-process stack wires by hand, as the settings a service process reads: the
    Redis server, the carrier accounts and the Odoo carrier map."""
    kwargs = redis_conn.connection_pool.connection_kwargs
    if "host" not in kwargs:
        raise ValueError("the production topology needs a Redis server (not --redis-url embedded)")
    host, port, db = kwargs["host"], kwargs.get("port", 6379), kwargs.get("db", 0)
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"refusing a non-loopback Redis host {host!r}")
    raw_accounts = [
        {
            **a.model_dump(mode="json", exclude={"credentials", "webhook_secret"}),
            "credentials": {k: v.get_secret_value() for k, v in a.credentials.items()},
            "webhook_secret": a.webhook_secret.get_secret_value() if a.webhook_secret else None,
        }
        for a in accounts
    ]
    return {
        "redis_url": f"redis://{host}:{port}/{db}",
        "carrier_accounts": SecretStr(json.dumps(raw_accounts)),
        "carrier_map": json.dumps({cid: {"account": accounts[0].id} for cid in carrier_ids}),
        "carrier_rate_per_second": 0.0,
    }


def wait_until(predicate: Any, *, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())

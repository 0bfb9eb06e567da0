"""Fixtures for fault injection with real processes (helpers in ``processes``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from processes import (
    SPARE_PORTS,
    Process,
    RedisServer,
    free_port,
)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server not installed")
    port = next((p for p in SPARE_PORTS if free_port(p)), None)
    if port is None:
        pytest.skip("no spare port in 6391-6399")
    server = RedisServer(port, tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Every subprocess a test starts; any still running at the end is killed (group)."""
    started: list[Process] = []
    yield started
    for proc in started:
        proc.close()


@pytest.fixture
def fleet(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    processes: list[Process],
    tmp_path: Path,
) -> Iterator[object]:
    """See ``fleet.py``. PostgreSQL only: several processes write the store at once."""
    from fleet import CountingQueue, Fleet, worker_env
    from sqlalchemy import text

    from app.carriers.karrio_support import runtime
    from app.carriers.sandbox import CarrierSandbox, run_carrier_sandbox
    from app.core.config import Settings
    from app.core.context import AppContext, set_context
    from app.core.db import Base, Database
    from app.sync.odoo import OdooClient
    from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server

    pg_url = request.getfixturevalue("pg_url")
    db = Database(pg_url)
    with db.engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    previous = runtime.loopback_only()
    runtime.install(loopback_only=True)
    odoo_box = OdooSandbox(version="17.0", seed=3, demo_data=True)
    carrier = CarrierSandbox(seed=5, hang_seconds=1.0)
    with (
        run_sandbox_server(odoo_box, host="127.0.0.1", port=0) as odoo_url,
        run_carrier_sandbox(carrier),
    ):
        env = worker_env(
            db_url=pg_url,
            redis=redis_server,
            carrier=carrier,
            odoo_box=odoo_box,
            odoo_url=odoo_url,
            workdir=tmp_path,
        )
        settings = Settings(
            env="test",
            database_url=pg_url,
            redis_url=redis_server.url,
            odoo_url=odoo_url,
            odoo_db=odoo_box.db,
            odoo_username=odoo_box.login,
            odoo_api_key=odoo_box.api_key,
            auto_book=True,
            _env_file=None,
        )  # type: ignore[call-arg]
        conn = redis.Redis.from_url(redis_server.url, socket_timeout=5)
        ctx = AppContext(settings=settings, db=db, redis=conn, queue=CountingQueue(conn))
        ctx.use_odoo(OdooClient.from_settings(settings))
        set_context(ctx)
        yield Fleet(ctx, redis_server, carrier, odoo_box, env, tmp_path, processes)
        for proc in processes:
            proc.close()
        set_context(None)
        ctx.close()
    runtime.set_loopback_only(previous)

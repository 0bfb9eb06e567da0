"""Tracking fixtures: Waybill served on loopback, real Redis event log, both sandboxes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis as redis_lib
from track_env import TrackEnv

from app.carriers.karrio_support import runtime
from app.carriers.sandbox import CarrierSandbox, run_carrier_sandbox
from app.carriers.sandbox.runner import serve_asgi
from app.core.config import Settings
from app.core.context import AppContext, set_context
from app.core.db import Database
from app.core.queue import InProcessJobQueue
from app.main import create_app
from app.sync.booking.directory import CarrierDirectory
from app.sync.intake.service import IntakeService
from app.sync.odoo import OdooClient
from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server
from app.sync.writeback.writer import OdooWriter


def redis_url_of(conn: redis_lib.Redis) -> str:
    """The test Redis database as a URL, for settings that connect on their own."""
    kwargs = conn.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"


@pytest.fixture
def tenv(db: Database, redis_conn: redis_lib.Redis) -> Iterator[TrackEnv]:
    previous = runtime.loopback_only()
    runtime.install(loopback_only=True)
    odoo_box = OdooSandbox(version="18.0", seed=21, demo_data=True)
    carrier_box = CarrierSandbox(seed=9)
    with (
        run_sandbox_server(odoo_box, host="127.0.0.1", port=0) as odoo_url,
        run_carrier_sandbox(carrier_box),
    ):
        settings = Settings(
            env="test",
            database_url=db.url,
            redis_url=redis_url_of(redis_conn),
            odoo_url=odoo_url,
            odoo_db=odoo_box.db,
            odoo_username=odoo_box.login,
            odoo_api_key=odoo_box.api_key,
            auto_book=False,
            webhook_max_body_bytes=1024 * 1024,
            webhook_platform_secrets='{"aftership": "as-secret", "sendcloud": "sc-secret"}',
            _env_file=None,  # type: ignore[call-arg]
        )
        queue = InProcessJobQueue(workers=2, retry_scale=0.01)
        ctx = AppContext(settings=settings, db=db, redis=redis_conn, queue=queue)
        odoo = OdooClient.from_settings(settings)
        ctx.use_odoo(odoo)
        ctx.extras["carrier_directory"] = CarrierDirectory([carrier_box.account()])
        set_context(ctx)
        with serve_asgi(create_app(ctx)) as base_url:
            carrier_box.webhook_url = f"{base_url}/v1/webhooks/easypost"
            yield TrackEnv(
                ctx,
                base_url,
                odoo_box,
                carrier_box,
                IntakeService(db=db, odoo=odoo, settings=settings),
                OdooWriter(db=db, odoo=odoo),
            )
        queue.close()
        set_context(None)
        odoo.close()
    runtime.set_loopback_only(previous)

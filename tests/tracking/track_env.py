"""The tracking tests' environment: the served app, both sandboxes and their helpers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis as redis_lib
from sqlalchemy import select

from app.carriers.karrio_support import runtime
from app.carriers.sandbox import CarrierSandbox, run_carrier_sandbox
from app.carriers.sandbox.runner import serve_asgi
from app.core.config import Settings
from app.core.context import AppContext, set_context
from app.core.db import Database
from app.core.queue import InProcessJobQueue
from app.main import create_app
from app.store.tables import ParcelRow, ShipmentRow
from app.sync.booking.directory import CarrierDirectory
from app.sync.booking.jobs import build_booking
from app.sync.intake.service import IntakeService
from app.sync.odoo import OdooClient
from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server
from app.sync.writeback.writer import OdooWriter


@dataclass
class TrackEnv:
    ctx: AppContext
    base_url: str
    odoo_box: OdooSandbox
    carrier_box: CarrierSandbox
    intake: IntakeService
    writer: OdooWriter

    def booked_shipment(self) -> tuple[str, int, str]:
        """A picking booked with the carrier sandbox: (shipment id, picking id, tracking no.)."""
        self.intake.poll_once()
        with self.ctx.db.session() as session:
            intent = session.scalars(
                select(ShipmentRow).where(ShipmentRow.state == "intent").limit(1)
            ).one()
            shipment_id, picking_id = intent.id, int(intent.odoo_picking_id or 0)
        assert build_booking(self.ctx).book_shipment(shipment_id).state == "booked"
        with self.ctx.db.session() as session:
            number = session.scalars(
                select(ParcelRow.tracking_number).where(ParcelRow.shipment_id == shipment_id)
            ).first()
        return shipment_id, picking_id, str(number)


def wait_until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll ``check`` until it returns something truthy; the work runs in other threads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@contextmanager
def tracking_rig(db: Database, redis_conn: redis_lib.Redis, **overrides: Any) -> Iterator[TrackEnv]:
    """Waybill served on loopback with Odoo 18 and the EasyPost-wire carrier sandbox pushing
    signed webhooks to it; ``overrides`` are extra settings."""
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
            odoo_url=odoo_url,
            odoo_db=odoo_box.db,
            odoo_username=odoo_box.login,
            odoo_api_key=odoo_box.api_key,
            auto_book=False,
            _env_file=None,  # type: ignore[call-arg]
            **overrides,
        )
        queue = InProcessJobQueue(workers=2, retry_scale=0.01)
        ctx = AppContext(settings=settings, db=db, redis=redis_conn, queue=queue)
        odoo = OdooClient.from_settings(settings)
        ctx.use_odoo(odoo)
        ctx.extras["carrier_directory"] = CarrierDirectory([carrier_box.account()])
        set_context(ctx)
        try:
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
        finally:
            queue.close()
            set_context(None)
            odoo.close()
            runtime.set_loopback_only(previous)

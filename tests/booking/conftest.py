"""Booking fixtures: Odoo sandbox + EasyPost-wire carrier sandbox, both real loopback servers."""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest
from auth_support import api_key_for
from booking_env import BookingEnv
from fastapi.testclient import TestClient
from tenacity import wait_none

from app.carriers.karrio_support import runtime
from app.carriers.sandbox import CarrierSandbox, run_carrier_sandbox
from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.queue import InProcessJobQueue
from app.main import create_app
from app.sync.booking.directory import CarrierChoice, CarrierDirectory
from app.sync.booking.service import BookingService
from app.sync.intake.service import IntakeService
from app.sync.odoo import OdooClient
from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server
from app.sync.writeback.writer import OdooWriter


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    previous = runtime.loopback_only()
    runtime.install(loopback_only=True)
    yield
    runtime.set_loopback_only(previous)


@pytest.fixture
def benv(db: Database) -> Iterator[BookingEnv]:
    odoo_box = OdooSandbox(version="17.0", seed=11, demo_data=True)
    carrier_box = CarrierSandbox(seed=3)
    with (
        run_sandbox_server(odoo_box, host="127.0.0.1", port=0) as odoo_url,
        run_carrier_sandbox(carrier_box) as _carrier_url,
    ):
        settings = Settings(
            env="test",
            database_url=db.url,
            odoo_url=odoo_url,
            odoo_db=odoo_box.db,
            odoo_username=odoo_box.login,
            odoo_api_key=odoo_box.api_key,
            _env_file=None,  # type: ignore[call-arg]
        )
        odoo = OdooClient.from_settings(settings, retry_wait=wait_none())
        writer_odoo = OdooClient(
            url=odoo_url,
            db=odoo_box.db,
            username=odoo_box.login,
            api_key=odoo_box.api_key,
            retry_attempts=1,
        )
        account = carrier_box.account()
        directory = CarrierDirectory([account], {"UPS Ground": CarrierChoice(account.id)})
        env = BookingEnv(
            odoo_box=odoo_box,
            carrier_box=carrier_box,
            db=db,
            odoo=odoo,
            intake=IntakeService(db=db, odoo=odoo, settings=settings),
            booking=BookingService(db=db, directory=directory),
            writer=OdooWriter(db=db, odoo=writer_odoo),
            settings=settings,
            directory=directory,
        )
        yield env
        odoo.close()
        writer_odoo.close()


@pytest.fixture
def api(benv: BookingEnv) -> Iterator[TestClient]:
    ctx = AppContext(
        settings=benv.settings,
        db=benv.db,
        redis=fakeredis.FakeRedis(),
        queue=InProcessJobQueue(workers=1),
    )
    ctx.use_odoo(benv.odoo)
    ctx.extras["carrier_directory"] = benv.directory
    with TestClient(create_app(ctx)) as client:
        client.headers["X-API-Key"] = api_key_for(ctx)
        yield client
    ctx.queue.close()

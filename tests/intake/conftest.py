"""Intake fixtures: a real loopback Odoo sandbox, the real client, the store on both engines."""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest
from auth_support import api_key_for
from fastapi.testclient import TestClient
from intake_env import Clock, Env

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.queue import InProcessJobQueue
from app.main import create_app
from app.sync.intake.service import IntakeService
from app.sync.odoo import OdooClient
from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server


@pytest.fixture
def sandbox() -> Iterator[tuple[OdooSandbox, str]]:
    box = OdooSandbox(version="17.0", seed=7, demo_data=True, subsecond_write_dates=True)
    with run_sandbox_server(box, host="127.0.0.1", port=0) as url:
        yield box, url


@pytest.fixture
def env(db: Database, sandbox: tuple[OdooSandbox, str]) -> Iterator[Env]:
    box, url = sandbox
    settings = Settings(
        env="test",
        database_url=db.url,
        odoo_url=url,
        odoo_db=box.db,
        odoo_username=box.login,
        odoo_api_key=box.api_key,
        odoo_page_size=5,
        _env_file=None,  # type: ignore[call-arg]
    )
    odoo = OdooClient.from_settings(settings)
    clock = Clock()
    intake = IntakeService(db=db, odoo=odoo, settings=settings, clock=clock)
    yield Env(box, odoo, db, settings, intake, clock)
    odoo.close()


@pytest.fixture
def api(env: Env) -> Iterator[TestClient]:
    ctx = AppContext(
        settings=env.settings,
        db=env.db,
        redis=fakeredis.FakeRedis(),
        queue=InProcessJobQueue(workers=1),
    )
    ctx.use_odoo(env.odoo)
    with TestClient(create_app(ctx)) as client:
        client.headers["X-API-Key"] = api_key_for(ctx)
        yield client
    ctx.queue.close()

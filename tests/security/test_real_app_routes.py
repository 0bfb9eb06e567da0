"""Every route of the real application is guarded: new routes are covered automatically."""

from __future__ import annotations

from pathlib import Path

import fakeredis

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.queue import InProcessJobQueue
from app.main import create_app
from app.sync.odoo import OdooClient

from .route_guard import assert_routes_protected


def test_every_route_of_the_real_app_is_protected(sqlite_db: Database, tmp_path: Path) -> None:
    settings = Settings(
        env="test", database_url=sqlite_db.url, odoo_url="http://127.0.0.1:9", _env_file=None
    )  # type: ignore[call-arg]
    ctx = AppContext(
        settings=settings,
        db=sqlite_db,
        redis=fakeredis.FakeRedis(),
        queue=InProcessJobQueue(workers=1),
    )
    dead_odoo = OdooClient(
        url="http://127.0.0.1:9", db="x", username="u", api_key="k", retry_attempts=1, timeout=0.5
    )
    ctx.use_odoo(dead_odoo, fast=dead_odoo)
    try:
        assert_routes_protected(create_app(ctx), {})
    finally:
        ctx.queue.close()

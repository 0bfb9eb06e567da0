"""Helpers for the operations-page tests: the real app with the /ops router, a context over
SQLite, fake Redis and the in-process queue, dead letters on demand, and signing in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import fakeredis
import ops_jobs
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.routes import ops
from app.core.breaker import CircuitBreaker
from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.queue import InProcessJobQueue, JobSpec
from app.main import create_app
from app.store.tables import LabelRow, ShipmentRow, TrackingEventRow
from app.sync.odoo import OdooClient

HTML = {"Accept": "text/html,application/xhtml+xml"}


def build_ops_app(ctx: AppContext) -> FastAPI:
    """The real application, with the operations router included if ``create_app`` does not."""
    app = create_app(ctx)
    if not any(getattr(r, "path", "").startswith("/ops") for r in app.routes):
        app.include_router(ops.router)
    return app


def make_ctx(db: Database, **overrides: Any) -> AppContext:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": db.url,
        "odoo_url": "http://127.0.0.1:9",
        "log_json": False,
        **overrides,
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    ctx = AppContext(
        settings=settings,
        db=db,
        redis=fakeredis.FakeRedis(),
        queue=InProcessJobQueue(workers=1),
    )
    dead_odoo = OdooClient(
        url="http://127.0.0.1:9", db="x", username="u", api_key="k", retry_attempts=1, timeout=0.5
    )
    ctx.use_odoo(dead_odoo, fast=dead_odoo)
    return ctx


def dead_letter(ctx: AppContext, tag: str, *, failures: int = 1, queue: str = "booking") -> None:
    """A job that fails for good ``failures`` times lands in the dead letters."""
    assert isinstance(ctx.queue, InProcessJobQueue)
    ops_jobs.FAILURES_LEFT[tag] = failures
    before = len(ctx.queue.dead_letters)
    ctx.queue.enqueue(JobSpec("ops_jobs.fail_first", (tag,), queue=queue, retry_intervals=()))
    assert ctx.queue.join(10)
    assert len(ctx.queue.dead_letters) == before + 1


def sign_in(client: TestClient, key: str) -> None:
    """Sign in like the browser's form does; the client keeps the cookies."""
    response = client.post(
        "/ops/login", data={"api_key": key}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/ops"


def seed_activity(ctx: AppContext, now: datetime | None = None) -> None:
    """A day of activity: an open circuit, labelled shipments, tracking events, exceptions.

    Label lags 1..5 min (p50 3 min, p90 5 min); tracking lags 10..60 min (p50 30, p90 60);
    exceptions address_issue ×3, damaged ×1.
    """
    now = now or datetime.now(UTC)
    CircuitBreaker(ctx.redis, "ups-main", failure_threshold=1).record_failure()
    CircuitBreaker(ctx.redis, "dhl-express").record_failure()
    categories = ["address_issue", "address_issue", "address_issue", "damaged", None, None]
    with ctx.db.session() as s:
        for i in range(5):
            created = now - timedelta(hours=3, minutes=i)
            s.add(
                ShipmentRow(
                    id=f"shp_{i}", source="odoo:t", source_ref=f"stock.picking:{i}",
                    reference=f"WH/OUT/{i}", state="labelled", correlation_id=f"wb-{i}",
                    created_at=created,
                )
            )  # fmt: skip
            s.flush()
            s.add(
                LabelRow(
                    shipment_id=f"shp_{i}", parcel_index=0, tracking_number=f"1Z{i}",
                    format="PDF", data=b"x", created_at=created + timedelta(minutes=i + 1),
                )
            )  # fmt: skip
        for i, category in enumerate(categories):
            received = now - timedelta(hours=1, minutes=i)
            s.add(
                TrackingEventRow(
                    dedupe_key=f"e{i}", carrier="ups", tracking_number=f"1Z{i % 5}",
                    status="exception" if category else "in_transit",
                    occurred_at=received - timedelta(minutes=10 * (i + 1)), received_at=received,
                    exception_category=category,
                )
            )  # fmt: skip

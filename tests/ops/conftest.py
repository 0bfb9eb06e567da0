"""Operations-page fixtures: a real app (with the /ops router) over SQLite, fake Redis and the
in-process queue, plus helpers to make dead letters and keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import fakeredis
import ops_jobs
import pytest
from auth_support import api_key_for
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.routes import ops
from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.queue import InProcessJobQueue, JobSpec
from app.main import create_app
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


@pytest.fixture(autouse=True)
def _reset_jobs() -> Iterator[None]:
    ops_jobs.reset()
    yield
    ops_jobs.reset()


@pytest.fixture
def ops_ctx(sqlite_db: Database) -> Iterator[AppContext]:
    ctx = make_ctx(sqlite_db)
    yield ctx
    ctx.queue.close()


@pytest.fixture
def ops_app(ops_ctx: AppContext) -> FastAPI:
    return build_ops_app(ops_ctx)


@pytest.fixture
def client(ops_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(ops_app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def key_for(ops_ctx: AppContext) -> Callable[..., str]:
    made: dict[tuple[str, ...], str] = {}

    def factory(*roles: str) -> str:
        if roles not in made:
            made[roles] = api_key_for(ops_ctx, *roles)
        return made[roles]

    return factory


def sign_in(client: TestClient, key: str) -> None:
    """Sign in like the browser's form does; the client keeps the cookies."""
    response = client.post(
        "/ops/login", data={"api_key": key}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/ops"

"""Operations-page fixtures (helpers live in ``ops_support``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import ops_jobs
import pytest
from auth_support import api_key_for
from fastapi import FastAPI
from fastapi.testclient import TestClient
from ops_support import build_ops_app, make_ctx

from app.core.context import AppContext
from app.core.db import Database


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

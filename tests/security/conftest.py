"""Security fixtures: settings with the security fields, a small app guarded like the real one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

import fakeredis
import pytest
import redis as redis_lib
from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.testclient import TestClient
from pydantic import SecretStr

import app.store.security_tables  # noqa: F401 - registers api_keys on the metadata
from app.api.errors import install_error_handlers
from app.api.middleware import CorrelationMiddleware
from app.api.routes import audit, keys
from app.api.routes.health import health
from app.core.audit import record_audit
from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.errors import Unauthorized
from app.core.logging import get_logger
from app.core.queue import InProcessJobQueue
from app.core.security import AuthChallengeMiddleware, Principal, Role, require_roles
from app.core.security_keys import ALL_ROLES, create_api_key

TEST_PEPPER = "test-pepper-6f1c1d8e0b3f4a9c8d7e6f5a4b3c2d1e"
BOOTSTRAP_KEY = "bootstrap-admin-key-for-tests-0123456789abcdef"


class SecuritySettings(Settings):
    """``Settings`` with the fields the security layer reads (the lead adds them to Settings)."""

    api_key_pepper: SecretStr = SecretStr("dev")
    bootstrap_admin_key: SecretStr | None = None
    allow_dev_api_key: bool = False
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 120
    raw_payload_retention_days: int = 90


def make_settings(db_url: str = "sqlite://", **overrides: Any) -> SecuritySettings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": db_url,
        "redis_url": "embedded",
        "log_json": False,
        "api_key_pepper": SecretStr(TEST_PEPPER),
        **overrides,
    }
    values = {k: v for k, v in values.items() if v is not None}  # None: leave to the sources
    return SecuritySettings(_env_file=None, **values)  # type: ignore[call-arg]


def make_ctx(db: Database, redis: redis_lib.Redis | None = None, **overrides: Any) -> AppContext:
    return AppContext(
        settings=make_settings(db.url, **overrides),
        db=db,
        redis=redis if redis is not None else fakeredis.FakeRedis(),
        queue=InProcessJobQueue(workers=1),
    )


DISPATCH = require_roles(Role.DISPATCHER)
READ = require_roles(Role.DISPATCHER, Role.SUPPORT, Role.INTEGRATION, Role.DATA_SCIENTIST)
MONITOR = require_roles(Role.MONITORING)

log = get_logger("tests.security.demo")


def build_demo_app(ctx: AppContext) -> FastAPI:
    """Wired like ``app.main.create_app`` with the lead's edits: middleware, handlers, guards."""
    app = FastAPI()
    app.state.ctx = ctx
    app.add_middleware(CorrelationMiddleware)
    app.add_middleware(AuthChallengeMiddleware)
    install_error_handlers(app)
    app.add_api_route("/health", health, methods=["GET"])

    things = APIRouter(prefix="/v1/things", dependencies=[Depends(READ)])

    @things.get("")
    async def list_things(principal: Annotated[Principal, Depends(READ)]) -> dict[str, Any]:
        log.info("things_listed", count=0)
        return {"items": [], "actor": principal.actor}

    @things.post("/{thing_id}", dependencies=[Depends(DISPATCH)])
    async def change_thing(
        thing_id: int, principal: Annotated[Principal, Depends(DISPATCH)]
    ) -> dict[str, Any]:
        with ctx.db.session() as session:
            record_audit(
                session,
                actor=principal.actor,
                action="thing.change",
                target_type="thing",
                target_id=str(thing_id),
            )
        return {"id": thing_id}

    ops = APIRouter(dependencies=[Depends(MONITOR)])

    @ops.get("/metrics")
    async def metrics() -> dict[str, str]:
        return {"metrics": "ok"}

    hooks = APIRouter(prefix="/v1/webhooks")

    @hooks.post("/{carrier}")
    async def carrier_webhook(
        carrier: str, signature: Annotated[str | None, Header(alias="X-Signature")] = None
    ) -> dict[str, str]:
        if signature != "valid":
            raise Unauthorized("bad signature")
        return {"carrier": carrier}

    app.include_router(things)
    app.include_router(ops)
    app.include_router(hooks)
    app.include_router(audit.router)
    app.include_router(keys.router)
    return app


def tamper(key: str) -> str:
    """The same key with its last character changed (a near miss, never the key itself)."""
    return key[:-1] + ("1" if key.endswith("0") else "0")


def mint_keys(ctx: AppContext, roles: Any = None) -> dict[str, str]:
    from app.core.security import security_config

    pepper = security_config(ctx.settings).pepper
    return {
        role: create_api_key(
            ctx.db, pepper=pepper, name=f"{role}-key", roles=[role], created_by="test"
        ).key
        for role in sorted(roles or ALL_ROLES)
    }


@pytest.fixture
def ctx_factory() -> Iterator[Callable[..., AppContext]]:
    made: list[AppContext] = []

    def factory(db: Database, redis: redis_lib.Redis | None = None, **kw: Any) -> AppContext:
        ctx = make_ctx(db, redis, **kw)
        made.append(ctx)
        return ctx

    yield factory
    for ctx in made:
        ctx.queue.close()


@pytest.fixture
def sctx(sqlite_db: Database, ctx_factory: Callable[..., AppContext]) -> AppContext:
    return ctx_factory(sqlite_db)


@pytest.fixture
def client(sctx: AppContext) -> TestClient:
    return TestClient(build_demo_app(sctx))


@pytest.fixture
def role_keys(sctx: AppContext) -> dict[str, str]:
    return mint_keys(sctx)



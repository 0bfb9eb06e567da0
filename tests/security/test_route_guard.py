"""The route guard passes on a guarded app and catches every kind of unguarded route."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from app.core.context import AppContext
from app.core.security import AuthChallengeMiddleware, Principal

from .conftest import MONITOR, build_demo_app
from .route_guard import assert_routes_protected, iter_routes, role_guards


def test_demo_app_is_fully_protected(sctx: AppContext, role_keys: dict[str, str]) -> None:
    app = build_demo_app(sctx)
    checks = assert_routes_protected(app, role_keys)
    kinds = {(c.method, c.path): c.kind for c in checks}
    assert kinds[("GET", "/health")] == "public"
    assert kinds[("POST", "/v1/webhooks/{carrier}")] == "exempt"
    assert kinds[("GET", "/v1/audit")] == "guarded"
    assert kinds[("POST", "/v1/keys/{key_id}/revoke")] == "guarded"
    assert kinds[("GET", "/openapi.json")] == "docs"
    allowed = {(c.method, c.path): c.allowed for c in checks}
    assert allowed[("POST", "/v1/things/{thing_id}")] == {"admin", "dispatcher"}


def test_guard_mints_missing_keys_itself(sctx: AppContext) -> None:
    assert_routes_protected(build_demo_app(sctx), {})


def test_a_new_unguarded_route_is_caught(sctx: AppContext) -> None:
    app = build_demo_app(sctx)

    @app.get("/v1/forgotten/{item_id}")
    async def forgotten(item_id: int, verbose: Annotated[bool, Query()] = False) -> dict[str, int]:
        return {"id": item_id}

    with pytest.raises(AssertionError, match=r"GET /v1/forgotten/\{item_id\}: no require_roles"):
        assert_routes_protected(app, {})


def test_a_missing_challenge_middleware_is_caught(sctx: AppContext) -> None:
    app = build_demo_app(sctx)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not AuthChallengeMiddleware]
    with pytest.raises(AssertionError, match="401 without WWW-Authenticate"):
        assert_routes_protected(app, {})


def test_a_bypassed_guard_is_caught(sctx: AppContext) -> None:
    """A guard that is declared but not enforced (here: an override left in place)."""
    app = build_demo_app(sctx)
    app.dependency_overrides[MONITOR] = lambda: Principal("x", "x", frozenset({"monitoring"}))
    with pytest.raises(AssertionError) as err:
        assert_routes_protected(app, {})
    assert "GET /metrics without a key: 200, expected 401" in str(err.value)
    assert "GET /metrics as support: 200, expected 403" in str(err.value)


def test_plain_starlette_routes_and_mounts_are_caught(sctx: AppContext) -> None:
    app = build_demo_app(sctx)

    async def plain(_request: object) -> PlainTextResponse:
        return PlainTextResponse("open")

    app.router.routes.append(Route("/v1/plain", plain))
    with pytest.raises(AssertionError, match=r"GET /v1/plain \(plain route\) without a key: 200"):
        assert_routes_protected(app, {})
    app.router.routes.pop()
    app.router.routes.append(Mount("/static", app=FastAPI()))
    with pytest.raises(AssertionError, match="mounted app"):
        assert_routes_protected(app, {})


def test_an_open_webhook_is_caught(sctx: AppContext) -> None:
    app = build_demo_app(sctx)

    @app.post("/v1/webhooks/open/{carrier}")
    async def open_hook(carrier: str) -> dict[str, str]:
        return {"ok": carrier}

    with pytest.raises(AssertionError, match="accepted an unsigned request"):
        assert_routes_protected(app, {})


def test_docs_can_be_required_private(sctx: AppContext) -> None:
    with pytest.raises(AssertionError, match="public documentation route"):
        assert_routes_protected(build_demo_app(sctx), {}, allow_public_docs=False)


def test_role_guards_are_found_at_every_level(sctx: AppContext) -> None:
    app = build_demo_app(sctx)
    entry = next(e for e in iter_routes(app) if e.path == "/v1/things/{thing_id}")
    assert {frozenset(g.allowed) for g in role_guards(entry)} == {
        frozenset({"admin", "dispatcher"}),
        frozenset({"admin", "dispatcher", "support", "integration", "data_scientist"}),
    }

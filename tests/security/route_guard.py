"""Every route of an app refuses callers it should refuse; a new route is checked automatically.

``assert_routes_protected(app, keys_by_role)`` walks ``app.routes`` and, for each method of each
route, sends real requests through the whole app (middleware, error handlers):

* guarded routes (everything not listed below) must carry a ``require_roles`` dependency, and
  answer 401 with ``WWW-Authenticate`` and the ``{code, message, details}`` body without a key,
  with a forged key, a revoked key and an expired key; 403 for every role the route does not
  admit; and something other than 401/403/429 for a role it admits;
* ``public`` paths (``/health``) must answer without a key;
* ``signature_exempt`` path prefixes (carrier webhooks, the Odoo webhook with its URL token) must
  refuse an unsigned request with a 4xx of their own;
* FastAPI's documentation routes are allowed public when ``allow_public_docs`` (dev, test);
* any other route (a raw Starlette route, a mount, a websocket) must answer 401 too.

Requests carry no body, so the role check is reached before any body validation and nothing is
created. Keys missing from ``keys_by_role``, and the revoked and expired keys, are minted in
``app.state.ctx.db`` when not given. Returns what was checked, for a report.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from app.core.security import ALL_ROLES, Role, RoleGuard, security_config
from app.core.security_keys import create_api_key, revoke_api_key

DEFAULT_PUBLIC = ("/health",)
DEFAULT_SIGNATURE_EXEMPT = ("/v1/webhooks/", "/v1/odoo/webhook")
FORGED_KEY = "wb_live_000000000000_" + "0" * 52
SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})


@dataclass
class RouteCheck:
    method: str
    path: str
    kind: str  # guarded | public | exempt | docs | other
    allowed: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class RouteEntry:
    """A route as the app serves it: full path and, for API routes, every dependency
    (the router's included), whether FastAPI flattens included routers or keeps them nested."""

    route: BaseRoute
    path: str
    path_format: str
    methods: frozenset[str]
    dependant: Dependant | None
    param_convertors: dict[str, Any]


def iter_routes(app: FastAPI) -> list[RouteEntry]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI that flattens included routers into app.routes
        contexts: list[Any] = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    entries = []
    for rc in contexts:
        original = getattr(rc, "original_route", rc)
        path = rc.path
        entries.append(
            RouteEntry(
                route=original,
                path=path,
                path_format=getattr(rc, "path_format", None) or path,
                methods=frozenset(getattr(rc, "methods", None) or ()),
                dependant=rc.dependant if isinstance(original, APIRoute) else None,
                param_convertors=dict(getattr(rc, "param_convertors", None) or {}),
            )
        )
    return entries


def role_guards(entry: RouteEntry | APIRoute) -> list[RoleGuard]:
    """Every ``require_roles`` dependency of a route, at any depth (router, route, sub-deps)."""
    dependant = entry.dependant
    if dependant is None:
        return []
    found: list[RoleGuard] = []
    stack = list(dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, RoleGuard):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def _concrete_path(entry: RouteEntry) -> str:
    types: dict[str, Any] = {}
    if entry.dependant is not None:
        types = {p.name: p.field_info.annotation for p in entry.dependant.path_params}
    path = entry.path_format
    for name in entry.param_convertors:
        value = "1" if types.get(name) is int else ("1.5" if types.get(name) is float else "x1")
        if types.get(name) is uuid.UUID:
            value = str(uuid.uuid4())
        path = path.replace("{" + name + "}", value)
    return path


def _mint_missing(
    app: FastAPI, keys_by_role: Mapping[str, str], revoked: str | None, expired: str | None
) -> tuple[dict[str, str], str, str]:
    keys = dict(keys_by_role)
    missing = [r for r in sorted(ALL_ROLES) if r not in keys]
    if not missing and revoked and expired:
        return keys, revoked, expired
    ctx = getattr(app.state, "ctx", None)
    if ctx is None:
        raise AssertionError(
            f"no keys for roles {missing} and no app.state.ctx to mint them in: pass them"
        )
    pepper = security_config(ctx.settings).pepper

    def mint(role: str, **kw: Any) -> str:
        return create_api_key(
            ctx.db, pepper=pepper, name=f"route-guard-{role}", roles=[role],
            created_by="test:route_guard", **kw,
        ).key  # fmt: skip

    for role in missing:
        keys[role] = mint(role)
    if revoked is None:
        created = create_api_key(
            ctx.db, pepper=pepper, name="route-guard-revoked", roles=sorted(ALL_ROLES),
            created_by="test:route_guard",
        )  # fmt: skip
        revoke_api_key(ctx.db, created.info.id, actor="test:route_guard")
        revoked = created.key
    if expired is None:
        past = datetime.now(UTC) - timedelta(days=2)
        expired = mint(
            Role.ADMIN.value, now=past, expires_at=past + timedelta(days=1)
        )  # an admin key: expiry must beat the strongest role
    return keys, revoked, expired


def _check_error_body(response: Any, code: str) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict) or set(body) != {"code", "message", "details"}:
        return f"body is not {{code, message, details}}: {body!r}"
    if body["code"] != code:
        return f"code {body['code']!r}, expected {code!r}"
    return None


def _matches(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == p or path.startswith(p) for p in prefixes)


def assert_routes_protected(
    app: FastAPI,
    keys_by_role: Mapping[str, str],
    *,
    revoked_key: str | None = None,
    expired_key: str | None = None,
    public: Iterable[str] = DEFAULT_PUBLIC,
    signature_exempt: Iterable[str] = DEFAULT_SIGNATURE_EXEMPT,
    allow_public_docs: bool = True,
    check_allowed: bool = True,
) -> list[RouteCheck]:
    public = tuple(public)
    signature_exempt = tuple(signature_exempt)
    keys, revoked, expired = _mint_missing(app, keys_by_role, revoked_key, expired_key)
    secrets = [*keys.values(), revoked, expired]
    docs_paths = {
        p
        for p in (
            app.openapi_url,
            app.docs_url,
            app.redoc_url,
            app.swagger_ui_oauth2_redirect_url if app.docs_url else None,
        )
        if p
    }
    client = TestClient(app, raise_server_exceptions=False)
    failures: list[str] = []
    checks: list[RouteCheck] = []

    def call(method: str, path: str, headers: dict[str, str] | None = None) -> Any:
        response = client.request(method, path, headers=headers or {})
        leaked = [s for s in secrets if s in response.text or s in str(response.headers)]
        if leaked:
            failures.append(f"{method} {path}: a key was echoed in the response")
        return response

    def expect_401(method: str, path: str, headers: dict[str, str], what: str) -> None:
        r = call(method, path, headers)
        if r.status_code != 401:
            failures.append(f"{method} {path} {what}: {r.status_code}, expected 401")
            return
        if not r.headers.get("www-authenticate", "").startswith("Bearer"):
            failures.append(f"{method} {path} {what}: 401 without WWW-Authenticate: Bearer")
        problem = _check_error_body(r, "unauthorized")
        if problem:
            failures.append(f"{method} {path} {what}: {problem}")

    for entry in iter_routes(app):
        if isinstance(entry.route, APIRoute):
            for method in sorted(entry.methods - SKIPPED_METHODS):
                _check_api_route(
                    entry, method, public, signature_exempt, keys, revoked, expired,
                    check_allowed, call, expect_401, failures, checks,
                )  # fmt: skip
        elif isinstance(entry.route, Route) and entry.path in docs_paths:
            checks.append(RouteCheck("GET", entry.path, "docs"))
            if not allow_public_docs:
                failures.append(f"GET {entry.path}: public documentation route not allowed here")
        else:
            _check_other_route(entry, public, signature_exempt, expect_401, failures, checks)

    assert not failures, "routes not protected as required:\n  " + "\n  ".join(failures)
    return checks


def _check_api_route(
    route: RouteEntry,
    method: str,
    public: tuple[str, ...],
    signature_exempt: tuple[str, ...],
    keys: dict[str, str],
    revoked: str,
    expired: str,
    check_allowed: bool,
    call: Any,
    expect_401: Any,
    failures: list[str],
    checks: list[RouteCheck],
) -> None:
    path = _concrete_path(route)
    if route.path in public:
        checks.append(RouteCheck(method, route.path, "public"))
        r = call(method, path)
        if r.status_code in (401, 403) or r.status_code >= 500:
            failures.append(f"{method} {route.path}: public route answered {r.status_code}")
        return
    if _matches(route.path, signature_exempt):
        checks.append(RouteCheck(method, route.path, "exempt"))
        r = call(method, path)
        if not 400 <= r.status_code < 500:
            failures.append(
                f"{method} {route.path}: signature-authenticated route accepted an unsigned "
                f"request ({r.status_code})"
            )
        return
    guards = role_guards(route)
    if not guards:
        failures.append(f"{method} {route.path}: no require_roles dependency")
        checks.append(RouteCheck(method, route.path, "guarded"))
        return
    allowed = frozenset.intersection(*(g.allowed for g in guards))
    checks.append(RouteCheck(method, route.path, "guarded", allowed))
    expect_401(method, path, {}, "without a key")
    expect_401(method, path, {"Authorization": f"Bearer {FORGED_KEY}"}, "with a forged key")
    expect_401(method, path, {"X-API-Key": revoked}, "with a revoked key")
    expect_401(method, path, {"Authorization": f"Bearer {expired}"}, "with an expired key")
    for role in sorted(ALL_ROLES - allowed):
        r = call(method, path, {"Authorization": f"Bearer {keys[role]}"})
        if r.status_code != 403:
            failures.append(f"{method} {route.path} as {role}: {r.status_code}, expected 403")
            continue
        problem = _check_error_body(r, "forbidden")
        if problem:
            failures.append(f"{method} {route.path} as {role}: {problem}")
    if check_allowed and allowed:
        non_admin = sorted(allowed - {Role.ADMIN.value}) or [Role.ADMIN.value]
        role = non_admin[0]
        r = call(method, path, {"X-API-Key": keys[role]})
        if r.status_code in (401, 403, 429):
            failures.append(
                f"{method} {route.path} as {role} (admitted): {r.status_code}"
                + (" (raise the rate limit for this check)" if r.status_code == 429 else "")
            )


def _check_other_route(
    entry: RouteEntry,
    public: tuple[str, ...],
    signature_exempt: tuple[str, ...],
    expect_401: Any,
    failures: list[str],
    checks: list[RouteCheck],
) -> None:
    route, path = entry.route, entry.path
    if isinstance(route, WebSocketRoute):
        failures.append(f"WS {path}: websocket routes are not covered by the guard; exempt it")
        return
    if path in public or _matches(path, signature_exempt):
        checks.append(RouteCheck("GET", path, "public" if path in public else "exempt"))
        return
    checks.append(RouteCheck("GET", path, "other"))
    if isinstance(route, Mount):
        expect_401("GET", path.rstrip("/") + "/", {}, "(mounted app) without a key")
    elif isinstance(route, Route):
        for method in sorted((entry.methods or {"GET"}) - SKIPPED_METHODS):
            expect_401(method, _concrete_path(entry), {}, "(plain route) without a key")
    else:
        failures.append(f"{path}: a {type(route).__name__} the guard cannot check; exempt it")

"""Who is calling, and may they: API-key authentication and role checks for every route.

Use on a router or a route::

    router = APIRouter(dependencies=[Depends(require_roles(Role.DISPATCHER))])

    @router.post("/x")
    async def x(principal: Annotated[Principal, Depends(DISPATCH)]) -> ...:
        record_audit(session, actor=principal.actor, ...)

Credentials come in ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``, never in the query
string (URLs end up in proxy and access logs). Failures are the project's error body:

    no key, unknown key, wrong secret   401 unauthorized (details.reason missing|invalid)
    revoked or expired key              401 unauthorized (details.reason revoked|expired)
    valid key without a listed role     403 forbidden
    key over its request budget         429 rate_limited, with Retry-After

A 401 carries ``WWW-Authenticate: Bearer realm="waybill"`` (RFC 6750), added by
``AuthChallengeMiddleware``. ``admin`` passes every role check: an admin can mint itself a key
with any role anyway, so refusing it would only add a step.

Besides stored keys, two principals exist without a database row:

* the bootstrap admin, ``WAYBILL_BOOTSTRAP_ADMIN_KEY`` (optional): lets a fresh install create
  its first keys over HTTP; every use is logged as a warning, and it should be unset once a real
  admin key exists (``waybill keys create`` needs no key at all: it runs with database access);
* the dev principal, the public ``DEV_API_KEY`` with every role, accepted only when
  ``dev_principal_allowed(settings)``: ``WAYBILL_ENV=dev`` *and* ``WAYBILL_ALLOW_DEV_API_KEY``
  set (the demo sets both). Requiring the flag matters because ``dev`` is the default
  environment: a production host that forgot ``WAYBILL_ENV`` must not accept a published key.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import PLACEHOLDER_SECRETS
from app.core.db import Database
from app.core.errors import Forbidden, Unauthorized
from app.core.logging import get_logger
from app.core.ratelimit import SCOPE_KEY, enforce_key_limit
from app.core.security_keys import (
    ALL_ROLES,
    MAX_PRESENTED_LENGTH,
    KeyTag,
    Role,
    hash_key,
    verify_api_key,
)

__all__ = [
    "ALL_ROLES",
    "BOOTSTRAP_KEY_ID",
    "DEV_API_KEY",
    "DEV_KEY_ID",
    "AuthChallengeMiddleware",
    "Principal",
    "Role",
    "RoleGuard",
    "SecurityConfig",
    "authenticate",
    "current_principal",
    "dev_principal_allowed",
    "key_tag",
    "require_roles",
    "security_config",
    "validate_security_settings",
]

log = get_logger(__name__)

REALM = "waybill"
BOOTSTRAP_KEY_ID = "bootstrap"
DEV_KEY_ID = "dev"
DEV_API_KEY = "wb_dev_demo_waybill-local-demo-key"  # public by design; see dev_principal_allowed
DEV_PEPPER = b"waybill-dev-pepper-not-for-production"
MIN_SECRET_LENGTH = 32

_BEARER = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key>`")
_API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. ``actor`` is what the audit log and the logs record."""

    key_id: str
    name: str
    roles: frozenset[str]
    rate_limit_per_minute: int | None = None

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"

    def has_any(self, roles: Iterable[str]) -> bool:
        return not self.roles.isdisjoint(roles)


# --- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SecurityConfig:
    env: str
    pepper: bytes
    bootstrap_admin_key: str | None
    allow_dev_api_key: bool


def _secret(settings: Any, name: str) -> str | None:
    value = getattr(settings, name, None)
    if value is None:
        return None
    raw = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return raw or None


def _is_placeholder(value: str | None) -> bool:
    return value is None or value.strip().lower() in PLACEHOLDER_SECRETS


def security_config(settings: Any) -> SecurityConfig:
    """The security settings, with the dev pepper standing in only where env is dev or test."""
    env = str(getattr(settings, "env", "prod"))
    pepper = _secret(settings, "api_key_pepper")
    if _is_placeholder(pepper):
        if env not in ("dev", "test"):
            raise RuntimeError(f"WAYBILL_API_KEY_PEPPER must be set in env={env!r}")
        pepper_bytes = DEV_PEPPER
    else:
        assert pepper is not None
        pepper_bytes = pepper.encode("utf-8")
    bootstrap = _secret(settings, "bootstrap_admin_key")
    return SecurityConfig(
        env=env,
        pepper=pepper_bytes,
        bootstrap_admin_key=bootstrap.strip() if bootstrap and bootstrap.strip() else None,
        allow_dev_api_key=dev_principal_allowed(settings),
    )


def dev_principal_allowed(settings: Any) -> bool:
    """The public ``DEV_API_KEY`` works only with env=dev and the explicit opt-in flag."""
    return getattr(settings, "env", None) == "dev" and bool(
        getattr(settings, "allow_dev_api_key", False)
    )


def key_tag(settings: Any) -> KeyTag:
    return "live" if getattr(settings, "env", "prod") in ("staging", "prod") else "test"


def validate_security_settings(settings: Any) -> None:
    """Refuse to start with weak security settings outside dev/test (call at start-up)."""
    env = getattr(settings, "env", "prod")
    if env in ("dev", "test"):
        return
    problems = []
    pepper = _secret(settings, "api_key_pepper")
    if _is_placeholder(pepper) or len(pepper or "") < MIN_SECRET_LENGTH:
        problems.append(f"WAYBILL_API_KEY_PEPPER must be at least {MIN_SECRET_LENGTH} characters")
    bootstrap = _secret(settings, "bootstrap_admin_key")
    if bootstrap is not None and (
        _is_placeholder(bootstrap) or len(bootstrap.strip()) < MIN_SECRET_LENGTH
    ):
        problems.append(
            f"WAYBILL_BOOTSTRAP_ADMIN_KEY must be at least {MIN_SECRET_LENGTH} characters"
        )
    if getattr(settings, "allow_dev_api_key", False):
        problems.append("WAYBILL_ALLOW_DEV_API_KEY is only allowed in env=dev")
    if problems:
        raise ValueError(f"insecure settings for env={env!r}: " + "; ".join(problems))


# --- authentication ----------------------------------------------------------------------------

_MESSAGES = {
    "missing": "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
    "invalid": "the API key is not valid",
    "revoked": "the API key has been revoked",
    "expired": "the API key has expired",
    "conflict": "'Authorization' and 'X-API-Key' carry different keys; send one",
}


class AuthenticationFailed(Exception):
    def __init__(self, reason: str, key_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key_id = key_id

    @property
    def challenge(self) -> str:
        if self.reason == "missing":
            return f'Bearer realm="{REALM}"'
        error = "invalid_request" if self.reason == "conflict" else "invalid_token"
        return (
            f'Bearer realm="{REALM}", error="{error}", '
            f'error_description="{_MESSAGES[self.reason]}"'.replace("'", "")
        )


def presented_credential(headers: Mapping[str, str]) -> str | None:
    """The key sent as a Bearer token or in ``X-API-Key``; other schemes are ignored."""
    bearer = None
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            bearer = value.strip()
    header = (headers.get("x-api-key") or "").strip() or None
    if bearer and header and not hmac.compare_digest(bearer.encode(), header.encode()):
        raise AuthenticationFailed("conflict")
    return bearer or header


def authenticate(settings: Any, db: Database, presented: str | None) -> Principal:
    """Resolve a presented key to a principal or raise ``AuthenticationFailed``."""
    if not presented:
        raise AuthenticationFailed("missing")
    if len(presented) > MAX_PRESENTED_LENGTH:
        raise AuthenticationFailed("invalid")
    config = security_config(settings)
    if config.bootstrap_admin_key is not None and hmac.compare_digest(
        hash_key(config.pepper, presented), hash_key(config.pepper, config.bootstrap_admin_key)
    ):
        log.warning("bootstrap_admin_key_used", hint="create an admin key, then unset it")
        return Principal(BOOTSTRAP_KEY_ID, "bootstrap admin", frozenset({Role.ADMIN.value}))
    if config.allow_dev_api_key and hmac.compare_digest(presented.encode(), DEV_API_KEY.encode()):
        return Principal(DEV_KEY_ID, "dev", ALL_ROLES)
    check = verify_api_key(db, config.pepper, presented)
    if check.outcome != "ok" or check.info is None:
        raise AuthenticationFailed(check.outcome, key_id=check.key_id)
    info = check.info
    return Principal(
        key_id=info.id,
        name=info.name,
        roles=frozenset(info.roles) & ALL_ROLES,
        rate_limit_per_minute=info.rate_limit_per_minute,
    )


def _holder(request: Request) -> dict[str, Any]:
    holder = request.scope.get(SCOPE_KEY)
    if holder is None:
        holder = request.scope[SCOPE_KEY] = {}
    return holder  # type: ignore[no-any-return]


class RoleGuard:
    """The dependency ``require_roles`` builds; ``allowed`` is read by the route-guard tests."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed

    def __repr__(self) -> str:
        return f"require_roles({', '.join(sorted(self.allowed))})"

    async def __call__(
        self,
        request: Request,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)] = None,
        _api_key: Annotated[str | None, Security(_API_KEY)] = None,
    ) -> Principal:
        existing = getattr(request.state, "principal", None)
        if isinstance(existing, Principal):  # several guards on one route: authenticate once
            principal = existing
        else:
            principal = await self._authenticate(request)
        if not principal.has_any(self.allowed):
            log.warning(
                "auth_forbidden",
                method=request.method,
                path=request.url.path,
                required=sorted(self.allowed),
                roles=sorted(principal.roles),
            )
            raise Forbidden(
                "this API key's roles do not allow this operation",
                details={"required_any_of": sorted(self.allowed), "roles": sorted(principal.roles)},
            )
        return principal

    async def _authenticate(self, request: Request) -> Principal:
        holder = _holder(request)
        ctx = getattr(request.app.state, "ctx", None)
        if ctx is None:
            from app.core.context import get_context

            ctx = get_context()
        try:
            presented = presented_credential(request.headers)
            if not presented:
                raise AuthenticationFailed("missing")
            principal = await run_in_threadpool(authenticate, ctx.settings, ctx.db, presented)
        except AuthenticationFailed as fail:
            holder["challenge"] = fail.challenge
            (log.info if fail.reason == "missing" else log.warning)(
                "auth_failed",
                reason=fail.reason,
                key_id=fail.key_id,
                method=request.method,
                path=request.url.path,
            )
            raise Unauthorized(_MESSAGES[fail.reason], details={"reason": fail.reason}) from None
        request.state.principal = principal
        structlog.contextvars.bind_contextvars(actor=principal.actor)
        await run_in_threadpool(enforce_key_limit, ctx, principal, holder)
        return principal


def require_roles(*roles: str, admin_implied: bool = True) -> RoleGuard:
    """A dependency admitting keys holding any of ``roles`` (and ``admin``), returning the
    ``Principal``. Unknown role names fail at import time, not at request time."""
    wanted = {str(r.value if isinstance(r, Role) else r) for r in roles}
    unknown = wanted - ALL_ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    if admin_implied or not wanted:
        wanted.add(Role.ADMIN.value)
    return RoleGuard(frozenset(wanted))


def current_principal(request: Request) -> Principal | None:
    """The principal a guard on this route authenticated, if any."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else None


# --- response headers --------------------------------------------------------------------------


class AuthChallengeMiddleware:
    """Adds ``WWW-Authenticate`` to the guards' 401s and ``Retry-After`` to their 429s.

    The error handlers build the ``{code, message, details}`` body; the guard leaves the header
    values in a dict in the ASGI scope, which this middleware puts on the response. 401s from
    routes that authenticate otherwise (webhook tokens, signatures) are left as they are.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder: dict[str, Any] = {}
        scope[SCOPE_KEY] = holder

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: list[tuple[bytes, bytes]] = []
                status = message["status"]
                if status == 401 and holder.get("challenge"):
                    extra.append((b"www-authenticate", holder["challenge"].encode("latin-1")))
                if status == 429 and holder.get("retry_after"):
                    extra.append((b"retry-after", str(holder["retry_after"]).encode("latin-1")))
                if extra:
                    names = {name for name, _ in extra}
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() not in names
                    ]
                    message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)

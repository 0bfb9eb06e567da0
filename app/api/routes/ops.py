"""The operations page for on-call: ``/ops``, server-rendered, no script.

    GET  /ops                          queues, dead letters, carrier circuits, exceptions, SLAs
    POST /ops/login                    form field ``api_key`` → session cookie, 303 to /ops
    POST /ops/logout                   ends the browser's session
    POST /ops/dlq/{dead_id}/replay     replays one dead letter (admin), 303 back to /ops

Who: keys with ``admin``, ``monitoring`` or ``support`` see the page; replaying is ``admin``
only, as on ``POST /v1/admin/dlq/{id}/replay``. Every route also takes the API key in the usual
headers (scripts, the route-guard tests). A browser signs in once: ``POST /ops/login`` checks the
key like any request and sets two cookies scoped to ``/ops`` (``HttpOnly``, ``SameSite=Strict``,
``Secure`` over HTTPS and outside dev/test): a signed session naming the key, valid for an hour
and re-checked against the key store on every request, and a CSRF token bound to that session.

Forms post to ``/ops/...`` rather than to the admin API because a browser cannot send the key
header there; state-changing posts made with the session cookie must carry the CSRF token
(double submit) and, when the browser sends ``Origin`` or ``Sec-Fetch-Site``, come from this
site. A browser asking for HTML gets a sign-in page with its 401 and a readable page with other
errors; other clients get the usual ``{code, message, details}`` body.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import structlog
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from app import __version__
from app.api.deps import get_ctx
from app.core.audit import record_audit
from app.core.context import AppContext
from app.core.dlq import dead_letters_for
from app.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    WaybillError,
)
from app.core.logging import get_logger
from app.core.ratelimit import SCOPE_KEY, enforce_key_limit
from app.core.security import (
    ALL_ROLES,
    BOOTSTRAP_KEY_ID,
    DEV_KEY_ID,
    Principal,
    Role,
    RoleGuard,
    authenticate,
    require_roles,
    security_config,
)
from app.core.security import AuthenticationFailed as _AuthFailed
from app.core.security_keys import MAX_PRESENTED_LENGTH, get_api_key
from app.ops import charts, session
from app.ops.queries import collect
from app.ops.templates import render

log = get_logger(__name__)

PAGE_PATH = "/ops"
LOGIN_PATH = "/ops/login"
LOGOUT_PATH = "/ops/logout"
MAX_FORM_BYTES = 4096
REFRESH_SECONDS = 60
CHALLENGE = 'Bearer realm="waybill"'

_FAILURES = {
    "missing": "an API key is required",
    "invalid": "the API key is not valid",
    "revoked": "the API key has been revoked",
    "expired": "the API key has expired",
    "conflict": "'Authorization' and 'X-API-Key' carry different keys; send one",
    "session": "the operations session has ended; sign in again",
}
_NOTICES = {
    "replayed": ("Dead letter {id} replayed (job {job}).", False),
    "gone": ("Dead letter {id} is no longer there: someone replayed or discarded it.", True),
    "changed": ("The dead letters changed since the page was loaded; nothing was replayed.", True),
}


# --- forms ----------------------------------------------------------------------------------


async def read_form(request: Request) -> dict[str, str]:
    """The request's urlencoded form (first value of each field), read once and bounded."""
    cached = getattr(request.state, "ops_form", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    form: dict[str, str] = {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
            raise PayloadTooLarge(f"forms here are at most {MAX_FORM_BYTES} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise PayloadTooLarge(f"forms here are at most {MAX_FORM_BYTES} bytes")
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=16)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("the form is not valid urlencoded UTF-8") from None
        form = {name: values[0] for name, values in parsed.items()}
    request.state.ops_form = form
    return form


def _same_site(request: Request) -> None:
    """Refuse a cookie-authenticated (or sign-in) post that a browser says came from elsewhere."""
    fetch_site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    foreign = fetch_site is not None and fetch_site not in ("same-origin", "none")
    if origin == "null":
        foreign = True
    elif origin is not None:  # behind a proxy that rewrites Host, X-Forwarded-Host names us
        ours = {request.headers.get("host"), request.headers.get("x-forwarded-host")}
        foreign = foreign or urlsplit(origin).netloc not in ours - {None}
    if foreign:
        raise Forbidden("this form must be sent from the operations page", code="cross_site")


# --- authentication -------------------------------------------------------------------------


def _ctx(request: Request) -> AppContext:
    ctx = getattr(request.app.state, "ctx", None)
    if ctx is None:
        from app.core.context import get_context

        ctx = get_context()
    return ctx  # type: ignore[no-any-return]


def _session_key(ctx: AppContext) -> bytes:
    return session.session_key(security_config(ctx.settings).pepper)


def _principal_for_session(ctx: AppContext, current: session.OpsSession) -> Principal | None:
    """The key a session names, as it is *now*: None once revoked, expired or replaced."""
    config = security_config(ctx.settings)
    key = session.session_key(config.pepper)
    if current.key_id == BOOTSTRAP_KEY_ID:
        bootstrap = config.bootstrap_admin_key
        if bootstrap is None or current.fingerprint != session.key_fingerprint(key, bootstrap):
            return None
        return Principal(BOOTSTRAP_KEY_ID, "bootstrap admin", frozenset({Role.ADMIN.value}))
    if current.key_id == DEV_KEY_ID:
        return Principal(DEV_KEY_ID, "dev", ALL_ROLES) if config.allow_dev_api_key else None
    try:
        info = get_api_key(ctx.db, current.key_id)
    except NotFound:
        return None
    if info.status() != "active":
        return None
    return Principal(
        key_id=info.id,
        name=info.name,
        roles=frozenset(info.roles) & ALL_ROLES,
        rate_limit_per_minute=info.rate_limit_per_minute,
    )


class OpsGuard(RoleGuard):
    """``require_roles`` that also accepts the page's session cookie, and (``key_in_form``) the
    key posted by the sign-in form. Keys in headers are checked exactly as everywhere else."""

    def __init__(self, allowed: frozenset[str], *, key_in_form: bool = False) -> None:
        super().__init__(allowed)
        self.key_in_form = key_in_form

    async def _authenticate(self, request: Request) -> Principal:
        if request.headers.get("authorization") or request.headers.get("x-api-key"):
            principal = await super()._authenticate(request)
            request.state.ops_via = "key"
            return principal
        ctx = _ctx(request)
        if self.key_in_form:
            presented = (await read_form(request)).get("api_key", "").strip()
            if presented:
                _same_site(request)
                return await self._with_form_key(request, ctx, presented)
        cookie = request.cookies.get(session.SESSION_COOKIE)
        if cookie:
            return await self._with_session(request, ctx, cookie)
        return await super()._authenticate(request)  # nothing presented: the usual 401

    async def _with_form_key(self, request: Request, ctx: AppContext, presented: str) -> Principal:
        try:
            if len(presented) > MAX_PRESENTED_LENGTH:
                raise _AuthFailed("invalid")
            principal = await run_in_threadpool(authenticate, ctx.settings, ctx.db, presented)
        except _AuthFailed as fail:
            _holder(request)["challenge"] = fail.challenge
            log.warning("ops_sign_in_failed", reason=fail.reason, key_id=fail.key_id)
            raise Unauthorized(_FAILURES[fail.reason], details={"reason": fail.reason}) from None
        request.state.ops_fingerprint = session.key_fingerprint(_session_key(ctx), presented)
        return await self._admit(request, ctx, principal, via="form")

    async def _with_session(self, request: Request, ctx: AppContext, cookie: str) -> Principal:
        key = _session_key(ctx)
        current = session.verify(key, cookie)
        principal = None
        if current is not None:
            principal = await run_in_threadpool(_principal_for_session, ctx, current)
        if current is None or principal is None:
            _holder(request)["challenge"] = CHALLENGE
            log.info("ops_session_refused", path=request.url.path)
            raise Unauthorized(_FAILURES["session"], details={"reason": "session"})
        request.state.ops_session = current
        return await self._admit(request, ctx, principal, via="session")

    async def _admit(
        self, request: Request, ctx: AppContext, principal: Principal, *, via: str
    ) -> Principal:
        request.state.principal = principal
        request.state.ops_via = via
        structlog.contextvars.bind_contextvars(actor=principal.actor)
        await run_in_threadpool(enforce_key_limit, ctx, principal, _holder(request))
        return principal


def _holder(request: Request) -> dict[str, Any]:
    return request.scope.setdefault(SCOPE_KEY, {})  # type: ignore[no-any-return]


def _guard(*roles: str, key_in_form: bool = False) -> OpsGuard:
    return OpsGuard(require_roles(*roles).allowed, key_in_form=key_in_form)


VIEW = _guard(Role.MONITORING, Role.SUPPORT)
SIGN_IN = _guard(Role.MONITORING, Role.SUPPORT, key_in_form=True)
REPLAY = _guard()  # admin only, like the admin API's replay
Viewer = Annotated[Principal, Depends(VIEW)]
Ctx = Annotated[AppContext, Depends(get_ctx)]
DeadId = Annotated[str, Path(max_length=160)]


def _require_csrf(request: Request, form: dict[str, str]) -> None:
    """Posts riding on the session cookie must prove they come from our own page."""
    if getattr(request.state, "ops_via", None) != "session":
        return  # a key in a header is no ambient credential: another site cannot send it
    _same_site(request)
    current: session.OpsSession = request.state.ops_session
    key = _session_key(_ctx(request))
    token = form.get(session.CSRF_FIELD)
    if not session.csrf_ok(key, current, request.cookies.get(session.CSRF_COOKIE), token):
        log.warning("ops_csrf_refused", path=request.url.path)
        raise Forbidden("the form's CSRF token is missing or stale; reload the page", code="csrf")


# --- responses ------------------------------------------------------------------------------


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _secure_cookies(request: Request) -> bool:
    env = getattr(_ctx(request).settings, "env", "prod")
    return request.url.scheme == "https" or env not in ("dev", "test")


def _html(request: Request, body: str, nonce: str, status: int = 200) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status)
    response.headers.update(
        {
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",  # "no-referrer" makes form posts send Origin: null
            "Cache-Control": "no-store",
        }
    )
    return response


def _clear_cookies(response: Response, request: Request) -> None:
    for name in (session.SESSION_COOKIE, session.CSRF_COOKIE):
        response.delete_cookie(
            name,
            path=session.COOKIE_PATH,
            secure=_secure_cookies(request),
            httponly=True,
            samesite="strict",
        )


def _error_page(request: Request, exc: WaybillError) -> HTMLResponse:
    nonce = secrets.token_urlsafe(12)
    if isinstance(exc, Unauthorized):
        message = exc.message if request.url.path == LOGIN_PATH or request.cookies else None
        body = render(
            "login.html",
            nonce=nonce,
            message=message,
            login_url=LOGIN_PATH,
            ttl_minutes=session.SESSION_TTL_SECONDS // 60,
        )
        response = _html(request, body, nonce, status=401)
        if request.cookies.get(session.SESSION_COOKIE):
            _clear_cookies(response, request)
        return response
    headings = {403: "Not allowed", 404: "Not found", 409: "Changed", 429: "Slow down"}
    body = render(
        "error.html",
        nonce=nonce,
        status=exc.http_status,
        heading=headings.get(exc.http_status, "Something went wrong"),
        message=exc.message,
        page_url=PAGE_PATH,
    )
    return _html(request, body, nonce, status=exc.http_status)


class OpsRoute(APIRoute):
    """Routes whose errors a browser sees as pages (sign-in for 401), not as JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def ops_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except WaybillError as exc:
                if exc.http_status >= 500 or not _wants_html(request):
                    raise
                return _error_page(request, exc)

        return ops_handler


router = APIRouter(prefix=PAGE_PATH, tags=["operations"], route_class=OpsRoute)


def _redirect(notice: str | None = None, **params: str) -> RedirectResponse:
    query = urlencode({"notice": notice, **params}) if notice else ""
    return RedirectResponse(PAGE_PATH + (f"?{query}" if query else ""), status_code=303)


def _replay_url(dead_id: str) -> str:
    return f"{PAGE_PATH}/dlq/{quote(dead_id, safe='')}/replay"


# --- routes ---------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse, include_in_schema=False)
async def ops_page(
    request: Request,
    ctx: Ctx,
    principal: Viewer,
    notice: Annotated[str | None, Query(max_length=16)] = None,
    dead_id: Annotated[str | None, Query(alias="id", max_length=160)] = None,
    job: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    snapshot = await run_in_threadpool(collect, ctx)
    via = getattr(request.state, "ops_via", "key")
    current = getattr(request.state, "ops_session", None)
    csrf = current.csrf_token(_session_key(ctx)) if current is not None else ""
    text, warn = _NOTICES.get(notice or "", (None, False))
    exceptions_svg = None
    if snapshot.exceptions.data is not None:
        exceptions_svg = charts.exceptions_chart(
            snapshot.exceptions.data.categories, chart_id="chart-exceptions"
        )
    sla_charts = [
        (latency, charts.latency_chart(latency, chart_id=f"chart-sla-{i}"))
        for i, latency in enumerate(snapshot.sla.data or [])
    ]
    nonce = secrets.token_urlsafe(12)
    body = render(
        "ops.html",
        nonce=nonce,
        snapshot=snapshot,
        principal=principal,
        via=via,
        csrf=csrf,
        can_replay=principal.has_any(REPLAY.allowed),
        replay_url=_replay_url,
        logout_url=LOGOUT_PATH,
        page_url=PAGE_PATH,
        notice=text.format(id=dead_id or "?", job=job or "?") if text else None,
        notice_warn=warn,
        exceptions_svg=exceptions_svg,
        sla_charts=sla_charts,
        refresh_seconds=REFRESH_SECONDS,
        version=__version__,
    )
    return _html(request, body, nonce)


@router.post("/login", include_in_schema=False)
async def ops_login(
    request: Request, principal: Annotated[Principal, Depends(SIGN_IN)]
) -> RedirectResponse:
    via = getattr(request.state, "ops_via", "key")
    if via == "session":  # already signed in: nothing to change
        return _redirect()
    if via != "form":
        raise BadRequest(
            "sign in by posting the form field 'api_key'; requests that send the key in a "
            "header need no session",
            code="sign_in_with_form",
        )
    key = _session_key(_ctx(request))
    cookie, current = session.issue(key, principal.key_id, request.state.ops_fingerprint)
    response = _redirect()
    secure = _secure_cookies(request)
    for name, value in (
        (session.SESSION_COOKIE, cookie),
        (session.CSRF_COOKIE, current.csrf_token(key)),
    ):
        response.set_cookie(
            name,
            value,
            max_age=session.SESSION_TTL_SECONDS,
            path=session.COOKIE_PATH,
            secure=secure,
            httponly=True,
            samesite="strict",
        )
    log.info("ops_signed_in", key_id=principal.key_id)
    return response


@router.post("/logout", include_in_schema=False)
async def ops_logout(request: Request, principal: Viewer) -> RedirectResponse:
    _require_csrf(request, await read_form(request))
    response = RedirectResponse(PAGE_PATH, status_code=303)
    _clear_cookies(response, request)
    log.info("ops_signed_out", key_id=principal.key_id)
    return response


@router.post("/dlq/{dead_id}/replay", include_in_schema=False)
async def ops_replay(
    request: Request,
    ctx: Ctx,
    dead_id: DeadId,
    principal: Annotated[Principal, Depends(REPLAY)],
) -> Response:
    form = await read_form(request)
    _require_csrf(request, form)
    expected_job, expected_failed_at = form.get("job"), form.get("failed_at")

    def replay() -> tuple[str, str]:
        store = dead_letters_for(ctx.queue)
        with ctx.db.session() as db_session:
            view = store.show(dead_id)
            failed_at = view.failed_at.isoformat() if view.failed_at else ""
            if (expected_job and expected_job != view.job) or (
                expected_failed_at is not None and expected_failed_at != failed_at
            ):
                raise Conflict(
                    "this dead letter changed since the page was loaded; reload the page",
                    code="dead_letter_changed",
                )
            job_id = store.replay(dead_id)
            record_audit(
                db_session,
                actor=principal.actor,
                action="dead_letter.replay",
                target_type="dead_letter",
                target_id=dead_id,
                before={"queue": view.queue, "job": view.job, "attempts": view.attempts},
                after={"job_id": job_id, "via": "ops_page"},
            )
        return view.job, job_id

    browser = getattr(request.state, "ops_via", "key") != "key"
    try:
        job, job_id = await run_in_threadpool(replay)
    except NotFound:
        if browser:
            return _redirect("gone", id=dead_id)
        raise
    except Conflict:
        if browser:
            return _redirect("changed", id=dead_id)
        raise
    log.info("ops_dead_letter_replayed", dead_id=dead_id, job=job, job_id=job_id)
    if browser:
        return _redirect("replayed", id=dead_id, job=job)
    return JSONResponse({"replayed": dead_id, "job_id": job_id})

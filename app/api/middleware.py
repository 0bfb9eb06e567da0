"""Correlation ids and request metrics for every HTTP request."""

from __future__ import annotations

import re
import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import correlation_id_var, get_logger, new_correlation_id

log = get_logger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

HTTP_REQUESTS = Counter(
    "waybill_http_requests_total",
    "HTTP requests by route, method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "waybill_http_request_seconds",
    "HTTP request latency by route.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _incoming_request_id(scope: Scope) -> str:
    """The caller's request id, read straight off the ASGI header list.

    ASGI servers lower-case header names, so one pass with a bytes compare finds it; building
    a ``Headers`` mapping decodes every header and looks up by raising ``KeyError``, which
    profiled at a tenth of a tracking webhook's request handling.
    """
    for name, value in scope.get("headers", ()):
        if name == _REQUEST_ID_KEY:
            return str(value.decode("latin-1"))
    return ""


class CorrelationMiddleware:
    """Accept a caller's ``X-Request-ID`` (if sane), else mint one; echo it on every response.

    Plain ASGI rather than ``BaseHTTPMiddleware``: that one runs every request through an extra
    task and memory streams, a cost every webhook of a tracking storm would pay.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _incoming_request_id(scope)
        cid = incoming if _SAFE_ID.match(incoming) else new_correlation_id()
        header = (_REQUEST_ID_KEY, cid.encode("latin-1"))
        token = correlation_id_var.set(cid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != header[0]]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(path, method, str(status)).inc()
            HTTP_LATENCY.labels(path, method).observe(time.perf_counter() - started)
            correlation_id_var.reset(token)

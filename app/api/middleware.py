"""Correlation ids and request metrics for every HTTP request."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable

from prometheus_client import Counter, Histogram
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

from app.core.logging import correlation_id_var, get_logger, new_correlation_id

log = get_logger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
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


class CorrelationMiddleware(BaseHTTPMiddleware):
    """Accept a caller's ``X-Request-ID`` (if sane), else mint one; echo it on every response."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        cid = incoming if _SAFE_ID.match(incoming) else new_correlation_id()
        token = correlation_id_var.set(cid)
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers[REQUEST_ID_HEADER] = cid
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(path, request.method, str(status)).inc()
            HTTP_LATENCY.labels(path, request.method).observe(time.perf_counter() - started)
            correlation_id_var.reset(token)

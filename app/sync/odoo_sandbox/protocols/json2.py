"""JSON-2 (19.0 only): ``POST /json/2/<model>/<method>`` (reference §1.3).

Bearer API key only, named parameters plus ``ids`` and ``context`` in a JSON object body, an
optional ``X-Odoo-Database`` header. Errors are an HTTP status and a ``serialize_exception``
body: 422 user/validation errors and bad parameters, 403 access errors, 404 missing records and
unknown models or methods, 409 lock conflicts, 401 with ``WWW-Authenticate: bearer`` for a bad
key, 500 for anything else (e.g. ``ValueError`` for an unknown field).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import (
    BadRequest,
    HTTPException,
    NotFound,
    Unauthorized,
    json2_status,
    serialize_exception,
)
from .base import Runtime, json_default, object_call_gate, run_sync

_BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)


def _response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, default=json_default, ensure_ascii=False)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(exc: BaseException, version: str) -> Response:
    headers = exc.headers if isinstance(exc, HTTPException) else None
    return _response(serialize_exception(exc, version), json2_status(exc), headers)


def bearer_key(request: Request) -> str | None:
    match = _BEARER.match(request.headers.get("authorization", "").strip())
    return match.group(1).strip() if match else None


async def handle(request: Request, runtime: Runtime, model: str, method: str) -> Response:
    fault, early = await object_call_gate(runtime, "json2", model, method)
    if early is not None:
        return early
    key = bearer_key(request)
    if key is None or not runtime.service.auth.key_ok(key):
        return error_response(
            Unauthorized("Invalid apikey", headers={"WWW-Authenticate": "bearer"}),
            runtime.version,
        )
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return error_response(BadRequest("Invalid JSON data"), runtime.version)
    if not isinstance(body, dict):
        return error_response(BadRequest("Invalid JSON data: expected an object"), runtime.version)
    try:
        result = await run_sync(
            runtime.service.json2,
            database=request.headers.get("x-odoo-database"),
            api_key=key,
            model=model,
            name=method,
            body=body,
            fault=fault,
        )
    except Exception as exc:
        return error_response(exc, runtime.version)
    return _response(result)


async def not_found(request: Request, runtime: Runtime) -> Response:
    """Any other path or method under ``/json/2``."""
    error = NotFound("Did you mean POST /json/2/<model>/<method>?")
    return error_response(error, runtime.version)

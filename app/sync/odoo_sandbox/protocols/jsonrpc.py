"""JSON-RPC: ``POST /jsonrpc`` with ``params.service`` ``common`` or ``object`` (reference §1.2).

* Content-Type must be ``application/json`` or ``application/json-rpc``, else HTTP 400.
* A body that is not JSON, or ``params`` that is not an object, is HTTP 400.
* Errors are HTTP 200 with ``error.code`` 200 (17.0/18.0) or 0 (19.0), ``message``
  ``"Odoo Server Error"`` and ``data`` from ``serialize_exception``.
* ``result`` is left out when the method returned ``None``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..errors import serialize_exception
from .base import Runtime, client_source, delay, json_default, object_call_gate, run_sync

JSON_MIMETYPES = ("application/json", "application/json-rpc")


def bad_request(description: str) -> HTMLResponse:
    """werkzeug's ``BadRequest`` page."""
    page = (
        "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n"
        f"<h1>Bad Request</h1>\n<p>{description}</p>\n"
    )
    return HTMLResponse(page, status_code=400)


def _json(payload: dict[str, Any]) -> Response:
    body = json.dumps(payload, default=json_default, ensure_ascii=False)
    return Response(body, status_code=200, media_type="application/json")


def error_payload(exc: BaseException, version: str, request_id: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {
            "code": 0 if version == "19.0" else 200,
            "message": "Odoo Server Error",
            "data": serialize_exception(exc, version),
        },
    }


async def handle(request: Request, runtime: Runtime) -> Response:
    mimetype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if mimetype not in JSON_MIMETYPES:
        kind = "'json'" if runtime.version != "19.0" else "'jsonrpc'"
        return bad_request(
            f"Request inferred type is compatible with ['http'] but '/jsonrpc' is type={kind}."
        )
    raw = await request.body()
    try:
        message = json.loads(raw)
    except ValueError:
        return bad_request("Invalid JSON data")
    if not isinstance(message, dict) or not isinstance(message.get("params", {}), dict):
        return bad_request("Invalid JSON-RPC data")
    request_id = message.get("id")
    params: dict[str, Any] = message.get("params", {})
    source = client_source(request)
    try:
        service = params["service"]
        method = params["method"]
        args = params.get("args", [])
        if set(params) - {"service", "method", "args"}:
            extra = sorted(set(params) - {"service", "method", "args"})[0]
            raise TypeError(f"RPC.jsonrpc() got an unexpected keyword argument '{extra}'")
    except KeyError as exc:
        error = TypeError(f"RPC.jsonrpc() missing 1 required positional argument: {exc}")
        return _json(error_payload(error, runtime.version, request_id))
    except TypeError as exc:
        return _json(error_payload(exc, runtime.version, request_id))
    if not isinstance(args, list):
        args = [args]
    if service == "object" and method in ("execute", "execute_kw"):
        model = args[3] if len(args) > 3 and isinstance(args[3], str) else "?"
        name = args[4] if len(args) > 4 and isinstance(args[4], str) else "?"
        fault, early = await object_call_gate(runtime, "jsonrpc", model, name)
        if early is not None:
            return early
        call = (runtime.service.object, method, args, source, fault)
    else:
        runtime.rpc_log.record("jsonrpc", str(service), str(method))
        await delay(runtime)
        if service == "common":
            call = (runtime.service.common, method, args, source)
        elif service == "object":
            call = (runtime.service.object, method, args, source)
        else:
            error = NameError(f"Service {service} not found")
            return _json(error_payload(error, runtime.version, request_id))
    try:
        result = await run_sync(*call)
    except Exception as exc:
        return _json(error_payload(exc, runtime.version, request_id))
    response: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
    if result is not None:
        response["result"] = result
    return _json(response)

"""``/sandbox/...``: the Python controls over HTTP, for a sandbox running in another process.

Nothing here is part of Odoo. Bodies and answers are JSON; errors are ``{"error": "..."}``
with status 400.

=======  ===============================  ============================================
method   path                             body / answer
=======  ===============================  ============================================
GET      /sandbox/status                  version, db, login, uid, record counts
POST     /sandbox/latency                 ``{"latency_ms": 20}``
POST     /sandbox/fail_next               ``{"n": 1, "kind": "serialization"}``
GET      /sandbox/rpc_calls               ``{"total": N, "calls": [{model, method, count}]}``
POST     /sandbox/rpc_calls/reset
POST     /sandbox/mark_ready              ``{"picking_id": 7}``
POST     /sandbox/release_pickings        ``{"n": 3}`` → ``{"ids": [...]}``
POST     /sandbox/automation_webhook      ``{"url": ..., "fields": [...], "duplicates": 1}``
POST     /sandbox/login_failures/reset
GET      /sandbox/records/{model}         raw stored rows
=======  ===============================  ============================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .protocols.base import json_default, run_sync

if TYPE_CHECKING:
    from .sandbox import OdooSandbox

Handler = Callable[[Request], Awaitable[Response]]


def _json(payload: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(payload, default=json_default), status_code=status, media_type="application/json"
    )


def _guarded(handler: Callable[[Request], Awaitable[Any]]) -> Handler:
    async def route(request: Request) -> Response:
        try:
            return _json(await handler(request))
        except Exception as exc:
            return _json({"error": f"{type(exc).__name__}: {exc}"}, status=400)

    return route


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def control_routes(sandbox: OdooSandbox) -> list[Route]:
    async def status(request: Request) -> Any:
        return await run_sync(sandbox.status)

    async def latency(request: Request) -> Any:
        sandbox.latency_ms = float((await _body(request))["latency_ms"])
        return {"latency_ms": sandbox.latency_ms}

    async def fail_next(request: Request) -> Any:
        body = await _body(request)
        sandbox.fail_next(int(body.get("n", 1)), str(body["kind"]))
        return {"pending": sandbox.faults.pending()}

    async def rpc_calls(request: Request) -> Any:
        counter = sandbox.rpc_calls
        calls = [
            {"model": model, "method": method, "count": count}
            for (model, method), count in sorted(counter.items())
        ]
        return {"total": sum(counter.values()), "calls": calls}

    async def rpc_reset(request: Request) -> Any:
        sandbox.reset_rpc_calls()
        return {"ok": True}

    async def mark_ready(request: Request) -> Any:
        picking_id = int((await _body(request))["picking_id"])
        await run_sync(sandbox.mark_ready, picking_id)
        return {"ok": True}

    async def release(request: Request) -> Any:
        n = int((await _body(request)).get("n", 1))
        return {"ids": await run_sync(sandbox.release_pickings, n)}

    async def webhook(request: Request) -> Any:
        body = await _body(request)
        sandbox.set_automation_webhook(
            body.get("url"), list(body.get("fields", [])), int(body.get("duplicates", 1))
        )
        return {"ok": True}

    async def login_reset(request: Request) -> Any:
        sandbox.reset_login_failures()
        return {"ok": True}

    async def records(request: Request) -> Any:
        model = request.path_params["model"]
        return await run_sync(sandbox.records, model)

    return [
        Route("/sandbox/status", _guarded(status), methods=["GET"]),
        Route("/sandbox/latency", _guarded(latency), methods=["POST"]),
        Route("/sandbox/fail_next", _guarded(fail_next), methods=["POST"]),
        Route("/sandbox/rpc_calls", _guarded(rpc_calls), methods=["GET"]),
        Route("/sandbox/rpc_calls/reset", _guarded(rpc_reset), methods=["POST"]),
        Route("/sandbox/mark_ready", _guarded(mark_ready), methods=["POST"]),
        Route("/sandbox/release_pickings", _guarded(release), methods=["POST"]),
        Route("/sandbox/automation_webhook", _guarded(webhook), methods=["POST"]),
        Route("/sandbox/login_failures/reset", _guarded(login_reset), methods=["POST"]),
        Route("/sandbox/records/{model}", _guarded(records), methods=["GET"]),
    ]

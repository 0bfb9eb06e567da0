"""Liveness and readiness. ``/health`` never touches a dependency; ``/ready`` checks each."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app import __version__
from app.api.deps import get_ctx
from app.core.context import AppContext
from app.core.queue_metrics import refresh as refresh_queue_metrics
from app.core.security import require_roles

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


def _check(name: str, probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        if probe() is False:
            raise ConnectionError("unreachable")
        return {"name": name, "ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    except Exception as exc:  # readiness reports every failure instead of raising
        return {"name": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _readiness(ctx: AppContext) -> list[dict[str, Any]]:
    return [
        _check("database", ctx.db.ping),
        _check("redis", ctx.redis.ping),
        _check("odoo", ctx.odoo_fast.ping),
    ]


@router.get(
    "/ready",
    summary="Readiness: database, Redis and Odoo reachable",
    dependencies=[Depends(require_roles("monitoring", "support"))],
    responses={503: {"description": "A dependency is unreachable (each check reported)"}},
)
async def ready(ctx: AppContext = Depends(get_ctx)) -> JSONResponse:
    checks = await run_in_threadpool(_readiness, ctx)
    ok = all(c["ok"] for c in checks)
    return JSONResponse(
        status_code=200 if ok else 503,
        content={"status": "ready" if ok else "not_ready", "checks": checks},
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    include_in_schema=False,
    dependencies=[Depends(require_roles("monitoring"))],
)
async def metrics(ctx: AppContext = Depends(get_ctx)) -> Response:
    await run_in_threadpool(refresh_queue_metrics, ctx.queue)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

"""Model routes: which version serves each model, and a reload after a promotion.

Mount with ``app.include_router(app.triage.router.router)``: the router's lifespan loads the
models when the application starts (in a worker thread, so a slow registry does not block the
event loop) and starts the periodic refresh; it stops the refresh on shutdown. The manager is
built lazily per process and kept in ``ctx.extras["models"]``.

Reading needs a data-scientist, monitoring, support or dispatcher key; reloading a
data-scientist key (admin passes both).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from app.core.security import Role, require_roles
from app.triage.models import ModelManager, manager_from_settings

log = structlog.get_logger(__name__)
EXTRAS_KEY = "models"
_create_lock = threading.Lock()


def model_manager(ctx: Any) -> ModelManager:
    """The context's ``ModelManager``, created (not yet loaded) on first use."""
    with _create_lock:
        manager = ctx.extras.get(EXTRAS_KEY)
        if manager is None:
            manager = manager_from_settings(ctx.settings)
            ctx.extras[EXTRAS_KEY] = manager
        return manager  # type: ignore[no-any-return]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    ctx = getattr(app.state, "ctx", None)
    manager = None
    if ctx is not None:
        manager = model_manager(ctx)
        try:
            await run_in_threadpool(manager.start)
        except Exception:  # the service starts with baselines rather than not at all
            log.exception("model_start_failed")
    try:
        yield
    finally:
        if manager is not None:
            manager.stop()


router = APIRouter(tags=["models"], lifespan=_lifespan)


READ_MODELS = require_roles(Role.DATA_SCIENTIST, Role.MONITORING, Role.SUPPORT,
                            Role.DISPATCHER)
RELOAD_MODELS = require_roles(Role.DATA_SCIENTIST)  # and admin


@router.get("/v1/models", summary="Which version serves each model (registry or baseline)",
            dependencies=[Depends(READ_MODELS)])
async def list_models(request: Request) -> dict[str, Any]:
    manager = model_manager(request.app.state.ctx)
    if any(s["checked_at"] is None for s in manager.status()):
        await run_in_threadpool(manager.reload)
    return manager.describe()


@router.post("/v1/admin/models/reload",
             summary="Re-read the registry now (e.g. after `waybill models promote`)",
             dependencies=[Depends(RELOAD_MODELS)])
async def reload_models(request: Request) -> dict[str, Any]:
    manager = model_manager(request.app.state.ctx)
    await run_in_threadpool(manager.reload)
    return manager.describe()

"""The FastAPI application. ``app.main:app`` builds its context from the environment."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from app import __version__
from app.api.errors import install_error_handlers
from app.api.middleware import CorrelationMiddleware
from app.api.routes import admin, audit, health, keys, ops, shipments
from app.core.context import AppContext, get_context
from app.core.logging import configure_logging
from app.core.security import AuthChallengeMiddleware, validate_security_settings
from app.sync.alerts import router as alerts_router
from app.sync.exceptions import router as triage_router
from app.sync.intake import router as intake_router
from app.sync.tracking import router as tracking_router
from app.sync.tracking.jobs import warm_webhook_intake
from app.triage.router import router as models_router


def create_app(ctx: AppContext | None = None) -> FastAPI:
    """Build the API around a context (tests and the demo pass theirs; production reads env)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "ctx", None) is None:
            app.state.ctx = get_context()
        await run_in_threadpool(warm_webhook_intake, app.state.ctx)
        if getattr(app.state, "owns_context", False):
            # The served process: what start-up loaded lives as long as the process, so move
            # it out of the collector's reach (as ``app.core.worker`` does). Otherwise every
            # full collection walks the imported libraries, a 0.3 s stall of the event loop
            # that every request in flight waits out (measured in the webhook storm).
            gc.collect()
            gc.freeze()
        yield
        if getattr(app.state, "owns_context", False):
            # SIGTERM: uvicorn has drained the requests; finish running jobs, close the pools
            await run_in_threadpool(app.state.ctx.close)

    app = FastAPI(
        title="Waybill",
        version=__version__,
        description="Odoo ⇄ carrier integration: intake, booking, tracking and triage.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.add_middleware(AuthChallengeMiddleware)
    app.add_middleware(CorrelationMiddleware)
    install_error_handlers(app)
    app.include_router(tracking_router.router)  # first: the busiest route is matched at once
    app.include_router(health.router)
    app.include_router(intake_router.router)
    app.include_router(shipments.router)
    app.include_router(triage_router.router)
    app.include_router(alerts_router.router)
    app.include_router(models_router)
    app.include_router(admin.router)
    app.include_router(audit.router)
    app.include_router(keys.router)
    app.include_router(ops.router)
    return app


def _production_app() -> FastAPI:
    settings = get_context().settings
    configure_logging(settings.log_level, json=settings.log_json)
    validate_security_settings(settings)
    app = create_app(get_context())
    app.state.owns_context = True  # the served process's context: closed on shutdown
    return app


def __getattr__(name: str) -> FastAPI:
    """``app.main:app`` is built on first access, so importing this module has no side effects."""
    if name == "app":
        application = _production_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)

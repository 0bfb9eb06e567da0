"""Building the ETA tracker with the served model (registry champion, else the baseline)."""

from __future__ import annotations

from typing import Any

from app.core.context import AppContext
from app.core.logging import get_logger
from app.sync.booking.jobs import enqueue_drain
from app.sync.eta.service import EtaTracker

log = get_logger(__name__)


def served_eta_model(ctx: AppContext) -> Any:
    try:
        from app.triage.router import model_manager

        served = model_manager(ctx).get("eta")
        return served.predictor if served.source == "registry" else None
    except Exception as exc:  # the baseline answers
        log.warning("eta_model_unavailable", error=type(exc).__name__)
        return None


def build_eta(ctx: AppContext) -> EtaTracker:
    def model() -> Any:
        if "eta_model" not in ctx.extras:
            ctx.extras["eta_model"] = served_eta_model(ctx)
        return ctx.extras["eta_model"]

    return EtaTracker(db=ctx.db, model=model, on_writes_queued=lambda: enqueue_drain(ctx))

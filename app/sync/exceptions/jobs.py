"""Wiring triage into the tracking projector, and the feedback reconciliation job."""

from __future__ import annotations

import json
from typing import Any

from app.core.context import AppContext, get_context
from app.core.logging import get_logger
from app.sync.booking.approval import approve_proposal
from app.sync.booking.jobs import enqueue_booking, enqueue_drain
from app.sync.exceptions.feedback import sync_activity_outcomes
from app.sync.exceptions.service import ExceptionTriage
from app.triage.classifier import ExceptionClassifier

log = get_logger(__name__)


def served_classifier(ctx: AppContext) -> tuple[ExceptionClassifier, str | None]:
    """The registered champion when there is one, else the code-table + keyword baseline."""
    try:
        from app.triage.router import model_manager

        served = model_manager(ctx).get("triage")
        if served.source == "registry":
            return ExceptionClassifier(model=served.predictor), served.version
    except Exception as exc:  # serving must go on with the baseline
        log.warning("triage_model_unavailable", error=type(exc).__name__)
    return ExceptionClassifier(), None


def build_triage(ctx: AppContext) -> ExceptionTriage:
    def classifier() -> ExceptionClassifier:
        if "triage_classifier" not in ctx.extras:
            ctx.extras["triage_classifier"] = served_classifier(ctx)
        return ctx.extras["triage_classifier"][0]  # type: ignore[no-any-return]

    def version() -> str | None:
        return ctx.extras.get("triage_classifier", (None, None))[1]  # type: ignore[no-any-return]

    raw = ctx.settings.triage_team_users
    return ExceptionTriage(
        db=ctx.db,
        classifier=classifier,
        team_users=json.loads(raw) if raw else {},
        model_version=version,
        on_writes_queued=lambda: enqueue_drain(ctx),
    )


def sync_feedback() -> dict[str, Any]:
    """Reconcile open suggestions with their Odoo activities (done / cancelled)."""
    ctx = get_context()
    outcomes = sync_activity_outcomes(ctx.db, ctx.odoo)
    booked = 0
    for outcome in outcomes:
        if outcome.kind == "approval" and outcome.decision == "done":
            shipment_id = approve_proposal(ctx.db, outcome.suggestion_id)
            if shipment_id is not None:
                enqueue_booking(ctx, shipment_id)
                booked += 1
    return {"closed": len(outcomes), "approved_bookings": booked}

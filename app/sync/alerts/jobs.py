"""Wiring alerting into the app: builders from the context, and the scheduled steps."""

from __future__ import annotations

import json
from typing import Any

from app.core.context import AppContext, get_context
from app.sync.alerts.anomalies import AnomalyMonitor, shipment_advisories
from app.sync.alerts.at_risk import AtRiskMonitor
from app.sync.booking.jobs import enqueue_drain
from app.sync.eta.jobs import build_eta


def build_at_risk(ctx: AppContext) -> AtRiskMonitor:
    """``ctx.extras["alerts_clock"]`` replaces the wall clock (replays of past days, tests)."""
    raw = ctx.settings.triage_team_users
    clock = ctx.extras.get("alerts_clock")
    return AtRiskMonitor(
        db=ctx.db,
        predict=build_eta(ctx).predict,
        threshold=ctx.settings.at_risk_threshold,
        team_users=json.loads(raw) if raw else {},
        advisories=shipment_advisories,
        on_writes_queued=lambda: enqueue_drain(ctx),
        **({"clock": clock} if clock is not None else {}),
    )


def sweep_at_risk() -> dict[str, Any]:
    """Scheduled: re-check in-flight shipments, the silent ones first."""
    return build_at_risk(get_context()).sweep()


def detect_anomalies() -> dict[str, Any]:
    """Scheduled: carrier, service and lane degradation over complete days."""
    return AnomalyMonitor(db=get_context().db).run().as_dict()

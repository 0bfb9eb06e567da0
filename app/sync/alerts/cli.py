"""``waybill alerts``: list, acknowledge and resolve alerts; run the detectors; evaluate."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.core.db import Database
from app.core.errors import WaybillError
from training.alerts.cli import evaluate_app

alerts_app = typer.Typer(
    help="Predictive alerting: at-risk shipments, degraded carriers.", no_args_is_help=True
)
alerts_app.add_typer(
    evaluate_app, name="evaluate", help="Detection delay, false alarms, at-risk precision/recall."
)


def _db() -> Database:
    from app.core.context import get_context

    return get_context().db


def _act(alert_id: str, action: str, actor: str) -> None:
    from app.sync.alerts.anomalies import act

    try:
        typer.echo(json.dumps(act(_db(), alert_id, action, actor=actor), default=str))
    except WaybillError as exc:
        typer.echo(json.dumps(exc.to_body()), err=True)
        raise typer.Exit(1) from exc


@alerts_app.command("list")
def list_command(
    kind: Annotated[str, typer.Option(help="all, anomaly or at_risk")] = "all",
    state: Annotated[str | None, typer.Option(help="open, acknowledged or resolved")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
) -> None:
    """One JSON line per alert, newest first."""
    from app.sync.alerts.anomalies import list_alerts
    from app.sync.alerts.service import list_at_risk

    db = _db()
    items = []
    if kind in ("all", "anomaly"):
        items += list_alerts(db, state=state, limit=limit)
    if kind in ("all", "at_risk") and state != "acknowledged":
        items += list_at_risk(db, state=state, limit=limit)
    for item in items[:limit]:
        typer.echo(json.dumps(item, default=str))


@alerts_app.command("ack")
def ack_command(
    alert_id: str, actor: Annotated[str, typer.Option(help="Who acknowledges")] = "cli"
) -> None:
    """Acknowledge a degradation alert: someone is on it."""
    _act(alert_id, "acknowledge", actor)


@alerts_app.command("resolve")
def resolve_command(
    alert_id: str, actor: Annotated[str, typer.Option(help="Who resolves")] = "cli"
) -> None:
    """Resolve a degradation alert."""
    _act(alert_id, "resolve", actor)


@alerts_app.command("run")
def run_command() -> None:
    """Run both detectors once (what the scheduler does): at-risk sweep, degradation."""
    from app.sync.alerts.jobs import detect_anomalies, sweep_at_risk

    typer.echo(json.dumps({"at_risk": sweep_at_risk(), "anomalies": detect_anomalies()}))

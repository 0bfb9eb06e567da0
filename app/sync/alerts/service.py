"""Reading at-risk alerts (the suggestions behind the customer-service activities)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.db import Database
from app.store.tables import SuggestionRow
from app.sync.alerts.at_risk import KIND

STATE_NAMES = {"open": "open", "resolved": "resolved", "done": "resolved", "dismissed": "resolved"}


def at_risk_view(row: SuggestionRow) -> dict[str, Any]:
    payload = row.payload or {}
    return {
        "id": row.id,
        "kind": "at_risk",
        "shipment_id": row.shipment_id,
        "state": STATE_NAMES.get(row.state, row.state),
        "probability": payload.get("probability"),
        "promised": payload.get("promised"),
        "predicted_date": payload.get("predicted_date"),
        "signals": payload.get("signals", []),
        "closed_reason": payload.get("closed_reason"),
        "odoo_activity_id": row.odoo_activity_id,
        "started_at": row.created_at,
        "last_seen_at": row.updated_at,
    }


def list_at_risk(
    db: Database, *, state: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    with db.session() as session:
        query = (
            select(SuggestionRow)
            .where(SuggestionRow.kind == KIND)
            .order_by(SuggestionRow.created_at.desc(), SuggestionRow.id)
            .limit(limit)
        )
        if state == "open":
            query = query.where(SuggestionRow.state == "open")
        elif state == "resolved":
            query = query.where(SuggestionRow.state != "open")
        return [at_risk_view(r) for r in session.scalars(query)]

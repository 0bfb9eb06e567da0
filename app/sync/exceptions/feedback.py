"""What people did with Waybill's suggestions in Odoo, recorded as labels for retraining.

Odoo tells nobody when an activity is marked done or cancelled, so open suggestions are
reconciled by reading their activities: gone (17.0/18.0) or archived (19.0) means handled. A
"done" leaves a message on the record carrying the activity's note — and our reference in it —
plus any feedback text; a cancellation leaves nothing.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.core.audit import record_audit
from app.core.db import Database
from app.core.errors import NotFound, Unprocessable
from app.core.logging import get_logger
from app.models import ExceptionCategory
from app.store.tables import FeedbackRow, ShipmentRow, SuggestionRow
from app.sync.odoo import OdooClient

log = get_logger(__name__)
CLOSING_STATE = {
    "done": "done",
    "cancelled": "dismissed",
    "recategorized": "done",
    "chose_other": "done",
}
_FEEDBACK = re.compile(r"Feedback:</strong></div>\s*<p>(.*?)</p>", re.S)


@dataclass(frozen=True)
class Outcome:
    suggestion_id: str
    kind: str
    decision: str  # done | cancelled
    note: str | None


def sync_activity_outcomes(db: Database, odoo: OdooClient, *, limit: int = 500) -> list[Outcome]:
    with db.session() as session:
        open_rows = session.execute(
            select(
                SuggestionRow.id,
                SuggestionRow.kind,
                SuggestionRow.odoo_activity_id,
                ShipmentRow.odoo_picking_id,
            )
            .join(ShipmentRow, ShipmentRow.id == SuggestionRow.shipment_id)
            .where(SuggestionRow.state == "open", SuggestionRow.odoo_activity_id.is_not(None))
            .limit(limit)
        ).all()
    if not open_rows:
        return []
    ids = [int(r.odoo_activity_id) for r in open_rows]
    alive = {
        int(a["id"])
        for a in odoo.search_read(
            "mail.activity", [("id", "in", ids)], ["id", "active"], context={"active_test": False}
        )
        if a.get("active", True)
    }
    outcomes = []
    for row in open_rows:
        if int(row.odoo_activity_id) in alive:
            continue
        bodies = [
            str(m["body"])
            for m in odoo.search_read(
                "mail.message",
                [
                    ("model", "=", "stock.picking"),
                    ("res_id", "=", row.odoo_picking_id),
                    ("body", "ilike", f"Waybill ref {row.id}"),
                ],
                ["body"],
            )
        ]
        done = bool(bodies)
        note = _feedback_text(bodies[0]) if bodies else None
        outcome = Outcome(row.id, row.kind, "done" if done else "cancelled", note)
        record_decision(db, row.id, outcome.decision, actor="odoo", note=note)
        outcomes.append(outcome)
    return outcomes


def record_decision(
    db: Database,
    suggestion_id: str,
    decision: str,
    *,
    actor: str,
    note: str | None = None,
    category: str | None = None,
) -> FeedbackRow:
    """Close a suggestion with a person's decision; the label keeps what the model proposed."""
    if category is not None and category not in {c.value for c in ExceptionCategory}:
        raise Unprocessable(
            f"unknown category {category!r}",
            details={"fields": [{"field": "category", "message": "not an exception category"}]},
        )
    with db.session() as session:
        row = session.get(SuggestionRow, suggestion_id)
        if row is None:
            raise NotFound(f"no suggestion {suggestion_id!r}", code="suggestion_not_found")
        proposed = (row.payload or {}).get("category")
        label: dict[str, Any] = {
            "proposed": proposed,
            "confidence": row.confidence,
            "model_version": row.model_version,
            "category": category or proposed,
            "confirmed": decision == "done" and category in (None, proposed),
        }
        feedback = FeedbackRow(
            suggestion_id=row.id, decision=decision, label=label, actor=actor, note=note
        )
        session.add(feedback)
        before = row.state
        row.state = CLOSING_STATE.get(decision, row.state)
        if category is not None:
            row.payload = {**(row.payload or {}), "category": category}
        record_audit(
            session,
            actor=actor,
            action=f"suggestion.{decision}",
            target_type="suggestion",
            target_id=row.id,
            before={"state": before},
            after={"state": row.state, "category": label["category"]},
        )
        session.flush()
        return feedback


def _feedback_text(body: str) -> str | None:
    match = _FEEDBACK.search(body)
    if not match:
        return None
    return html.unescape(re.sub(r"<br\s*/?>", "\n", match.group(1))).strip() or None

"""From a tracking exception to one Odoo activity for the team that must act.

On each status change the triggering event is classified (code table, model, keywords) and
routed (team, priority, action, explanation). One open suggestion exists per shipment and
problem (category): a second event about the same problem updates its activity instead of
adding one. Low-confidence guesses are routed to manual review rather than presented as facts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import select

from app.core.db import Database
from app.core.ids import new_id
from app.core.logging import get_logger
from app.models import TrackingStatus
from app.store.tables import ShipmentRow, SuggestionRow
from app.sync.alerts.summary import case_summary_html
from app.sync.eta.service import latest_eta
from app.sync.tracking.state import TrackingState
from app.sync.writeback.outbox import (
    queue_suggestion_activity,
)
from app.triage.classifier import Classification, ExceptionClassifier
from app.triage.routing import Routing, route

log = get_logger(__name__)

KIND = "triage"
DEADLINE_BY_PRIORITY = {"critical": 0, "high": 1, "medium": 2, "low": 3}
# The stock "Exception" activity type is archived in a fresh Odoo, so every triage activity is a
# To-Do; urgency travels in the summary and the deadline.
ACTIVITY_TYPE = "mail.mail_activity_data_todo"


class ExceptionTriage:
    def __init__(
        self,
        *,
        db: Database,
        classifier: Callable[[], ExceptionClassifier],
        team_users: Mapping[str, int] | None = None,
        model_version: Callable[[], str | None] = lambda: None,
        on_writes_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.classifier = classifier
        self.team_users = dict(team_users or {})
        self.model_version = model_version
        self.on_writes_queued = on_writes_queued

    def on_status_change(
        self, shipment_id: str, state: TrackingState, event: Mapping[str, Any]
    ) -> None:
        if state.status not in (TrackingStatus.EXCEPTION, TrackingStatus.RETURN_TO_SENDER):
            return
        self.triage(
            shipment_id, event, status_so_far=(state.milestone.value if state.milestone else "none")
        )

    def triage(
        self, shipment_id: str, event: Mapping[str, Any], *, status_so_far: str = "none"
    ) -> str | None:
        """Classify, route and (re)place the activity; returns the suggestion id."""
        classification = self.classifier().classify(
            {
                "carrier": event.get("carrier"),
                "raw_code": event.get("raw_code"),
                "raw_description": event.get("raw_description"),
                "status_so_far": status_so_far,
            }
        )
        category = (
            classification.category.value
            if classification.category
            else event.get("exception_category") or "other_exception"
        )
        with self.db.session() as session:
            shipment = session.get(ShipmentRow, shipment_id)
            if shipment is None:
                return None
            context = _context(shipment, event)
            routing = route(classification, context)
            payload = {
                "category": category,
                "classification": classification.as_dict(),
                "routing": routing.as_dict(),
                "event": _event_summary(event),
                "needs_review": classification.needs_review,
            }
            key = f"{shipment_id}:{category}"
            row = session.scalars(
                select(SuggestionRow).where(
                    SuggestionRow.kind == KIND, SuggestionRow.dedupe_key == key
                )
            ).first()
            if row is None or row.state != "open":
                if row is not None:  # a new occurrence after the last one was handled
                    row.dedupe_key = f"{key}:{row.id}"
                    session.flush()
                row = SuggestionRow(
                    id=new_id("sug"),
                    kind=KIND,
                    dedupe_key=key,
                    shipment_id=shipment_id,
                    state="open",
                )
                session.add(row)
                is_new = True
            else:
                is_new = False
            row.payload = payload
            row.model_name = "waybill-triage"
            row.model_version = self.model_version() or classification.source
            row.confidence = classification.confidence
            session.flush()
            if shipment.odoo_picking_id is not None:
                self._queue_activity(
                    session, row, shipment, routing, classification, update=not is_new
                )
            suggestion_id = row.id
        if self.on_writes_queued is not None:
            self.on_writes_queued()
        log.info(
            "exception_triaged",
            shipment_id=shipment_id,
            category=category,
            team=routing.team,
            priority=routing.priority,
            needs_review=classification.needs_review,
            source=classification.source,
        )
        return suggestion_id

    def _queue_activity(
        self,
        session: Any,
        row: SuggestionRow,
        shipment: ShipmentRow,
        routing: Routing,
        classification: Classification,
        *,
        update: bool,
    ) -> None:
        summary = _summary(routing, classification)
        note = activity_note(routing, classification, shipment)
        eta = latest_eta(self.db, shipment.id)
        if eta is not None:
            note += (
                f"<p>Predicted delivery: {escape(eta['p50'][:10])} (80 % between "
                f"{escape(eta['p10'][:10])} and {escape(eta['p90'][:10])})</p>"
            )
        note += case_summary_html(session, shipment)
        deadline = date.today() + timedelta(days=DEADLINE_BY_PRIORITY.get(routing.priority, 2))
        queue_suggestion_activity(
            session,
            picking_id=int(shipment.odoo_picking_id or 0),
            suggestion_id=row.id,
            activity_id=row.odoo_activity_id,
            update=update,
            moment=datetime.now(UTC),
            fields={"summary": summary, "note_html": note, "date_deadline": deadline.isoformat()},
            on_create={
                "activity_type_xmlid": ACTIVITY_TYPE,
                "user_id": self.team_users.get(routing.team),
            },
        )


def _summary(routing: Routing, classification: Classification) -> str:
    title = (routing.category or "exception").replace("_", " ")
    prefix = "Review: " if classification.needs_review else ""
    return f"{prefix}{title.capitalize()} — {routing.priority} ({routing.team})"[:120]


def activity_note(routing: Routing, classification: Classification, shipment: ShipmentRow) -> str:
    why = "".join(f"<li>{escape(str(s))}</li>" for s in routing.explanation[:5])
    return (
        f"<p><b>{escape(routing.summary)}</b></p>"
        f"<p>Suggested action: {escape(routing.suggested_action)}</p>"
        f"<p>Carrier: {escape(str(shipment.carrier or ''))} — tracking "
        f"{escape(', '.join(p.tracking_number or '' for p in shipment.parcels))}</p>"
        f"<p>Confidence {classification.confidence:.0%} ({escape(classification.source)})"
        f"{' — please check the category' if classification.needs_review else ''}</p>"
        + (f"<ul>{why}</ul>" if why else "")
    )


def _context(shipment: ShipmentRow, event: Mapping[str, Any]) -> dict[str, Any]:
    request = shipment.request or {}
    value = (request.get("declared_value") or {}) if isinstance(request, dict) else {}
    return {
        "order_value": value.get("amount"),
        "currency": value.get("currency"),
        "customer_tier": (request.get("metadata") or {}).get("customer_tier"),
        "promised_date": shipment.promised_date.date().isoformat()
        if shipment.promised_date
        else None,
        "carrier": shipment.carrier,
        "tracking_number": event.get("tracking_number"),
    }


def _event_summary(event: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("carrier", "tracking_number", "occurred_at", "raw_code", "raw_description")
    return json.loads(json.dumps({k: event.get(k) for k in keep}, default=str))

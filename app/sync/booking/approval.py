"""The dispatcher in the loop: an Odoo activity proposing a quote, and the dispatcher's answer.

Marking the activity done books the proposed quote; choosing another quote through the API
books that one instead. Either way the decision is stored as feedback, so the recommender
learns what dispatchers accept.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import Database
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.ids import new_id
from app.models import Rate, ShipmentState
from app.store.tables import ShipmentRow, SuggestionRow
from app.sync.exceptions.feedback import record_decision
from app.sync.writeback.outbox import queue_suggestion_activity

KIND = "approval"


def request_approval(session: Session, row: ShipmentRow, rate: Rate | None, reason: str) -> None:
    """One open approval per shipment: a suggestion row and an activity on the picking."""
    existing = session.scalars(
        select(SuggestionRow).where(SuggestionRow.kind == KIND, SuggestionRow.dedupe_key == row.id)
    ).first()
    if existing is not None and existing.state == "open":
        return
    if existing is not None:
        existing.dedupe_key = f"{row.id}:{existing.id}"
        session.flush()
    suggestion = SuggestionRow(
        id=new_id("apr"),
        kind=KIND,
        dedupe_key=row.id,
        shipment_id=row.id,
        state="open",
        payload={"rate": rate.model_dump(mode="json") if rate else None, "reason": reason},
        model_name="booking-policy",
    )
    session.add(suggestion)
    session.flush()
    if row.odoo_picking_id is None:
        return
    summary = (
        f"Book {rate.carrier} {rate.service}: {rate.total.amount} {rate.total.currency}"
        if rate
        else "Choose a carrier for this delivery"
    )
    note = (
        f"<p>{escape(reason)}</p><p>Mark this activity done to book the proposal, or "
        f"choose another quote in Waybill (shipment {escape(row.id)}).</p>"
    )
    queue_suggestion_activity(
        session,
        picking_id=row.odoo_picking_id,
        suggestion_id=suggestion.id,
        activity_id=None,
        update=False,
        moment=datetime.now(UTC),
        fields={
            "summary": summary[:120],
            "note_html": note,
            "date_deadline": date.today().isoformat(),
        },
        on_create={"activity_type_xmlid": "mail.mail_activity_data_todo"},
    )


def open_approval(session: Session, shipment_id: str) -> SuggestionRow | None:
    return session.scalars(
        select(SuggestionRow).where(
            SuggestionRow.kind == KIND,
            SuggestionRow.shipment_id == shipment_id,
            SuggestionRow.state == "open",
        )
    ).first()


def choose_quote(db: Database, shipment_id: str, *, account: str, service: str, actor: str) -> None:
    """Make the dispatcher's quote the chosen one; the booking job then buys it."""
    with db.session() as session:
        row = session.get(ShipmentRow, shipment_id)
        if row is None:
            raise NotFound(f"no shipment {shipment_id!r}", code="shipment_not_found")
        if row.state not in (ShipmentState.AWAITING_APPROVAL.value, ShipmentState.RATED.value):
            raise Conflict(
                f"shipment is {row.state}; only a shipment awaiting a choice can be given one",
                code="not_awaiting_choice",
            )
        matches = [r for r in row.rates if r.carrier_account == account and r.service == service]
        if not matches:
            raise Unprocessable(
                "no such quote for this shipment",
                details={
                    "fields": [
                        {"field": "service", "message": "choose one of the shipment's quotes"}
                    ]
                },
                code="quote_not_found",
            )
        for rate in row.rates:
            rate.chosen = rate is matches[0]
        row.state = ShipmentState.RATED.value
        row.carrier, row.carrier_account, row.service = (
            matches[0].carrier,
            matches[0].carrier_account,
            matches[0].service,
        )
        suggestion = open_approval(session, shipment_id)
        proposed = (suggestion.payload or {}).get("rate") if suggestion else None
        suggestion_id = suggestion.id if suggestion else None
    if suggestion_id is not None:
        same = bool(
            proposed
            and proposed.get("carrier_account") == account
            and proposed.get("service") == service
        )
        record_decision(
            db,
            suggestion_id,
            "done" if same else "chose_other",
            actor=actor,
            note=f"chosen: {account}/{service}",
        )


def approve_proposal(db: Database, suggestion_id: str) -> str | None:
    """The Odoo activity was marked done: the proposed quote becomes the choice."""
    with db.session() as session:
        suggestion = session.get(SuggestionRow, suggestion_id)
        rate: dict[str, Any] | None = (suggestion.payload or {}).get("rate") if suggestion else None
        shipment_id = suggestion.shipment_id if suggestion else None
    if not rate or not shipment_id:
        return None
    with db.session() as session:
        row = session.get(ShipmentRow, shipment_id)
        if row is None or row.state != ShipmentState.AWAITING_APPROVAL.value:
            return None
        for quote in row.rates:
            quote.chosen = (
                quote.carrier_account == rate["carrier_account"]
                and quote.service == rate["service"]
            )
        row.state = ShipmentState.RATED.value
    return shipment_id

"""Cut-off-aware escalation of dispatcher approvals.

A carrier choice waiting for a person costs nothing at 10:00 and a day's delay at 16:01: after
the warehouse cut-off the parcel misses today's collection. So an approval still open when the
cut-off is ``approval_escalate_minutes`` away is escalated once: its Odoo activity is renamed
urgent with the cut-off time, moved to the shift lead when one is configured, due today, and the
picking's chatter says why. Nothing is booked without a person — the escalation only makes the
decision impossible to overlook. One escalation per approval (recorded in its payload), so the
periodic run is idempotent; a metric and a warning log let on-call see approvals piling up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import WEEKDAYS, Settings
from app.core.db import Database
from app.core.logging import get_logger
from app.store.tables import ShipmentRow, SuggestionRow
from app.sync.booking.approval import KIND
from app.sync.writeback.outbox import (
    KIND_ACTIVITY_UPDATE,
    enqueue_write,
    picking_aggregate,
    queue_picking_message,
)

log = get_logger(__name__)

APPROVALS_ESCALATED = Counter(
    "waybill_approvals_escalated_total",
    "Dispatcher approvals escalated because the warehouse cut-off was near or past.",
    ["when"],  # before_cutoff | after_cutoff
)


@dataclass(frozen=True)
class WarehouseClock:
    """When today's parcels stop leaving today, in the warehouse's own time zone."""

    cutoff: time
    zone: ZoneInfo
    days: frozenset[int]  # date.weekday() values the carriers collect

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseClock:
        hour, minute = (int(part) for part in settings.warehouse_cutoff.split(":"))
        days = frozenset(WEEKDAYS.index(d) for d in settings.warehouse_days.split(","))
        return cls(time(hour, minute), ZoneInfo(settings.warehouse_timezone), days)

    def cutoff_on(self, day: date) -> datetime:
        return datetime.combine(day, self.cutoff, tzinfo=self.zone).astimezone(UTC)

    def next_cutoff(self, moment: datetime) -> datetime:
        """The first collection cut-off at or after ``moment`` (an aware datetime)."""
        day = moment.astimezone(self.zone).date()
        for offset in range(8):
            candidate = day + timedelta(days=offset)
            if candidate.weekday() in self.days and self.cutoff_on(candidate) >= moment:
                return self.cutoff_on(candidate)
        raise ValueError("no collection day in the week")  # unreachable: days is never empty


@dataclass(frozen=True)
class Escalation:
    suggestion_id: str
    shipment_id: str | None
    cutoff: datetime
    missed: bool


def due_escalations(
    session: Session, clock: WarehouseClock, now: datetime, lead: timedelta
) -> list[tuple[SuggestionRow, Escalation]]:
    """Open approvals whose cut-off (the first one after they were raised) is within ``lead``."""
    rows = session.scalars(
        select(SuggestionRow).where(SuggestionRow.kind == KIND, SuggestionRow.state == "open")
    ).all()
    due = []
    for row in rows:
        if (row.payload or {}).get("escalated_at"):
            continue
        cutoff = clock.next_cutoff(row.created_at)
        if now >= cutoff - lead:
            due.append((row, Escalation(row.id, row.shipment_id, cutoff, missed=now > cutoff)))
    return due


def escalate_pending_approvals(
    db: Database, settings: Settings, now: datetime | None = None
) -> list[Escalation]:
    """Escalate every open approval that is near (or past) its cut-off; idempotent."""
    now = now or datetime.now(UTC)
    clock = WarehouseClock.from_settings(settings)
    lead = timedelta(minutes=settings.approval_escalate_minutes)
    done: list[Escalation] = []
    with db.session() as session:
        for suggestion, escalation in due_escalations(session, clock, now, lead):
            if suggestion.odoo_activity_id is None:
                continue  # the activity has not reached Odoo yet: escalate it next run
            shipment = session.get(ShipmentRow, suggestion.shipment_id or "")
            if shipment is None or shipment.odoo_picking_id is None:
                continue
            _queue_escalation(session, suggestion, shipment, escalation, clock, settings)
            suggestion.payload = {**(suggestion.payload or {}), "escalated_at": now.isoformat()}
            done.append(escalation)
    for escalation in done:
        when = "after_cutoff" if escalation.missed else "before_cutoff"
        APPROVALS_ESCALATED.labels(when).inc()
        log.warning(
            "approval_escalated",
            suggestion_id=escalation.suggestion_id,
            shipment_id=escalation.shipment_id,
            cutoff=escalation.cutoff.isoformat(),
            missed=escalation.missed,
        )
    return done


def _queue_escalation(
    session: Session,
    suggestion: SuggestionRow,
    shipment: ShipmentRow,
    escalation: Escalation,
    clock: WarehouseClock,
    settings: Settings,
) -> None:
    picking_id = int(shipment.odoo_picking_id or 0)
    local_cutoff = escalation.cutoff.astimezone(clock.zone)
    at = local_cutoff.strftime("%H:%M")
    details: dict[str, Any] = suggestion.payload or {}
    rate: dict[str, Any] | None = details.get("rate")
    proposal = f"Book {rate['carrier']} {rate['service']}" if rate else "Choose a carrier"
    if escalation.missed:
        headline = f"URGENT, cut-off {at} missed: {proposal}"
        why = (
            f"The warehouse cut-off ({at}) passed with this delivery still waiting for a carrier "
            "choice; it can now leave on the next collection at the earliest."
        )
    else:
        headline = f"URGENT before cut-off {at}: {proposal}"
        why = (
            f"The warehouse cut-off is at {at}; without a decision this delivery misses today's "
            "collection."
        )
    note = (
        f"<p><strong>{escape(why)}</strong></p><p>{escape(str(details.get('reason', '')))}</p>"
        "<p>Mark this activity done to book the proposal, or choose another quote in "
        f"Waybill (shipment {escape(shipment.id)}).</p>"
    )
    payload: dict[str, Any] = {
        "activity_id": suggestion.odoo_activity_id,
        "ref": suggestion.id,
        "summary": headline[:120],
        "note_html": note,
        "date_deadline": local_cutoff.date().isoformat(),
    }
    if settings.approval_escalation_user_id is not None:
        payload["user_id"] = settings.approval_escalation_user_id
    enqueue_write(
        session,
        aggregate=picking_aggregate(picking_id),
        kind=KIND_ACTIVITY_UPDATE,
        dedupe_key=f"{suggestion.id}:escalate",
        payload=payload,
    )
    queue_picking_message(
        session, picking_id, f"{suggestion.id}:escalated", f"<p>{escape(why)}</p>"
    )


def escalate_approvals_job() -> dict[str, int]:
    """Periodic step: escalate approvals near the cut-off (see the module docstring)."""
    from app.core.context import get_context

    ctx = get_context()
    return {"escalated": len(escalate_pending_approvals(ctx.db, ctx.settings))}

"""Projecting the event log onto shipments: stored events, derived status, Odoo milestones.

Runs as the ``projector`` consumer group. Each entry is stored once (``dedupe_key``), the
shipment's status is re-derived from *all* its events (``state.derive``: order-independent), and
a change of status owes Odoo one milestone message through the outbox. Because it depends only
on the set of events, replaying the stream from scratch rebuilds the same states.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.db import Database
from app.core.events import Entry
from app.core.logging import get_logger
from app.models import ExceptionCategory, TrackingStatus
from app.store.tables import ParcelRow, ShipmentRow, TrackingEventRow
from app.sync.tracking.ingest import EVENT_TYPE
from app.sync.tracking.messages import milestone_html
from app.sync.tracking.metrics import EVENT_TO_PROJECTION, EVENTS_PROJECTED, STATUS_CHANGES
from app.sync.tracking.state import TrackingState, derive
from app.sync.writeback.outbox import queue_picking_message, sla_marker

log = get_logger(__name__)

Classify = Callable[[dict[str, Any]], tuple[TrackingStatus, ExceptionCategory | None] | None]
StatusListener = Callable[[str, TrackingState, dict[str, Any]], None]


class TrackingProjector:
    def __init__(
        self,
        *,
        db: Database,
        classify_unknown: Classify | None = None,
        on_status_change: StatusListener | None = None,
        on_writes_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.classify_unknown = classify_unknown
        self.on_status_change = on_status_change
        self.on_writes_queued = on_writes_queued
        self._milestones: dict[str, tuple[int, list[tuple[TrackingState, dict[str, Any]]]]] = {}
        self._stored: set[str] = set()

    def __call__(self, entry: Entry) -> None:
        if entry.type == EVENT_TYPE:
            self.project(entry.data)

    def prepare(self, entries: list[Entry]) -> None:
        """Before a batch: which of its events are stored already, in one query.

        Webhooks that carry the whole history (EasyPost's tracker, redeliveries) repeat most
        events; answering those from this set spares each a transaction and a failed insert.
        The unique ``dedupe_key`` still decides for anything not known here.
        """
        keys = {
            str(e.data["dedupe_key"])
            for e in entries
            if e.type == EVENT_TYPE and e.data.get("dedupe_key")
        }
        self._stored = set()
        if keys:
            with self.db.session() as session:
                self._stored = set(
                    session.scalars(
                        select(TrackingEventRow.dedupe_key).where(
                            TrackingEventRow.dedupe_key.in_(sorted(keys))
                        )
                    )
                )

    def flush(self) -> None:
        """After a batch: one chatter message per picking for all the steps it took, then one
        wake-up of the outbox drain — many events, few RPCs."""
        if self._milestones:
            with self.db.session() as session:
                for shipment_id, (picking_id, steps) in self._milestones.items():
                    last_state = steps[-1][0]
                    ref = (
                        f"{shipment_id}:track:{last_state.status.value}:"
                        f"{last_state.last_event_at.isoformat()}"
                    )
                    body = "".join(milestone_html(state.status, about) for state, about in steps)
                    carrier = steps[-1][1].get("carrier")
                    sla = sla_marker("event_to_odoo", last_state.last_event_at, carrier)
                    queue_picking_message(session, picking_id, ref, body, sla=sla)
            self._milestones.clear()
            if self.on_writes_queued is not None:
                self.on_writes_queued()

    def project(self, data: dict[str, Any]) -> bool:
        """Store one event and re-derive its shipment; False when it was a duplicate."""
        if data.get("dedupe_key") in self._stored:
            EVENTS_PROJECTED.labels(data["carrier"], "duplicate").inc()
            return False
        data = dict(data)
        if data.get("status") == TrackingStatus.UNKNOWN.value and self.classify_unknown:
            guess = self.classify_unknown(data)
            if guess is not None:
                data["status"] = guess[0].value
                data["exception_category"] = guess[1].value if guess[1] else None
                data.setdefault("extra", {})["classified"] = True
        occurred = datetime.fromisoformat(data["occurred_at"])
        with self.db.session() as session:
            shipment_id = _shipment_for(session, data["tracking_number"])
            row = TrackingEventRow(
                dedupe_key=data["dedupe_key"],
                shipment_id=shipment_id,
                carrier=data["carrier"],
                tracking_number=data["tracking_number"],
                occurred_at=occurred,
                status=data["status"],
                raw_code=data.get("raw_code"),
                raw_description=data.get("raw_description") or "",
                exception_category=data.get("exception_category"),
                location=data.get("location"),
                raw_payload=data.get("extra") or None,
                source=str(data.get("source") or "webhook")[:16],
            )
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                EVENTS_PROJECTED.labels(data["carrier"], "duplicate").inc()
                return False
            self._stored.add(data["dedupe_key"])
            EVENTS_PROJECTED.labels(data["carrier"], data["status"]).inc()
            EVENT_TO_PROJECTION.observe(max(0.0, (datetime.now(UTC) - occurred).total_seconds()))
            changed = self._rederive(session, shipment_id, data) if shipment_id else None
        if changed is not None and self.on_status_change is not None:
            self.on_status_change(*changed)  # after commit: listeners write in their own units
        return True

    def _rederive(
        self, session: Session, shipment_id: str, trigger: dict[str, Any]
    ) -> tuple[str, TrackingState, dict[str, Any]] | None:
        shipment = session.scalars(
            select(ShipmentRow).where(ShipmentRow.id == shipment_id).with_for_update()
        ).one()
        events = session.scalars(
            select(TrackingEventRow).where(TrackingEventRow.shipment_id == shipment_id)
        ).all()
        state = combine(
            [
                derive([e for e in events if e.tracking_number == number])
                for number in {e.tracking_number for e in events}
            ]
        )
        if shipment.tracking_status == state.status.value:
            return None
        shipment.tracking_status = state.status.value
        shipment.tracking_status_at = state.last_event_at
        STATUS_CHANGES.labels(state.status.value).inc()
        latest = max(events, key=lambda e: e.occurred_at)
        about = trigger if trigger["dedupe_key"] == latest.dedupe_key else _event_dict(latest)
        if shipment.odoo_picking_id is not None and state.status is not TrackingStatus.UNKNOWN:
            pending = self._milestones.setdefault(shipment.id, (shipment.odoo_picking_id, []))
            pending[1].append((state, about))
        return shipment.id, state, about


def combine(states: list[TrackingState]) -> TrackingState:
    """A shipment of several parcels is as far as its slowest parcel; any open exception shows."""
    if not states:
        return derive([])
    if len(states) == 1:
        return states[0]
    for state in states:
        if state.status is TrackingStatus.EXCEPTION:
            return state
    return min(
        states, key=lambda s: (s.status.milestone_rank is None, s.status.milestone_rank or 0)
    )


def _shipment_for(session: Session, tracking_number: str) -> str | None:
    return session.scalars(
        select(ParcelRow.shipment_id).where(ParcelRow.tracking_number == tracking_number).limit(1)
    ).first()


def _event_dict(row: TrackingEventRow) -> dict[str, Any]:
    return {
        "carrier": row.carrier,
        "tracking_number": row.tracking_number,
        "occurred_at": row.occurred_at.isoformat(),
        "raw_description": row.raw_description,
        "exception_category": row.exception_category,
        "location": row.location,
        "dedupe_key": row.dedupe_key,
    }

"""Polling the carrier for shipments that went quiet, and for carriers that never push.

A booked shipment whose last event is older than ``tracking_poll_after_hours`` (or that has
none a while after booking) is asked for directly. Each account gets at most
``tracking_poll_batch`` numbers per cycle so a backlog never hammers one carrier's rate limit;
the oldest-silent go first. What comes back takes the webhook's path: the event log, then the
projector — so a polled event and a pushed one dedupe against each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select

from app.carriers.errors import CarrierError
from app.core.db import Database
from app.core.events import EventLog
from app.core.logging import get_logger
from app.models import ShipmentState, TrackingStatus
from app.store.tables import ParcelRow, ShipmentRow
from app.sync.booking.directory import CarrierDirectory
from app.sync.tracking.ingest import EVENT_TYPE, event_payload

log = get_logger(__name__)

TRACKED_STATES = (ShipmentState.BOOKED.value, ShipmentState.WRITTEN_BACK.value)
DONE = (
    TrackingStatus.DELIVERED.value,
    TrackingStatus.RETURN_TO_SENDER.value,
    TrackingStatus.CANCELLED.value,
)


class TrackingPoller:
    def __init__(
        self,
        *,
        db: Database,
        directory: CarrierDirectory,
        events: EventLog,
        silent_after: timedelta,
        batch: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.directory = directory
        self.events = events
        self.silent_after = silent_after
        self.batch = batch
        self.clock = clock

    def due(self) -> dict[str, list[str]]:
        """Tracking numbers to poll, by carrier account, quietest first."""
        cutoff = self.clock() - self.silent_after
        with self.db.session() as session:
            rows = session.execute(
                select(ShipmentRow.carrier_account, ParcelRow.tracking_number, ShipmentRow.id)
                .join(ParcelRow, ParcelRow.shipment_id == ShipmentRow.id)
                .where(
                    ShipmentRow.state.in_(TRACKED_STATES),
                    ParcelRow.tracking_number.is_not(None),
                    or_(
                        ShipmentRow.tracking_status.is_(None),
                        ShipmentRow.tracking_status.not_in(DONE),
                    ),
                    or_(
                        ShipmentRow.tracking_status_at < cutoff,
                        (ShipmentRow.tracking_status_at.is_(None))
                        & (ShipmentRow.updated_at < cutoff),
                    ),
                    or_(
                        ShipmentRow.tracking_checked_at.is_(None),
                        ShipmentRow.tracking_checked_at < cutoff,
                    ),
                )
                .order_by(ShipmentRow.tracking_status_at.asc().nulls_first())
            ).all()
        due: dict[str, list[str]] = defaultdict(list)
        self._due_shipments: dict[str, set[str]] = defaultdict(set)
        for account, number, shipment_id in rows:
            if account in self.directory.accounts and len(due[account]) < self.batch:
                due[account].append(str(number))
                self._due_shipments[account].add(shipment_id)
        return dict(due)

    def poll(self) -> dict[str, int]:
        published: dict[str, int] = {}
        for account, numbers in self.due().items():
            adapter = self.directory.adapter(account)
            if not adapter.capabilities().track:
                continue
            try:
                events = adapter.track(numbers)
            except CarrierError as exc:
                log.warning(
                    "tracking_poll_failed", account=account, error=exc.code, numbers=len(numbers)
                )
                continue
            for event in events:
                self.events.publish(EVENT_TYPE, event_payload(event, source="poll", inbox_id=None))
            published[account] = len(events)
            self._mark_checked(self._due_shipments.get(account, set()))
        return published

    def _mark_checked(self, shipment_ids: set[str]) -> None:
        """Asked just now: not due again for another ``silent_after``, whatever was said."""
        if not shipment_ids:
            return
        with self.db.session() as session:
            session.query(ShipmentRow).filter(ShipmentRow.id.in_(shipment_ids)).update(
                {ShipmentRow.tracking_checked_at: self.clock()}, synchronize_session=False
            )

"""Voiding a booked label — or closing an intent nothing was bought for.

The carrier may refuse (already scanned, void window passed): the refusal and the carrier's own
limits go on the picking for a person, as an activity, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.audit import record_audit
from app.core.db import Database
from app.core.errors import Conflict, NotFound
from app.core.logging import get_logger
from app.models import CancelResult, ShipmentState
from app.store.tables import ShipmentRow
from app.sync.booking.directory import CarrierDirectory
from app.sync.booking.messages import cancel_refused_html, voided_html
from app.sync.booking.records import booking_key, locked, queue_shipment_message
from app.sync.writeback.outbox import (
    KIND_PICKING_VOIDED,
    enqueue_write,
    picking_aggregate,
    queue_picking_activity,
)

log = get_logger(__name__)


@dataclass
class CancelOutcome:
    shipment_id: str
    state: str
    accepted: bool
    detail: str = ""
    result: CancelResult | None = None


class ShipmentCanceller:
    def __init__(
        self,
        *,
        db: Database,
        directory: CarrierDirectory,
        on_writes_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.directory = directory
        self.on_writes_queued = on_writes_queued

    def cancel(self, shipment_id: str, *, actor: str = "system:booking") -> CancelOutcome:
        """Void a booked label. The carrier may refuse (already scanned, window passed): the
        refusal and the carrier's own limits go on the picking for a person, as an activity."""
        with self.db.session() as session:
            row = session.get(ShipmentRow, shipment_id)
            if row is None:
                raise NotFound(f"no shipment {shipment_id!r}", code="shipment_not_found")
            if row.state == ShipmentState.CANCELLED.value:
                return CancelOutcome(shipment_id, row.state, accepted=True, detail="already")
            if row.state not in (ShipmentState.BOOKED.value, ShipmentState.WRITTEN_BACK.value):
                before = row.state
                row.state = ShipmentState.CANCELLED.value
                record_audit(
                    session,
                    actor=actor,
                    action="shipment.cancelled",
                    target_type="shipment",
                    target_id=row.id,
                    before={"state": before},
                    after={"state": row.state},
                )
                return CancelOutcome(
                    shipment_id, row.state, accepted=True, detail="nothing was bought"
                )
            account_id, carrier_shipment_id = row.carrier_account, row.carrier_shipment_id
            numbers = [p.tracking_number for p in row.parcels if p.tracking_number]
        if account_id is None or carrier_shipment_id is None:
            raise Conflict(
                f"shipment {shipment_id} is booked but has no carrier reference",
                code="cancel_impossible",
            )
        result = self.directory.adapter(account_id).cancel(
            carrier_shipment_id, tracking_numbers=numbers
        )
        with self.db.session() as session:
            row = locked(session, shipment_id)
            before = row.state
            if result.accepted:
                row.state = ShipmentState.CANCELLED.value
                row.error = None
                self._queue_void(session, row, result)
            else:
                row.error = {
                    "code": "cancel_rejected",
                    "reason": result.reason,
                    "policy": result.policy,
                    "carrier_code": result.carrier_code,
                }
                self._queue_cancel_refused(session, row, result)
            record_audit(
                session,
                actor=actor,
                action="shipment.cancel_requested",
                target_type="shipment",
                target_id=row.id,
                before={"state": before},
                after={"state": row.state, "carrier_answer": result.status.value},
            )
            state = row.state
        if self.on_writes_queued is not None:
            self.on_writes_queued()
        log.info("shipment_cancel", shipment_id=shipment_id, status=result.status.value)
        return CancelOutcome(
            shipment_id,
            state,
            accepted=result.accepted,
            detail=result.reason or result.status.value,
            result=result,
        )

    def _queue_void(self, session: Any, row: ShipmentRow, result: CancelResult) -> None:
        if row.odoo_picking_id is None:
            return
        key = booking_key(row)
        enqueue_write(
            session,
            aggregate=picking_aggregate(row.odoo_picking_id),
            kind=KIND_PICKING_VOIDED,
            dedupe_key=f"{key}:voided",
            payload={"picking_id": row.odoo_picking_id},
        )
        queue_shipment_message(session, row, "voided", voided_html(result))

    def _queue_cancel_refused(self, session: Any, row: ShipmentRow, result: CancelResult) -> None:
        if row.odoo_picking_id is None:
            return
        queue_picking_activity(
            session,
            row.odoo_picking_id,
            f"{booking_key(row)}:cancel-refused",
            summary="Carrier refused to void the label",
            note_html=cancel_refused_html(result),
        )

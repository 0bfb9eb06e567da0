"""The tracking tests' environment: the served app, both sandboxes and their helpers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.carriers.sandbox import CarrierSandbox
from app.core.context import AppContext
from app.store.tables import ParcelRow, ShipmentRow
from app.sync.booking.jobs import build_booking
from app.sync.intake.service import IntakeService
from app.sync.odoo_sandbox import OdooSandbox
from app.sync.writeback.writer import OdooWriter


@dataclass
class TrackEnv:
    ctx: AppContext
    base_url: str
    odoo_box: OdooSandbox
    carrier_box: CarrierSandbox
    intake: IntakeService
    writer: OdooWriter

    def booked_shipment(self) -> tuple[str, int, str]:
        """A picking booked with the carrier sandbox: (shipment id, picking id, tracking no.)."""
        self.intake.poll_once()
        with self.ctx.db.session() as session:
            intent = session.scalars(
                select(ShipmentRow).where(ShipmentRow.state == "intent").limit(1)
            ).one()
            shipment_id, picking_id = intent.id, int(intent.odoo_picking_id or 0)
        assert build_booking(self.ctx).book_shipment(shipment_id).state == "booked"
        with self.ctx.db.session() as session:
            number = session.scalars(
                select(ParcelRow.tracking_number).where(ParcelRow.shipment_id == shipment_id)
            ).first()
        return shipment_id, picking_id, str(number)

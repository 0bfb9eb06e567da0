"""Helpers shared by the booking tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.carriers.sandbox import CarrierSandbox
from app.core.config import Settings
from app.core.db import Database
from app.store.tables import ShipmentRow
from app.sync.booking.directory import CarrierDirectory
from app.sync.booking.service import BookingService
from app.sync.intake.service import IntakeService
from app.sync.odoo import OdooClient
from app.sync.odoo_sandbox import OdooSandbox
from app.sync.writeback.writer import OdooWriter


@dataclass
class BookingEnv:
    odoo_box: OdooSandbox
    carrier_box: CarrierSandbox
    db: Database
    odoo: OdooClient
    intake: IntakeService
    booking: BookingService
    writer: OdooWriter
    settings: Settings
    directory: CarrierDirectory

    def intent_for_first_ready(self) -> ShipmentRow:
        self.intake.poll_once()
        return next(r for r in self.shipments() if r.state == "intent")

    def shipment(self, shipment_id: str) -> ShipmentRow:
        return next(r for r in self.shipments() if r.id == shipment_id)

    def shipments(self) -> list[ShipmentRow]:
        with self.db.session() as s:
            query = (
                select(ShipmentRow)
                .options(
                    selectinload(ShipmentRow.parcels),
                    selectinload(ShipmentRow.labels),
                    selectinload(ShipmentRow.rates),
                )
                .order_by(ShipmentRow.odoo_picking_id)
            )
            return list(s.scalars(query))

    def buys(self) -> int:
        return sum(
            1 for r in self.carrier_box.requests if r.method == "POST" and r.path.endswith("/buy")
        )

    def picking(self, picking_id: int) -> dict[str, Any]:
        return self.odoo.read(
            "stock.picking", [picking_id], ["carrier_tracking_ref", "carrier_price"]
        )[0]

    def attachments(self, picking_id: int) -> list[dict[str, Any]]:
        return self.odoo.search_read(
            "ir.attachment",
            [("res_model", "=", "stock.picking"), ("res_id", "=", picking_id)],
            ["name", "mimetype"],
        )

    def messages(self, picking_id: int) -> list[str]:
        rows = self.odoo.search_read(
            "mail.message",
            [("model", "=", "stock.picking"), ("res_id", "=", picking_id)],
            ["body"],
            order="id asc",
        )
        return [str(r["body"]) for r in rows]

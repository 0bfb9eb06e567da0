"""Row helpers shared by booking, cancellation and API-created shipments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.models import Parcel
from app.store.tables import ParcelRow, ShipmentRow
from app.sync.writeback.outbox import queue_picking_message


def booking_key(row: ShipmentRow) -> str:
    """The carrier idempotency key and outbox key stem of one booking attempt of a shipment."""
    return f"wb-{row.id}-r{row.revision}"


def locked(session: Any, shipment_id: str) -> ShipmentRow:
    """The shipment row, locked for this transaction (``FOR UPDATE`` on PostgreSQL)."""
    row = session.scalars(
        select(ShipmentRow).where(ShipmentRow.id == shipment_id).with_for_update()
    ).one()
    return row  # type: ignore[no-any-return]


def parcel_row(index: int, parcel: Parcel) -> ParcelRow:
    dims = parcel.dims_cm
    return ParcelRow(
        index=index,
        weight_kg=parcel.weight_kg,
        length_cm=dims[0] if dims else None,
        width_cm=dims[1] if dims else None,
        height_cm=dims[2] if dims else None,
    )


def queue_shipment_message(session: Any, row: ShipmentRow, what: str, body_html: str) -> None:
    """A chatter message on the shipment's picking, once per booking attempt and ``what``."""
    if row.odoo_picking_id is not None:
        queue_picking_message(session, row.odoo_picking_id, f"{booking_key(row)}:{what}", body_html)

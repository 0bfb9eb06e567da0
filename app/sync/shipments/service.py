"""Reading shipments: newest first, keyset-paged by id (ids are time-ordered ULIDs)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.db import Database
from app.core.errors import NotFound
from app.store.tables import LabelRow, ShipmentRow
from app.sync.shipments.schemas import (
    LabelView,
    ParcelView,
    ShipmentDetail,
    ShipmentPage,
    ShipmentSummary,
)


def list_shipments(
    db: Database, *, state: str | None = None, limit: int = 50, before: str | None = None
) -> ShipmentPage:
    query = select(ShipmentRow).order_by(ShipmentRow.id.desc()).limit(limit + 1)
    if state:
        query = query.where(ShipmentRow.state == state)
    if before:
        query = query.where(ShipmentRow.id < before)
    with db.session() as session:
        rows = session.scalars(query).all()
        items = [ShipmentSummary.model_validate(r) for r in rows[:limit]]
    return ShipmentPage(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


def get_shipment(db: Database, shipment_id: str) -> ShipmentDetail:
    with db.session() as session:
        row = session.scalars(
            select(ShipmentRow)
            .where(ShipmentRow.id == shipment_id)
            .options(selectinload(ShipmentRow.parcels), selectinload(ShipmentRow.labels))
        ).first()
        if row is None:
            raise NotFound(
                f"no shipment {shipment_id!r}",
                code="shipment_not_found",
                details={"id": shipment_id},
            )
        summary = ShipmentSummary.model_validate(row).model_dump()
        return ShipmentDetail(
            **summary,
            request=row.request,
            error=row.error,
            parcels=[
                ParcelView(index=p.index, weight_kg=p.weight_kg, tracking_number=p.tracking_number)
                for p in row.parcels
            ],
            labels=[
                LabelView(
                    id=lb.id,
                    parcel_index=lb.parcel_index,
                    tracking_number=lb.tracking_number,
                    format=lb.format,
                    odoo_attachment_id=lb.odoo_attachment_id,
                )
                for lb in row.labels
            ],
            carrier_account=row.carrier_account,
            carrier_shipment_id=row.carrier_shipment_id,
            price_amount=row.price_amount,
            price_currency=row.price_currency,
            correlation_id=row.correlation_id,
        )


def get_label(db: Database, shipment_id: str, label_id: int) -> tuple[bytes, str, str]:
    """Label bytes, media type and a file name, for printing at the packing station."""
    with db.session() as session:
        label = session.get(LabelRow, label_id)
        if label is None or label.shipment_id != shipment_id:
            raise NotFound(
                f"no label {label_id} on shipment {shipment_id!r}", code="label_not_found"
            )
        media = {"pdf": "application/pdf", "zpl": "application/zpl", "png": "image/png"}
        name = f"{label.tracking_number}-{label.parcel_index + 1}.{label.format}"
        return label.data, media.get(label.format, "application/octet-stream"), name

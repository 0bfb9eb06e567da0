"""Reading shipments: newest first, keyset-paged by id (ids are time-ordered ULIDs)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.db import Database
from app.core.errors import NotFound
from app.store.tables import ShipmentRow
from app.sync.shipments.schemas import ParcelView, ShipmentDetail, ShipmentPage, ShipmentSummary


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
            .options(selectinload(ShipmentRow.parcels))
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
            price_amount=row.price_amount,
            price_currency=row.price_currency,
            correlation_id=row.correlation_id,
        )

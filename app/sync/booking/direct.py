"""Shipments created through the API: persisted as an intent first, exactly like one from
Odoo, so the same booking job (and its fencing against double purchase) takes it from there."""

from __future__ import annotations

from app.core.audit import record_audit
from app.core.db import Database
from app.core.errors import Unprocessable
from app.core.ids import new_id
from app.core.logging import correlation_id_var, new_correlation_id
from app.models import ShipmentRequest, ShipmentState
from app.store.tables import ShipmentRow
from app.sync.booking.directory import CarrierDirectory
from app.sync.booking.records import parcel_row


def create_direct_intent(
    db: Database,
    directory: CarrierDirectory,
    request: ShipmentRequest,
    *,
    idempotency_key: str,
    actor: str,
    account: str | None = None,
    service: str | None = None,
) -> str:
    """An API booking: persisted as an intent first, exactly like one from Odoo."""
    if account is not None and account not in directory.accounts:
        raise Unprocessable(
            f"unknown carrier account {account!r}",
            details={
                "fields": [
                    {
                        "field": "carrier_account",
                        "message": f"known: {sorted(directory.accounts)}",
                    }
                ]
            },
        )
    if account is not None:
        request = request.model_copy(
            update={
                "metadata": {
                    **request.metadata,
                    "requested_account": account,
                    "requested_service": service,
                }
            }
        )
    shipment_id = new_id("shp")
    with db.session() as session:
        session.add(
            ShipmentRow(
                id=shipment_id,
                source="api",
                source_ref=idempotency_key[:64],
                revision=1,
                reference=request.reference,
                state=ShipmentState.INTENT.value,
                request=request.model_dump(mode="json"),
                source_snapshot={},
                correlation_id=correlation_id_var.get() or new_correlation_id(),
                parcels=[parcel_row(i, p) for i, p in enumerate(request.parcels)],
            )
        )
        record_audit(
            session,
            actor=actor,
            action="shipment.created",
            target_type="shipment",
            target_id=shipment_id,
            after={"source": "api", "reference": request.reference},
        )
    return shipment_id

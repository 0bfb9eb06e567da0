"""API-driven shipment operations: book directly, quote, cancel. Sync code, run in a threadpool."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.core.context import AppContext
from app.core.errors import NotFound, Unprocessable, UpstreamError
from app.models import ShipmentRequest, ShipmentState
from app.store.tables import ShipmentRow
from app.sync.booking.jobs import build_booking
from app.sync.shipments.schemas import CancelView, QuotesView, QuoteView
from app.sync.shipments.service import get_shipment


class BookShipmentBody(ShipmentRequest):
    """A shipment request, optionally naming the carrier account and service to use."""

    carrier_account: str | None = Field(default=None, max_length=64)
    service: str | None = Field(default=None, max_length=64)

    def request(self) -> ShipmentRequest:
        return ShipmentRequest.model_validate(
            self.model_dump(exclude={"carrier_account", "service"})
        )


def book_direct(
    ctx: AppContext, body: BookShipmentBody, *, idempotency_key: str, actor: str
) -> tuple[int, dict[str, Any]]:
    """201 with the booked shipment, 202 when a dispatcher must decide; 4xx for what to fix."""
    booking = build_booking(ctx)
    shipment_id = booking.create_direct(
        body.request(),
        idempotency_key=idempotency_key,
        actor=actor,
        account=body.carrier_account,
        service=body.service,
    )
    outcome = booking.book_shipment(shipment_id)
    detail = get_shipment(ctx.db, shipment_id)
    if outcome.state == ShipmentState.BOOKED.value:
        return 201, detail.model_dump(mode="json")
    if outcome.state == ShipmentState.FAILED.value:
        error = detail.error or {}
        field = error.get("field")
        raise Unprocessable(
            error.get("message") or outcome.detail,
            code=error.get("code", "booking_failed"),
            details={
                "shipment_id": shipment_id,
                "carrier": error.get("carrier"),
                "carrier_message": error.get("carrier_message"),
                "fields": [{"field": field, "message": error.get("carrier_message")}]
                if field
                else [],
            },
        )
    if body.carrier_account and outcome.state == ShipmentState.AWAITING_APPROVAL.value:
        raise Unprocessable(
            outcome.detail,
            code="carrier_did_not_quote",
            details={
                "shipment_id": shipment_id,
                "fields": [{"field": "service", "message": outcome.detail}],
            },
        )
    return 202, {**detail.model_dump(mode="json"), "reason": outcome.detail}


def quote(ctx: AppContext, request: ShipmentRequest) -> QuotesView:
    result = build_booking(ctx).quote(request)
    if not result.rates and result.all_retryable:
        raise UpstreamError(
            "no carrier could quote right now",
            code="carrier_unavailable",
            details={k: v.to_body() for k, v in result.errors.items()},
        )
    return QuotesView(
        quotes=[
            QuoteView(
                carrier=r.carrier,
                carrier_account=r.carrier_account,
                service=r.service,
                amount=r.total.amount,
                currency=r.total.currency,
                transit_days=r.transit_days,
                estimated_delivery=r.estimated_delivery.isoformat()
                if r.estimated_delivery
                else None,
            )
            for r in sorted(result.rates, key=lambda r: r.total.amount)
        ],
        errors={k: v.to_body() for k, v in result.errors.items()},
    )


def quote_shipment(ctx: AppContext, shipment_id: str) -> QuotesView:
    with ctx.db.session() as session:
        row = session.get(ShipmentRow, shipment_id)
        if row is None:
            raise NotFound(f"no shipment {shipment_id!r}", code="shipment_not_found")
        if row.request is None:
            raise Unprocessable(
                "this shipment has no valid request to quote",
                code="shipment_invalid",
                details=row.error or {},
            )
        request = ShipmentRequest.model_validate(row.request)
    return quote(ctx, request)


def cancel(ctx: AppContext, shipment_id: str, *, actor: str) -> CancelView:
    outcome = build_booking(ctx).cancel_shipment(shipment_id, actor=actor)
    policy = outcome.result.policy if outcome.result else None
    return CancelView(
        shipment_id=shipment_id,
        state=outcome.state,
        accepted=outcome.accepted,
        detail=outcome.detail,
        policy=policy,
    )

"""Multi-parcel shipments on carriers that sell one label per shipment.

UPS, FedEx and DHL book several pieces under one master number; EasyPost and USPS do not. Rather
than refusing a three-box order on those, this wrapper books each box as its own shipment (one
label and tracking number per package, which is what the warehouse needs anyway) and presents
the result as one booking. Rates are quoted per piece and summed, per service offered for every
piece. Idempotency keys are derived per piece (``<key>-p<n>``), so a retry asks for the same
labels.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from app.carriers.base import CarrierAdapter, Headers
from app.models import (
    BookingResult,
    CancelResult,
    CancelStatus,
    CarrierCapabilities,
    Label,
    LabelFormat,
    Money,
    Rate,
    ShipmentRequest,
    TrackingEvent,
)

PIECE_SEPARATOR = ","


def split(request: ShipmentRequest) -> list[ShipmentRequest]:
    count = len(request.parcels)
    return [
        request.model_copy(
            update={
                "parcels": [parcel],
                "metadata": {**request.metadata, "piece": index + 1, "pieces": count},
            }
        )
        for index, parcel in enumerate(request.parcels)
    ]


class PieceSplittingAdapter:
    """Wraps a single-piece adapter; requests with one parcel pass straight through."""

    def __init__(self, inner: CarrierAdapter) -> None:
        self.inner = inner
        self.code = inner.code
        self.account_id = inner.account_id

    def capabilities(self) -> CarrierCapabilities:
        return self.inner.capabilities().model_copy(
            update={"multi_parcel": True, "max_parcels": 50}
        )

    def rate(self, request: ShipmentRequest) -> list[Rate]:
        if len(request.parcels) == 1:
            return self.inner.rate(request)
        per_piece = [self.inner.rate(piece) for piece in split(request)]
        by_service: dict[str, list[Rate]] = defaultdict(list)
        for rates in per_piece:
            for rate in rates:
                by_service[rate.service].append(rate)
        combined = []
        for rates in by_service.values():
            if len(rates) != len(per_piece):
                continue  # a service must carry every piece
            combined.append(
                rates[0].model_copy(
                    update={
                        "total": Money(
                            amount=sum((r.total.amount for r in rates), Decimal("0")),
                            currency=rates[0].total.currency,
                        ),
                        "transit_days": max((r.transit_days or 0 for r in rates), default=None),
                        "rate_id": None,
                        "extra": {**rates[0].extra, "pieces": len(rates)},
                    }
                )
            )
        return combined

    def book(
        self,
        request: ShipmentRequest,
        rate: Rate,
        *,
        idempotency_key: str,
        label_format: LabelFormat = LabelFormat.PDF,
    ) -> BookingResult:
        if len(request.parcels) == 1:
            return self.inner.book(
                request, rate, idempotency_key=idempotency_key, label_format=label_format
            )
        bookings = [
            self.inner.book(
                piece,
                rate.model_copy(update={"rate_id": None}),
                idempotency_key=f"{idempotency_key}-p{index + 1}",
                label_format=label_format,
            )
            for index, piece in enumerate(split(request))
        ]
        labels = [
            Label(
                tracking_number=label.tracking_number,
                format=label.format,
                data=label.data,
                parcel_index=index,
            )
            for index, booking in enumerate(bookings)
            for label in booking.labels
        ]
        charged = [b.charged or rate.total for b in bookings]
        return BookingResult(
            carrier=self.code,
            carrier_account=self.account_id,
            service=rate.service,
            carrier_shipment_id=PIECE_SEPARATOR.join(b.carrier_shipment_id for b in bookings),
            master_tracking_number=bookings[0].master_tracking_number,
            tracking_numbers=[b.master_tracking_number for b in bookings],
            labels=labels,
            charged=Money(
                amount=sum((c.amount for c in charged), Decimal("0")), currency=charged[0].currency
            ),
            idempotency_key=idempotency_key,
            booked_at=datetime.now(UTC),
            extra={"pieces": [b.carrier_shipment_id for b in bookings]},
        )

    def cancel(
        self, booking: BookingResult | str, *, tracking_numbers: list[str] | None = None
    ) -> CancelResult:
        shipment_ids = (
            booking.carrier_shipment_id if isinstance(booking, BookingResult) else booking
        ).split(PIECE_SEPARATOR)
        if len(shipment_ids) == 1:
            return self.inner.cancel(booking, tracking_numbers=tracking_numbers)
        results = [self.inner.cancel(sid) for sid in shipment_ids]
        refused = [r for r in results if not r.accepted]
        status = (
            CancelStatus.REJECTED
            if refused
            else (
                CancelStatus.REFUND_PENDING
                if any(r.status is CancelStatus.REFUND_PENDING for r in results)
                else CancelStatus.CANCELLED
            )
        )
        return CancelResult(
            carrier=self.code,
            carrier_account=self.account_id,
            carrier_shipment_id=PIECE_SEPARATOR.join(shipment_ids),
            tracking_numbers=[n for r in results for n in r.tracking_numbers],
            status=status,
            reason="; ".join(r.reason for r in refused if r.reason) or None,
            policy=results[0].policy,
            extra={"pieces": [r.status.value for r in results]},
        )

    def track(self, tracking_numbers: list[str]) -> list[TrackingEvent]:
        return self.inner.track(tracking_numbers)

    def verify_webhook(self, headers: Headers, body: bytes) -> None:
        self.inner.verify_webhook(headers, body)

    def parse_webhook(self, headers: Headers, body: bytes) -> list[TrackingEvent]:
        return self.inner.parse_webhook(headers, body)

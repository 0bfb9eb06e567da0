"""Canonical results of carrier operations: what a booking bought, what a cancel achieved, and
what a carrier account can do at all.

These live in the canonical model (no carrier names, no I/O) so the booking orchestration, the API
and the Odoo write-back read one shape whichever carrier sold the label.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from app.models.enums import LabelFormat
from app.models.shipment import CanonicalModel, Label, Money


class BookingResult(CanonicalModel):
    """A label the carrier sold: one tracking number per parcel, in request order.

    ``tracking_numbers[i]`` belongs to ``request.parcels[i]``. ``labels`` usually holds one label
    per parcel; a carrier that prints all pieces on one document returns a single label covering
    every parcel (``parcel_index`` 0). ``charged`` is the carrier's price for this booking, which
    can differ from the quote (surcharges found at booking time).
    """

    carrier: str = Field(min_length=1)
    carrier_account: str = Field(min_length=1)
    service: str = Field(min_length=1)
    carrier_shipment_id: str = Field(min_length=1)
    master_tracking_number: str = Field(min_length=1, max_length=64)
    tracking_numbers: list[str] = Field(min_length=1)
    labels: list[Label] = Field(default_factory=list)
    charged: Money | None = None
    idempotency_key: str = Field(min_length=1, max_length=255)
    booked_at: datetime
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _labels_point_at_parcels(self) -> BookingResult:
        for label in self.labels:
            if label.parcel_index >= len(self.tracking_numbers):
                raise ValueError(
                    f"label for parcel {label.parcel_index} but only "
                    f"{len(self.tracking_numbers)} tracking number(s)"
                )
        return self


class CancelStatus(StrEnum):
    """Outcome of a void request, in words a dispatcher can act on."""

    CANCELLED = "cancelled"  # void done; no charge (or charge reversed)
    REFUND_PENDING = "refund_pending"  # accepted; money comes back after the carrier's review
    REJECTED = "rejected"  # the carrier refused (already scanned, window passed, ...)


class CancelResult(CanonicalModel):
    """What a cancel achieved. A refusal is an answer, not a failure: ``reason`` carries the
    carrier's own words ("cannot void after pickup") and ``policy`` our summary of its limits."""

    carrier: str = Field(min_length=1)
    carrier_account: str = Field(min_length=1)
    carrier_shipment_id: str | None = None
    tracking_numbers: list[str] = Field(default_factory=list)
    status: CancelStatus
    reason: str | None = None
    policy: str | None = None
    carrier_code: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.status is not CancelStatus.REJECTED


class CarrierCapabilities(CanonicalModel):
    """What a carrier account really supports, declared by us rather than read from the SDK.

    The SDK's own capability list claims webhooks for carriers whose connector cannot parse one, so
    the matrix is ours and tested.
    """

    carrier: str = Field(min_length=1)
    rate: bool = True
    book: bool = True
    cancel: bool = True
    track: bool = True
    webhooks: bool = False
    webhook_signature: str | None = None
    multi_parcel: bool = False
    max_parcels: int = Field(default=1, ge=1)
    international: bool = True
    label_formats: list[LabelFormat] = Field(default_factory=lambda: [LabelFormat.PDF])
    native_idempotency: bool = False
    cancel_policy: str | None = None
    cancel_window_days: int | None = Field(default=None, ge=0)
    services: dict[str, str] = Field(default_factory=dict)

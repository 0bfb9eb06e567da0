"""API views of a shipment. Personal data stays in ``request``; lists show references only."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict


class ParcelView(BaseModel):
    index: int
    weight_kg: Decimal
    tracking_number: str | None = None


class LabelView(BaseModel):
    id: int
    parcel_index: int
    tracking_number: str
    format: str
    odoo_attachment_id: int | None = None


class ShipmentSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    reference: str
    state: str
    odoo_picking_id: int | None
    revision: int
    carrier: str | None
    service: str | None
    tracking_status: str | None
    created_at: datetime
    updated_at: datetime


class ShipmentDetail(ShipmentSummary):
    request: dict[str, Any] | None
    error: dict[str, Any] | None
    parcels: list[ParcelView]
    labels: list[LabelView]
    carrier_account: str | None
    carrier_shipment_id: str | None
    price_amount: Decimal | None
    price_currency: str | None
    correlation_id: str


class ShipmentPage(BaseModel):
    items: list[ShipmentSummary]
    next_cursor: str | None


class QuoteView(BaseModel):
    carrier: str
    carrier_account: str
    service: str
    amount: Decimal
    currency: str
    transit_days: int | None
    estimated_delivery: str | None


class QuotesView(BaseModel):
    quotes: list[QuoteView]
    errors: dict[str, dict[str, Any]]


class CancelView(BaseModel):
    shipment_id: str
    state: str
    accepted: bool
    detail: str
    policy: str | None = None

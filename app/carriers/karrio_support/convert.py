"""Canonical models → karrio request models, and karrio money/dates → canonical values.

Inputs are validated by the canonical pydantic models before they get here, because karrio
reports missing fields as internal ``TypeError`` messages rather than as field errors.
"""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from app.models import (
    Address,
    Customs,
    DimensionUnit,
    LabelFormat,
    Money,
    Parcel,
    ShipmentRequest,
    WeightUnit,
)
from app.models.units import from_cm, from_kg, to_cm, to_kg

_KARRIO_WEIGHT = {WeightUnit.KG: "KG", WeightUnit.LB: "LB", WeightUnit.OZ: "OZ"}
_KARRIO_DIM = {DimensionUnit.CM: "CM", DimensionUnit.IN: "IN"}


def address(a: Address) -> dict[str, Any]:
    return {
        "person_name": a.name,
        "company_name": a.company,
        "address_line1": a.street1,
        "address_line2": a.street2,
        "city": a.city,
        "state_code": a.state_code,
        "postal_code": a.postal_code,
        "country_code": a.country_code,
        "phone_number": a.phone,
        "email": a.email,
        "residential": a.residential,
    }


def parcel(p: Parcel) -> dict[str, Any]:
    weight, weight_unit = p.weight, p.weight_unit
    if weight_unit not in _KARRIO_WEIGHT:  # grams: karrio has no gram unit
        weight, weight_unit = from_kg(to_kg(weight, weight_unit), WeightUnit.KG), WeightUnit.KG
    data: dict[str, Any] = {
        "weight": round(float(weight), 3),
        "weight_unit": _KARRIO_WEIGHT[weight_unit],
        "reference_number": p.reference,
    }
    if p.packaging:
        data["packaging_type"] = p.packaging
    if p.length is not None and p.width is not None and p.height is not None:
        unit = p.dimension_unit
        dims = (p.length, p.width, p.height)
        if unit not in _KARRIO_DIM:  # millimetres
            dims = tuple(from_cm(to_cm(d, unit), DimensionUnit.CM) for d in dims)
            unit = DimensionUnit.CM
        data.update(
            length=round(float(dims[0]), 2),
            width=round(float(dims[1]), 2),
            height=round(float(dims[2]), 2),
            dimension_unit=_KARRIO_DIM[unit],
        )
    return data


def customs(c: Customs | None, shipper: Address) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "content_type": c.contents_type,
        "incoterm": c.incoterm,
        "certify": True,
        "signer": shipper.name,
        "commercial_invoice": True,
        "commodities": [
            {
                "title": item.description[:35],
                "description": item.description,
                "quantity": item.quantity,
                "value_amount": float(item.unit_value.amount),
                "value_currency": item.unit_value.currency,
                "hs_code": item.hs_code,
                "origin_country": item.origin_country,
                "weight": float(item.weight) if item.weight is not None else None,
                "weight_unit": _KARRIO_WEIGHT.get(item.weight_unit, "KG"),
            }
            for item in c.items
        ],
    }


def rate_request(req: ShipmentRequest, *, services: list[str]) -> dict[str, Any]:
    return {
        "shipper": address(req.shipper),
        "recipient": address(req.recipient),
        "parcels": [parcel(p) for p in req.parcels],
        "services": services,
        "customs": customs(req.customs, req.shipper),
        "reference": req.reference,
        "options": _options(req),
    }


def shipment_request(
    req: ShipmentRequest, *, service: str, label_type: str | None, reference: str
) -> dict[str, Any]:
    return {
        "service": service,
        "shipper": address(req.shipper),
        "recipient": address(req.recipient),
        "parcels": [parcel(p) for p in req.parcels],
        "payment": {"paid_by": "sender"},
        "customs": customs(req.customs, req.shipper),
        "reference": reference,
        "label_type": label_type,
        "options": _options(req),
        # Our return requests already run customer -> warehouse. The SDK's ``is_return`` would
        # swap the addresses again and route to return-shipment endpoints that most connectors
        # lack (EasyPost answers "not supported"), so a return is booked as a plain prepaid
        # shipment in the right direction, which every carrier sells.
        "is_return": False,
    }


def _options(req: ShipmentRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if req.ship_date:
        options["shipment_date"] = req.ship_date.isoformat()
        options["shipping_date"] = f"{req.ship_date.isoformat()}T12:00"
    if req.declared_value:
        options["declared_value"] = float(req.declared_value.amount)
        options["currency"] = req.declared_value.currency
    return options


def money(amount: Any, currency: str | None) -> Money | None:
    if amount is None or not currency:
        return None
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    if value < 0:
        return None
    return Money(amount=value, currency=currency.upper())


def to_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def decode_label(data: str | bytes | None) -> bytes | None:
    if not data:
        return None
    if isinstance(data, bytes):
        return data
    try:
        return base64.b64decode(data, validate=False)
    except ValueError:
        return None


def sniff_format(data: bytes, fallback: LabelFormat) -> LabelFormat:
    """The real format of label bytes: carriers and the SDK sometimes answer a format other
    than the one asked for (e.g. an image converted to PDF)."""
    head = data[:64].lstrip()
    if head.startswith(b"%PDF"):
        return LabelFormat.PDF
    if head.startswith(b"^XA") or head.startswith(b"\x10^XA") or b"^XA" in head[:8]:
        return LabelFormat.ZPL
    if head.startswith(b"\x89PNG"):
        return LabelFormat.PNG
    return fallback

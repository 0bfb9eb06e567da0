"""Odoo records → canonical ``ShipmentRequest``. Odoo field names live here and nowhere else.

Values follow Odoo's read format (reference §2): many2one ``[id, display_name]`` or ``False``,
unset values ``False``, datetimes ``'YYYY-MM-DD HH:MM:SS'`` in UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import ROUND_UP, Decimal
from typing import Any

from pydantic import ValidationError

from app.models import ShipmentRequest, WeightUnit
from app.models.units import to_kg

PICKING_FIELDS = [
    "id",
    "name",
    "state",
    "picking_type_code",
    "partner_id",
    "carrier_id",
    "weight",
    "weight_uom_name",
    "origin",
    "sale_id",
    "scheduled_date",
    "date_deadline",
    "write_date",
    "backorder_id",
    "is_return_picking",
    "move_ids",
]
PARTNER_FIELDS = [
    "id",
    "name",
    "parent_id",
    "street",
    "street2",
    "city",
    "zip",
    "state_id",
    "country_code",
    "phone",
    "email",
    "is_company",
    "company_name",
]
SALE_ORDER_FIELDS = ["id", "name", "commitment_date", "client_order_ref"]
CARRIER_FIELDS = ["id", "name", "delivery_type"]

_UOM = {
    "kg": WeightUnit.KG,
    "g": WeightUnit.G,
    "lb": WeightUnit.LB,
    "lbs": WeightUnit.LB,
    "oz": WeightUnit.OZ,
}
DEFAULT_PARCEL_KG = Decimal("1.0")


class MappingError(ValueError):
    """The picking cannot become a valid shipment request; ``fields`` names what is wrong."""

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields


def m2o_id(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # automation webhooks send bare ids (reference §4.1)
    return None


def m2o_name(value: Any) -> str | None:
    if isinstance(value, list | tuple) and len(value) > 1:
        return str(value[1])
    return None


def text(value: Any) -> str | None:
    if value is False or value is None:
        return None
    value = str(value).strip()
    return value or None


def odoo_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def odoo_date(value: Any) -> date | None:
    moment = odoo_datetime(value) if value and len(str(value)) > 10 else None
    if moment is not None:
        return moment.date()
    return date.fromisoformat(str(value)) if value else None


def partner_to_address(partner: dict[str, Any], state_codes: dict[int, str]) -> dict[str, Any]:
    """Raw dict, validated later with the whole request so every wrong field is reported at once."""
    company = text(partner.get("company_name")) or (
        m2o_name(partner.get("parent_id")) if partner.get("parent_id") else None
    )
    state_id = m2o_id(partner.get("state_id"))
    return {
        "name": text(partner.get("name")) or "",
        "company": company,
        "street1": text(partner.get("street")) or "",
        "street2": text(partner.get("street2")),
        "city": text(partner.get("city")) or "",
        "state_code": state_codes.get(state_id) if state_id else None,
        "postal_code": text(partner.get("zip")),
        "country_code": text(partner.get("country_code")) or "",
        "phone": text(partner.get("phone")),
        "email": text(partner.get("email")),
        "residential": not bool(partner.get("is_company")),
    }


def pack_parcels(weight: Decimal, unit: WeightUnit, max_kg: Decimal | None) -> list[dict[str, Any]]:
    """Equal boxes of at most ``max_kg`` (when Odoo knows no packages): one label per box."""
    if weight <= 0:
        return [{"weight": DEFAULT_PARCEL_KG, "weight_unit": WeightUnit.KG}]
    total_kg = to_kg(weight, unit)
    boxes = max(1, math.ceil(total_kg / max_kg)) if max_kg else 1
    if boxes == 1:
        return [{"weight": weight, "weight_unit": unit}]
    each = (total_kg / boxes).quantize(Decimal("0.001"), rounding=ROUND_UP)
    return [{"weight": each, "weight_unit": WeightUnit.KG} for _ in range(boxes)]


def picking_to_request(
    picking: dict[str, Any],
    *,
    recipient: dict[str, Any] | None,
    shipper: dict[str, Any],
    sale_order: dict[str, Any] | None,
    carrier: dict[str, Any] | None,
    state_codes: dict[int, str],
    max_parcel_kg: Decimal | None = None,
    is_return: bool = False,
    customs_items: list[dict[str, Any]] | None = None,
) -> ShipmentRequest:
    """Build the request; raise ``MappingError`` naming each field a person must fix in Odoo.

    A return label carries the parcel from the customer (the picking's partner) back to the
    warehouse, so the two addresses swap.
    """
    weight = Decimal(str(picking.get("weight") or 0))
    unit = _UOM.get(str(picking.get("weight_uom_name") or "kg").lower(), WeightUnit.KG)
    promised = odoo_date(sale_order.get("commitment_date")) if sale_order else None
    promised = promised or odoo_date(picking.get("date_deadline"))
    ship_date = odoo_date(picking.get("scheduled_date"))
    if promised and ship_date and promised < ship_date:
        promised = None  # Odoo allows it; a carrier promise cannot be earlier than pickup
    raw = {
        "reference": text(picking.get("name")) or f"picking-{picking['id']}",
        "shipper": partner_to_address(shipper, state_codes),
        "recipient": partner_to_address(recipient, state_codes) if recipient else None,
        "is_return": is_return,
        "parcels": pack_parcels(weight, unit, max_parcel_kg),
        "ship_date": ship_date,
        "promised_date": promised,
        "carrier_preference": carrier.get("name") if carrier else None,
        "odoo_picking_id": picking["id"],
        "metadata": {
            "origin": text(picking.get("origin")),
            "sale_order": sale_order.get("name") if sale_order else None,
            "weight_missing": weight <= 0,
            "backorder_of": m2o_id(picking.get("backorder_id")),
        },
    }
    if customs_items:
        raw["customs"] = {
            "contents_type": "return" if is_return else "merchandise",
            "items": customs_items,
        }
    if is_return:
        raw["shipper"], raw["recipient"] = raw["recipient"], raw["shipper"]
        raw["promised_date"] = None  # no customer promise on a return
    try:
        return ShipmentRequest.model_validate(raw)
    except ValidationError as exc:
        fields = {
            ".".join(str(p) for p in err["loc"]) or "request": err["msg"] for err in exc.errors()
        }
        raise MappingError(
            f"picking {raw['reference']} cannot be shipped as it stands in Odoo", fields
        ) from exc

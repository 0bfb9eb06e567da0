"""Customs declarations for cross-border pickings, from the picking's moves.

Odoo's external schema that Waybill relies on (reference §2) carries product names, quantities
and weights on the moves, but no HS code, customs value or origin. Those live in a customs
catalogue keyed by the product's internal reference (``default_code``), configured with
``WAYBILL_CUSTOMS_CATALOG``. A product missing from it makes the intent fail with the product
named, rather than a parcel held at the border for a declaration nobody can complete.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from app.sync.intake.mapping import m2o_id, m2o_name

MOVE_FIELDS = ["id", "picking_id", "product_id", "product_uom_qty", "weight", "state"]
PRODUCT_FIELDS = ["id", "default_code", "name", "weight"]


class CatalogEntry(BaseModel):
    hs_code: str = Field(pattern=r"^\d{6,10}$")
    unit_value: Decimal = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    origin_country: str | None = Field(default=None, min_length=2, max_length=2)
    description: str | None = None


def load_catalog(source: str | None) -> dict[str, CatalogEntry]:
    """JSON text or a path: ``{"<default_code>": {"hs_code", "unit_value", "currency", ...}}``."""
    if not source:
        return {}
    text = source if source.lstrip().startswith("{") else Path(source).read_text("utf-8")
    return {code: CatalogEntry.model_validate(v) for code, v in json.loads(text).items()}


def customs_items(
    moves: list[dict[str, Any]],
    products: dict[int, dict[str, Any]],
    catalog: dict[str, CatalogEntry],
    *,
    default_origin: str,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Items for ``Customs.items``, and the problems a person must fix (by field)."""
    items: list[dict[str, Any]] = []
    problems: dict[str, str] = {}
    for index, move in enumerate(m for m in moves if m.get("state") != "cancel"):
        product_id = m2o_id(move.get("product_id"))
        product = products.get(product_id or -1, {})
        code = product.get("default_code") or None
        entry = catalog.get(str(code)) if code else None
        name = product.get("name") or m2o_name(move.get("product_id")) or f"product {product_id}"
        if entry is None:
            problems[f"customs.items.{index}"] = (
                f"no customs data for {name} ({code or 'no internal reference'}): add it to "
                "WAYBILL_CUSTOMS_CATALOG"
            )
            continue
        quantity = max(1, round(float(move.get("product_uom_qty") or 1)))
        weight = Decimal(str(move.get("weight") or product.get("weight") or 0))
        items.append(
            {
                "description": entry.description or str(name),
                "quantity": quantity,
                "unit_value": {"amount": entry.unit_value, "currency": entry.currency},
                "hs_code": entry.hs_code,
                "origin_country": entry.origin_country or default_origin,
                "weight": (weight / quantity) if weight > 0 else None,
            }
        )
    return items, problems

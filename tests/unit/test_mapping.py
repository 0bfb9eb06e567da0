"""Odoo → canonical mapping: packing rule and Odoo value formats."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.models import WeightUnit
from app.models.units import to_kg
from app.sync.intake.mapping import m2o_id, m2o_name, odoo_date, odoo_datetime, pack_parcels


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("900"), places=2),
    st.sampled_from([WeightUnit.KG, WeightUnit.LB]),
    st.sampled_from([Decimal("20"), Decimal("30"), Decimal("31.5")]),
)
def test_packing_covers_the_weight_in_the_fewest_boxes(
    weight: Decimal, unit: WeightUnit, max_kg: Decimal
) -> None:
    boxes = pack_parcels(weight, unit, max_kg)
    kgs = [to_kg(Decimal(b["weight"]), b["weight_unit"]) for b in boxes]
    total = to_kg(weight, unit)
    assert sum(kgs) >= total
    assert all(k <= max_kg + Decimal("0.001") for k in kgs)
    assert len(boxes) == max(1, math.ceil(total / max_kg))


def test_packing_without_limit_or_weight() -> None:
    assert pack_parcels(Decimal("80"), WeightUnit.KG, None) == [
        {"weight": Decimal("80"), "weight_unit": WeightUnit.KG}
    ]
    assert pack_parcels(Decimal("0"), WeightUnit.KG, Decimal("30"))[0]["weight"] > 0


def test_odoo_value_formats() -> None:
    assert m2o_id([7, "Ada"]) == 7 and m2o_id(7) == 7 and m2o_id(False) is None
    assert m2o_id(True) is None  # a boolean is not an id
    assert m2o_name([7, "Ada"]) == "Ada" and m2o_name(False) is None
    assert odoo_datetime("2026-11-02 08:30:00") == datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert odoo_datetime(False) is None
    assert odoo_date("2026-11-02") == date(2026, 11, 2)
    assert odoo_date("2026-11-02 23:59:59") == date(2026, 11, 2)

"""Unit conversion tables. Tables, not if-chains, so a new unit is one line."""

from __future__ import annotations

from decimal import Decimal

from app.models.enums import DimensionUnit, WeightUnit

KG_PER: dict[WeightUnit, Decimal] = {
    WeightUnit.KG: Decimal("1"),
    WeightUnit.G: Decimal("0.001"),
    WeightUnit.LB: Decimal("0.45359237"),
    WeightUnit.OZ: Decimal("0.028349523125"),
}

CM_PER: dict[DimensionUnit, Decimal] = {
    DimensionUnit.CM: Decimal("1"),
    DimensionUnit.MM: Decimal("0.1"),
    DimensionUnit.IN: Decimal("2.54"),
}


def to_kg(value: Decimal, unit: WeightUnit) -> Decimal:
    return value * KG_PER[unit]


def from_kg(value_kg: Decimal, unit: WeightUnit) -> Decimal:
    return value_kg / KG_PER[unit]


def to_cm(value: Decimal, unit: DimensionUnit) -> Decimal:
    return value * CM_PER[unit]


def from_cm(value_cm: Decimal, unit: DimensionUnit) -> Decimal:
    return value_cm / CM_PER[unit]

"""Canonical model: impossible values are refused with messages naming the field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.models import (
    Address,
    ExceptionCategory,
    Label,
    LabelFormat,
    Parcel,
    ShipmentRequest,
    TrackingEvent,
    TrackingStatus,
    WeightUnit,
)
from app.models.units import from_kg, to_kg


def address(**overrides: object) -> dict[str, object]:
    base = {"name": "Ada", "street1": "1 Main St", "city": "Berlin", "country_code": "de"}
    return {**base, **overrides}


def fields_of(exc: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.errors()}


def test_country_is_normalised_and_checked() -> None:
    assert Address(**address()).country_code == "DE"
    with pytest.raises(ValidationError) as err:
        Address(**address(country_code="XX"))
    assert fields_of(err.value) == {"country_code"}
    assert "ISO 3166-1" in str(err.value)


def test_missing_country_names_the_field() -> None:
    data = address()
    del data["country_code"]
    with pytest.raises(ValidationError) as err:
        Address(**data)
    assert fields_of(err.value) == {"country_code"}


@pytest.mark.parametrize("weight", [0, -1, Decimal("-0.001")])
def test_non_positive_weight_is_refused(weight: object) -> None:
    with pytest.raises(ValidationError) as err:
        Parcel(weight=weight)
    assert fields_of(err.value) == {"weight"}


def test_parcel_heavier_than_a_parcel_network_accepts() -> None:
    with pytest.raises(ValidationError, match="exceeds the parcel limit"):
        Parcel(weight=2300, weight_unit=WeightUnit.LB)
    assert Parcel(weight=2200, weight_unit=WeightUnit.LB).weight_kg < 1000


def test_dimensions_all_or_none() -> None:
    with pytest.raises(ValidationError, match="all three dimensions"):
        Parcel(weight=1, length=10)
    assert Parcel(weight=1, length=10, width=5, height=2).dims_cm == (10, 5, 2)


def test_request_validation_locates_nested_errors() -> None:
    with pytest.raises(ValidationError) as err:
        ShipmentRequest(
            reference="SO1",
            shipper=address(),
            recipient=address(country_code=""),
            parcels=[{"weight": 1}, {"weight": -3}],
        )
    assert fields_of(err.value) == {"recipient.country_code", "parcels.1.weight"}


def test_request_needs_a_parcel_and_ordered_dates() -> None:
    with pytest.raises(ValidationError) as err:
        ShipmentRequest(reference="SO1", shipper=address(), recipient=address(), parcels=[])
    assert fields_of(err.value) == {"parcels"}
    with pytest.raises(ValidationError, match="promised_date is before ship_date"):
        ShipmentRequest(
            reference="SO1",
            shipper=address(),
            recipient=address(),
            parcels=[{"weight": 1}],
            ship_date=date(2026, 5, 2),
            promised_date=date(2026, 5, 1),
        )


def test_international_flag_and_total_weight() -> None:
    req = ShipmentRequest(
        reference="SO1",
        shipper=address(),
        recipient=address(country_code="US"),
        parcels=[{"weight": 1}, {"weight": 500, "weight_unit": "g"}],
    )
    assert req.is_international
    assert req.total_weight_kg == Decimal("1.5")


def test_label_round_trips_base64() -> None:
    label = Label(tracking_number="1Z", format=LabelFormat.ZPL, data=b"^XA^XZ")
    again = Label.model_validate_json(label.model_dump_json())
    assert again.data == b"^XA^XZ"


def test_tracking_event_needs_aware_time() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        TrackingEvent(
            carrier="x",
            tracking_number="1",
            occurred_at=datetime(2026, 1, 1),
            status=TrackingStatus.IN_TRANSIT,
        )
    event = TrackingEvent(
        carrier="x",
        tracking_number="1",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        status="exception",
        exception_category="customs_hold",
    )
    assert event.exception_category is ExceptionCategory.CUSTOMS_HOLD


def test_milestone_rank_orders_the_forward_path() -> None:
    path = [
        TrackingStatus.INFO_RECEIVED,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.AVAILABLE_FOR_PICKUP,
        TrackingStatus.DELIVERED,
    ]
    assert [s.milestone_rank for s in path] == sorted(s.milestone_rank for s in path)
    assert TrackingStatus.EXCEPTION.milestone_rank is None


@given(
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999"), places=3),
    st.sampled_from(list(WeightUnit)),
)
def test_weight_conversion_round_trips(value: Decimal, unit: WeightUnit) -> None:
    assert abs(from_kg(to_kg(value, unit), unit) - value) < Decimal("1e-9")

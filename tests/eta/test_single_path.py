"""The one-row ETA path (``app.triage.eta_single``) against the batch frame path it replaces.

Random shipments and tracking histories - ties in time, unknown lanes, missing values, times
near DST switches, naive and zoned datetimes, ISO strings - must give the same tracking state,
the same model features (bit for bit, as float32) and the same predictions as
``EtaFeaturizer.transform`` / ``predict`` on the one-row frame of ``shipment_frame``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models.enums import TrackingStatus
from app.triage import eta_single
from app.triage.eta import (
    EtaBaseline,
    _predict_single,
    _predict_via_frame,
    baseline_predictor,
    shipment_frame,
)
from app.triage.eta_features import EVENT_COLUMNS, event_history, event_state

CARRIERS = ["parcelo", "swiftair", "atlas", "velox", "lowlands", "postnova", "unseen"]
ZONES = ["DE-S", "DE-W", "DE-C", "IT-N", "GB-M", "NL-S", "US-C", "US-W", "XX-1"]
COUNTRIES = ["DE", "NL", "IT", "GB", "US", "BR", "FR", "ZZ"]
SERVICES = ["PARCELO_CLASSIC", "SWA_EXPRESS_WORLDWIDE", "ATL_ECONOMY", "LL_EUROPE", "NEW_SVC"]
STATUSES = [s.value for s in TrackingStatus]
# Around the European and US daylight-saving switches of 2024 and 2025, and anywhere else.
DST_EDGES = [
    datetime(2024, 3, 31, 1, tzinfo=UTC),
    datetime(2024, 10, 27, 1, tzinfo=UTC),
    datetime(2024, 3, 10, 8, tzinfo=UTC),
    datetime(2025, 11, 2, 6, tzinfo=UTC),
]

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    if draw(st.booleans()):
        base = draw(st.sampled_from(DST_EDGES))
        return base + timedelta(minutes=draw(st.integers(-36 * 60, 36 * 60)))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return start + timedelta(seconds=draw(st.integers(0, 2 * 365 * 86400)))


@st.composite
def time_values(draw: st.DrawFn, at: datetime) -> Any:
    """One instant in one of the forms the service and the batch files hand over."""
    form = draw(st.sampled_from(["aware", "naive", "timestamp", "berlin", "iso"]))
    if form == "naive":
        return at.replace(tzinfo=None)
    if form == "timestamp":
        return pd.Timestamp(at)
    if form == "berlin":
        return pd.Timestamp(at).tz_convert("Europe/Berlin").to_pydatetime()
    if form == "iso":
        return at.isoformat()
    return at


@st.composite
def shipments(draw: st.DrawFn) -> dict[str, Any]:
    ship = draw(instants())
    row: dict[str, Any] = {
        "shipment_id": "S1",
        "carrier": draw(maybe(st.sampled_from(CARRIERS))),
        "carrier_account": draw(st.sampled_from(["parcelo-WH-DE1", "atlas-WH-NL1", "x"])),
        "service": draw(maybe(st.sampled_from(SERVICES))),
        "origin_country": draw(maybe(st.sampled_from(COUNTRIES))),
        "origin_zone": draw(maybe(st.sampled_from(ZONES))),
        "destination_country": draw(maybe(st.sampled_from(COUNTRIES))),
        "destination_zone": draw(maybe(st.sampled_from(ZONES))),
        "weight_kg": draw(maybe(st.floats(0.01, 40, allow_nan=False))),
        "price": draw(maybe(st.floats(1, 90, allow_nan=False))),
        "is_international": draw(st.booleans()),
        "is_return": draw(st.booleans()),
    }
    for key in ("created_at", "booked_at", "ship_at"):
        if draw(st.integers(0, 4)):
            at = ship + timedelta(minutes=draw(st.integers(-600, 0 if key == "ship_at" else -1)))
            row[key] = draw(maybe(time_values(at)))
    if draw(st.integers(0, 5)):
        promised = (ship + timedelta(days=draw(st.integers(-1, 8)))).date()
        row["promised_date"] = draw(
            st.sampled_from([promised.isoformat(), pd.Timestamp(promised), None])
        )
    if draw(st.booleans()):  # the batch files' extra columns
        row.update(
            service_level=draw(maybe(st.sampled_from(["ground", "express", "economy"]))),
            distance_class=draw(st.sampled_from(["domestic", "continental", "local"])),
            customer_type=draw(st.sampled_from(["b2c", "b2b"])),
            incoterm=draw(st.sampled_from([float("nan"), "DAP", "DDP"])),
            lane_distance_km=draw(st.floats(1, 9000, allow_nan=False)),
            length_cm=draw(st.sampled_from([float("nan"), 21.0, 40.5])),
            width_cm=draw(st.floats(1, 80, allow_nan=False)),
            height_cm=draw(st.sampled_from([float("nan"), 16.0])),
            needs_customs=draw(st.booleans()),
            dangerous_goods=draw(st.booleans()),
            promised_transit_days=draw(st.integers(1, 9)),
            declared_value=draw(st.sampled_from(["12.5", "true", 30, None])),
        )
    return row


@st.composite
def histories(draw: st.DrawFn, ship: datetime) -> list[dict[str, Any]]:
    events = []
    for _ in range(draw(st.integers(0, 7))):
        at = ship + timedelta(
            hours=draw(st.sampled_from([1, 5, 5, 30, 31])) + draw(st.integers(-20, 200))
        )
        status = draw(st.sampled_from(STATUSES))
        event: dict[str, Any] = {
            "occurred_at": draw(time_values(at)),
            "status": TrackingStatus(status) if draw(st.booleans()) else status,
            "exception_category": draw(maybe(st.sampled_from(["damaged", "address", "customs"]))),
        }
        if draw(st.booleans()):
            event["location_zone"] = draw(maybe(st.sampled_from(ZONES)))
            event["location_country"] = draw(maybe(st.sampled_from(COUNTRIES)))
        events.append(event)
    return events


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], datetime | None]:
    shipment = draw(shipments())
    ship = eta_single.first_time(shipment, ("ship_at", "booked_at", "created_at"))
    base = ship.to_pydatetime() if ship is not None else datetime(2024, 6, 1, tzinfo=UTC)
    events = draw(histories(base))
    as_of = draw(maybe(st.builds(lambda h: base + timedelta(hours=h), st.integers(-5, 240))))
    return shipment, events, as_of


def frame_state(events: list[dict[str, Any]], as_of: pd.Timestamp) -> dict[str, Any]:
    ev = pd.DataFrame(events)
    ev["shipment_id"] = "S1"
    ev["status"] = ev["status"].map(lambda s: getattr(s, "value", s))
    snap = pd.DataFrame({"shipment_id": ["S1"], "as_of": [as_of]})
    return event_state(event_history(ev), snap).iloc[0].to_dict()


def same(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return bool(a == b)


@SETTINGS
@given(case=cases())
def test_tracking_state_matches_the_event_history(case) -> None:
    _, events, as_of = case
    if not events:
        return
    at = eta_single.utc(as_of) or max(
        t for t in (eta_single.utc(e["occurred_at"]) for e in events) if t is not None
    )
    fast = eta_single.tracking_state(events, at)
    slow = frame_state(events, at)
    for col in EVENT_COLUMNS:
        assert same(fast[col], slow[col]), (col, fast[col], slow[col])


@SETTINGS
@given(case=cases())
def test_model_features_are_the_batch_features(fitted, case) -> None:
    shipment, events, as_of = case
    row = eta_single.single_row(shipment, events, as_of)
    fast = eta_single.featurize(fitted.model.featurizer, row)
    slow = fitted.model.featurizer.transform(shipment_frame(shipment, events, as_of))
    expected = slow.X.to_numpy(dtype=np.float32)[0]
    mismatch = [
        (c, fast.x[i], expected[i])
        for i, c in enumerate(slow.X.columns)
        if not (fast.x[i] == expected[i] or (np.isnan(fast.x[i]) and np.isnan(expected[i])))
    ]
    assert not mismatch
    assert fast.stage == int(slow.stage[0])
    assert same(fast.bt_start, float(slow.bt_start[0]))


@SETTINGS
@given(case=cases(), which=st.integers(0, 3))
def test_predictions_are_the_batch_predictions(fitted, lane_median, case, which) -> None:
    shipment, events, as_of = case
    predictor = [fitted.model, fitted.promise, baseline_predictor(), lane_median][which]
    fast = _predict_single(shipment, events, predictor, as_of)
    row = eta_single.single_row(shipment, events, as_of)
    if fast is None:  # only rows without any time to count from take the frame path
        assert row.anchor is None
        return
    assert fast == _predict_via_frame(shipment, events, predictor, as_of)
    if fast.stage == "delivered":
        return
    frame = shipment_frame(shipment, events, as_of)
    if which == 0:
        hours, _ = eta_single.model_hours(predictor, row)
    else:
        hours = eta_single.baseline_hours(predictor, row)
    np.testing.assert_allclose(hours, predictor.predict(frame).iloc[0].to_numpy(), rtol=1e-12)


@pytest.fixture(scope="module")
def lane_median(fitted) -> EtaBaseline:
    return EtaBaseline("waybill", "lane_median").fit(fitted.train.shipments)


def test_unusual_values_take_the_frame_path(fitted) -> None:
    shipment = {"carrier": 7, "ship_at": datetime(2024, 5, 2, 9, tzinfo=UTC)}
    assert _predict_single(shipment, [], fitted.model, None) is None
    events = [{"occurred_at": datetime(2024, 5, 2, tzinfo=UTC), "status": "in_transit", "seq": 1}]
    assert _predict_single({"ship_at": "2024-05-01"}, events, fitted.model, None) is None


ZONES_TZ = sorted(
    {*eta_single.COUNTRY_TZ.values(), *eta_single.ZONE_TZ.values(), eta_single.DEFAULT_TZ}
)


@SETTINGS
@given(
    at=instants(),
    nanos=st.integers(0, 999_999_999),
    tz=st.sampled_from(ZONES_TZ),
    unit=st.sampled_from(["s", "ms", "us", "ns"]),
)
def test_zone_conversions_are_pandas_conversions(
    at: datetime, nanos: int, tz: str, unit: str
) -> None:
    """Every instant near a clock change, and every local time in a skipped or repeated hour,
    converts as pandas' ``tz_convert`` / ``tz_localize(ambiguous=False,
    nonexistent="shift_forward")`` do, to the nanosecond and in the same unit."""
    instant = (pd.Timestamp(at) + pd.Timedelta(nanoseconds=nanos)).as_unit("ns").floor(unit)
    instant = instant.as_unit(unit)
    local = eta_single.to_local(instant, tz)
    expected_local = instant.tz_convert(tz).tz_localize(None)
    assert (local, local.unit) == (expected_local, expected_local.unit)

    naive = instant.tz_localize(None)  # read as a wall-clock time in tz: gaps and repeats too
    back = eta_single.local_to_utc(naive, tz)
    expected = naive.tz_localize(tz, ambiguous=False, nonexistent="shift_forward").tz_convert(
        "UTC"
    )
    assert (back, back.unit, str(back.tz)) == (expected, expected.unit, str(expected.tz))

"""The ETA model on a small simulated history: calibration, baselines, stages, monotonicity."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from app.triage.eta import (
    PREDICTION_COLUMNS,
    EtaBaseline,
    baseline_predictor,
    predict_for_shipment,
)
from app.triage.eta_features import business_clock, from_business_clock
from training.eta.evaluate import evaluate_predictor, model_inputs


def test_conformal_interval_covers_80_percent_of_the_holdout(fitted):
    metrics = evaluate_predictor(fitted.model, fitted.snaps, kind="waybill")
    for stage in ("booking", "first_scan", "out_for_delivery"):
        assert 0.72 <= metrics[f"{stage}.coverage_80"] <= 0.88, (stage, metrics)
    assert 0.90 <= metrics["booking.coverage_95"] <= 0.99


def test_model_beats_the_carrier_promise_at_booking(fitted):
    model = evaluate_predictor(fitted.model, fitted.snaps, kind="waybill")
    promise = evaluate_predictor(fitted.promise, fitted.snaps, kind="waybill")
    lane = evaluate_predictor(EtaBaseline("waybill", "lane_median").fit(fitted.train.shipments),
                              fitted.snaps, kind="waybill")
    assert model["p50_mae_days"] < 0.95 * promise["p50_mae_days"]
    assert model["p50_mae_days"] < lane["p50_mae_days"]
    assert model["exact_day"] > promise["exact_day"]


def test_later_stages_are_more_accurate(fitted):
    m = evaluate_predictor(fitted.model, fitted.snaps, kind="waybill")
    assert m["first_scan.p50_mae_days"] <= m["booking.p50_mae_days"] + 0.02
    assert m["out_for_delivery.p50_mae_days"] < 0.5 * m["first_scan.p50_mae_days"]
    assert m["out_for_delivery.exact_day"] > m["booking.exact_day"]


def test_quantiles_are_monotone_and_never_before_the_prediction_time(fitted):
    inputs = model_inputs(fitted.snaps)
    for predictor in (fitted.model, fitted.promise, baseline_predictor()):
        pred = predictor.predict(inputs)
        assert list(pred.columns) == PREDICTION_COLUMNS
        assert pred.index.equals(inputs.index)
        values = pred.to_numpy()
        assert np.isfinite(values).all()
        assert (np.diff(values, axis=1) >= 0).all()
    anchor = pd.to_datetime(fitted.snaps["ship_at"], utc=True)
    elapsed = (pd.to_datetime(fitted.snaps["as_of"], utc=True) - anchor).dt.total_seconds() / 3600
    pred = fitted.model.predict(inputs)
    assert (pred["p10"].to_numpy() >= elapsed.clip(lower=0).to_numpy() - 1e-6).all()


def test_business_clock_round_trip():
    ts = pd.Series(pd.to_datetime(["2024-12-20 09:30", "2024-12-23 16:00", "2025-01-02 08:15"],
                                  utc=True))
    tz = pd.Series(["Europe/Berlin"] * 3)
    country = np.array(["DE"] * 3, dtype=object)
    mask = np.array(["1111100"] * 3, dtype=object)
    bt = business_clock(ts, tz, country, mask)
    back = from_business_clock(bt, tz, country, mask)
    assert (back - ts).abs().max() < pd.Timedelta(seconds=1)
    # Christmas Day and Boxing Day do not count: Monday 23 Dec 17:00 (Berlin) plus two
    # business days is Friday the 27th, same time.
    nxt = from_business_clock(bt[1:2] + 2.0, tz.iloc[1:2], country[1:2], mask[1:2])
    assert nxt.iloc[0].tz_convert("Europe/Berlin").strftime("%a %d %H:%M") == "Fri 27 17:00"


def test_predict_for_shipment_moves_with_the_events(fitted):
    hist = fitted.history
    delivered = hist.deliveries.loc[hist.deliveries["final_status"] == "delivered",
                                    "shipment_id"]
    holdout_ids = set(fitted.holdout.shipments["shipment_id"]) & set(delivered)
    sid = sorted(holdout_ids)[0]
    shipment = hist.shipments.loc[hist.shipments["shipment_id"] == sid].iloc[0].to_dict()
    events = hist.events.loc[hist.events["shipment_id"] == sid].sort_values("seq")
    records = events.to_dict("records")
    at_booking = predict_for_shipment(shipment, [], model=fitted.model)
    assert at_booking.stage == "booking"
    assert at_booking.p10 <= at_booking.p50 <= at_booking.p90 <= at_booking.p95
    assert at_booking.model_version == fitted.model.version
    stages = []
    for i in range(1, len(records)):
        p = predict_for_shipment(shipment, records[:i], model=fitted.model)
        if records[i - 1]["status"] == "delivered":
            assert p.stage == "delivered" and p.p50 == p.p10
            continue
        stages.append(p.stage)
        assert p.p10 >= pd.Timestamp(records[i - 1]["occurred_at"]) - timedelta(seconds=1)
    assert stages[0] in ("booking", "first_scan")
    if "out_for_delivery" in set(events["status"]):
        assert stages[-1] == "out_for_delivery"
    # Without a model the carrier promise answers; the local dates are the destination's.
    base = predict_for_shipment(shipment, records[:2])
    assert base.model_version == "baseline"
    assert set(base.local_dates()) == set(PREDICTION_COLUMNS)


def test_a_model_of_another_format_is_not_used_for_shipments(fitted):
    shipment = fitted.history.shipments.iloc[0].to_dict()
    olist_like = fitted.model
    olist_like.featurizer.kind = "olist"
    try:
        p = predict_for_shipment(shipment, [], model=olist_like)
    finally:
        olist_like.featurizer.kind = "waybill"
    assert p.model_version == "baseline"


def test_the_simulated_world_uses_the_serving_holiday_table():
    """One table for both: the simulator's calendar is the service's, not a copy of it."""
    from app.triage import eta_calendar
    from training.simulator import calendars

    assert calendars.country_holidays is eta_calendar.country_holidays
    assert calendars.black_friday is eta_calendar.black_friday


def test_a_sparse_shipment_still_gets_a_finite_prediction(fitted):
    shipment = {"shipment_id": "S1", "ship_at": "2024-10-07T09:30:00Z",
                "destination_country": "DE", "carrier": "parcelo"}
    events = [{"occurred_at": "2024-10-07T15:10:00Z", "status": "in_transit"}]
    for model in (fitted.model, None):
        p = predict_for_shipment(shipment, events, model=model)
        assert p.stage == "first_scan"
        assert pd.Timestamp("2024-10-07T15:10:00Z") <= p.p10 <= p.p50 <= p.p90 <= p.p95


def test_serving_baseline_pushes_the_promise_back_on_exceptions():
    shipment = {"shipment_id": "S2", "ship_at": "2024-10-07T09:30:00Z",
                "destination_country": "FR", "destination_zone": "FR-IDF",
                "promised_date": "2024-10-10", "carrier": "parcelo"}
    scan = {"occurred_at": "2024-10-07T15:10:00Z", "status": "in_transit"}
    held = {"occurred_at": "2024-10-08T11:00:00Z", "status": "exception",
            "exception_category": "customs_hold"}
    before = predict_for_shipment(shipment, [scan])
    after = predict_for_shipment(shipment, [scan, held])
    assert after.p50 - before.p50 == timedelta(hours=24)
    assert before.p50.date().isoformat() == "2024-10-10"  # the carrier's promised day

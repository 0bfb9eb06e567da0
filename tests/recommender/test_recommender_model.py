"""On a small simulated hold-out the recommender beats the three baseline policies."""

from __future__ import annotations

import pickle

import cloudpickle
import numpy as np

from app.triage.recommender import CheapestBaseline, RiskPredictor
from app.triage.recommender_features import QUOTE_COLUMNS


def test_time_split_holds_out_the_later_months(fitted) -> None:
    spec, split, _ = fitted
    train, holdout = split.train.quotes, split.holdout.data.quotes
    assert train["created_at"].max() < holdout["created_at"].min()
    gap = holdout["created_at"].min() - train["created_at"].max()
    assert gap.days >= spec.gap_days - 1
    assert "time split" in split.description
    # Odoo's default carrier lists, recovered from the logged odoo_default bookings
    assert split.holdout.default_carriers["WH-DE1"][:2] == ["parcelo", "swiftair"]
    assert split.holdout.default_carriers["WH-NL1"][:2] == ["lowlands", "parcelo"]


def test_recommender_beats_cheapest_fastest_and_odoo_default(fitted) -> None:
    spec, split, predictor = fitted
    m = spec.evaluate(predictor, split.holdout)
    print({k: round(v, 3) for k, v in m.items()})
    cost = m["realized_cost_per_shipment"]
    for policy in ("cheapest", "fastest", "odoo_default"):
        assert cost < m[f"{policy}_realized_cost_per_shipment"], policy
    assert m["savings_vs_cheapest_pct"] > 5.0
    assert m["on_time_rate"] >= m["cheapest_on_time_rate"]
    assert m["auc_on_time"] > 0.62
    assert abs(m["mean_p_on_time"] - m["observed_on_time"]) < 0.05  # roughly calibrated
    base = spec.evaluate(spec.baseline(), split.holdout)
    assert base["realized_cost_per_shipment"] == m["cheapest_realized_cost_per_shipment"]


def test_predictor_round_trips_through_cloudpickle(fitted) -> None:
    spec, split, predictor = fitted
    assert isinstance(predictor, RiskPredictor)
    frame = split.holdout.data.quotes[list(QUOTE_COLUMNS)].head(30)
    again = pickle.loads(cloudpickle.dumps(predictor))
    a, b = predictor.predict(frame), again.predict(frame)
    assert np.allclose(a["p_on_time"], b["p_on_time"])
    assert a["chosen"].sum() == frame["shipment_id"].nunique()
    assert isinstance(spec.baseline(), CheapestBaseline)


def test_input_example_is_plain_and_predictable(fitted, quote_data) -> None:
    spec, _, predictor = fitted
    example = spec.input_example(quote_data)
    assert set(example.columns) == set(QUOTE_COLUMNS)
    assert example["created_at"].map(type).eq(str).all()
    out = predictor.predict(example)
    assert out["chosen"].sum() == example["shipment_id"].nunique() == 2

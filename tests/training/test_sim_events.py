"""Tracking events are a consistent life: property checks over generated samples."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.models.enums import TrackingStatus
from training.schemas import lifecycle_errors
from training.simulator.generate import History, SimulationConfig, simulate_history

RANK = {s.value: s.milestone_rank for s in TrackingStatus if s.milestone_rank is not None}


def _check_lives(hist: History) -> None:
    ev = hist.events
    assert lifecycle_errors(ev) == []
    status = ev["status"].astype(object)
    first = ev.groupby("shipment_id", sort=False).head(1)
    assert (first["status"].astype(object) == "info_received").all()
    last = ev.groupby("shipment_id", sort=False).tail(1).set_index("shipment_id")
    final = hist.deliveries.set_index("shipment_id")["final_status"].astype(object)
    expected_last = final.map(
        {
            "delivered": "delivered",
            "return_to_sender": "return_to_sender",
            "cancelled": "cancelled",
            "exception": "exception",
        }
    )
    assert (last["status"].astype(object) == expected_last.loc[last.index]).all()
    # Exactly one delivered event per delivered shipment, at deliveries.delivered_at.
    delivered = ev[status == "delivered"].set_index("shipment_id")["occurred_at"]
    assert delivered.index.is_unique
    d = hist.deliveries.set_index("shipment_id")
    assert (delivered == d.loc[delivered.index, "delivered_at"]).all()
    assert len(delivered) == int((d["final_status"].astype(object) == "delivered").sum())


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), month=st.integers(1, 12))
def test_event_lives_are_consistent_for_any_seed(seed: int, month: int) -> None:
    cfg = SimulationConfig(days=10, seed=seed, start=date(2024, month, 1), shipments_per_day=40)
    _check_lives(simulate_history(cfg))


def test_event_lives_are_consistent_through_the_peak(history: History) -> None:
    _check_lives(history)


def test_events_follow_their_timeline(history: History) -> None:
    ev, d = history.events, history.deliveries.set_index("shipment_id")
    pick = ev[ev["event_key"] == "ms.picked_up"].set_index("shipment_id")["occurred_at"]
    assert (pick == d.loc[pick.index, "handed_over_at"]).all()
    s = history.shipments.set_index("shipment_id")
    info = ev[ev["seq"] == 0].set_index("shipment_id")["occurred_at"]
    assert (info >= s.loc[info.index, "created_at"]).all()
    assert (s["ship_at"] >= s["created_at"]).all()


def test_exceptions_cause_delays(history: History) -> None:
    s = history.shipments.set_index("shipment_id")
    d = history.deliveries.set_index("shipment_id").join(s[["service_level", "distance_class"]])
    d = d[d["final_status"].astype(object) == "delivered"]
    group = ["service_level", "distance_class"]
    d["had"] = d["n_exceptions"] > 0
    means = d.groupby([*group, "had"], observed=True)["transit_hours"].mean().unstack("had")
    means = means.dropna()
    assert len(means) >= 3
    assert (means[True] > means[False]).mean() >= 0.8
    on_time = d.groupby("had")["on_time"].mean()
    assert on_time[True] < on_time[False] - 0.2


def test_returns_end_with_return_events(history: History) -> None:
    d = history.deliveries
    returned = d.loc[d["returned"], "shipment_id"]
    assert len(returned) > 0
    ev = history.events[history.events["shipment_id"].isin(returned)]
    rts = ev[ev["status"].astype(object) == "return_to_sender"]
    assert set(rts["shipment_id"]) == set(returned)
    assert (rts["exception_category"].astype(object) == "return_to_sender").all()
    # A return is always triggered by an exception event before it.
    first_rts = rts.groupby("shipment_id")["seq"].min()
    exc = ev[ev["status"].astype(object) == "exception"].groupby("shipment_id")["seq"].min()
    assert (exc.loc[first_rts.index] < first_rts).all()


def test_customer_returns_travel_back_to_the_warehouse(history: History) -> None:
    s = history.shipments
    ret = s[s["is_return"]]
    assert 0.03 < len(ret) / len(s) < 0.15
    parent = s.set_index("shipment_id").loc[ret["return_of_shipment_id"]]
    assert (ret["origin_zone"].to_numpy() == parent["destination_zone"].to_numpy()).all()
    assert (ret["created_at"].to_numpy() > parent["created_at"].to_numpy()).all()
    wh_zone = {"WH-DE1": "DE-W", "WH-NL1": "NL-S"}
    assert (
        ret["destination_zone"].astype(object) == ret["warehouse"].astype(object).map(wh_zone)
    ).all()


def test_missing_scans_and_unknown_statuses_occur(history: History) -> None:
    ev = history.events
    per = ev.groupby("shipment_id")["event_key"].agg(lambda k: "ms.hub_arrival" in set(k))
    assert 0.9 < per.mean() < 0.99
    assert (ev["status"].astype(object) == "unknown").any()
    assert np.isin(
        ev["status"].astype(object).unique(),
        [*RANK, "exception", "return_to_sender", "cancelled", "unknown"],
    ).all()
    assert pd.api.types.is_integer_dtype(ev["seq"])

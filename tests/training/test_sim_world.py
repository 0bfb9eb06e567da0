"""The world's documented structure shows up in the data: peak, weather, customs, cut-offs,
quotes and their counterfactual outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.simulator.generate import History


def _delivered(history: History) -> pd.DataFrame:
    s = history.shipments.set_index("shipment_id")
    d = history.deliveries.set_index("shipment_id")
    out = d.join(s.drop(columns=["carrier", "promised_date"]))
    return out[out["final_status"].astype(object) == "delivered"]


def test_peak_season_transit_is_longer_than_off_peak(history: History) -> None:
    d = _delivered(history)
    d = d[(d["service_level"].astype(object) == "ground") & ~d["is_return"]]
    day = d["handed_over_at"].dt.tz_convert(None)
    off = d[(day >= "2024-10-01") & (day < "2024-11-10")]
    peak = d[(day >= "2024-12-01") & (day < "2024-12-21")]
    assert len(off) > 500 and len(peak) > 500
    assert peak["transit_hours"].mean() > 1.1 * off["transit_hours"].mean()
    assert peak["on_time"].mean() < off["on_time"].mean()
    assert peak["n_exceptions"].gt(0).mean() > off["n_exceptions"].gt(0).mean()


def test_peak_season_raises_volume(history: History) -> None:
    s = history.shipments[~history.shipments["is_return"]]
    day = s["created_at"].dt.tz_convert(None).dt.normalize()
    per_day = day.value_counts()
    oct_ = per_day[(per_day.index >= "2024-10-01") & (per_day.index < "2024-11-01")].mean()
    dec = per_day[(per_day.index >= "2024-12-01") & (per_day.index < "2024-12-21")].mean()
    assert dec > 1.4 * oct_


def test_weather_event_raises_exception_rate_in_its_region_and_window(history: History) -> None:
    s = history.shipments.set_index("shipment_id")
    d = history.deliveries.set_index("shipment_id").join(s[["origin_zone", "destination_zone"]])
    d = d[d["handed_over_at"].notna()]
    weather_exc = set(
        history.events.loc[
            history.events["exception_category"].astype(object) == "weather_delay", "shipment_id"
        ]
    )
    d["weather_exc"] = d.index.isin(weather_exc)
    exposed = np.zeros(len(d), dtype=bool)
    hand = d["handed_over_at"]
    for w in history.weather_events.itertuples():
        in_zone = (d["destination_zone"].astype(object) == w.zone) | (
            d["origin_zone"].astype(object) == w.zone
        )
        in_window = (hand >= w.start_at - pd.Timedelta(days=2)) & (hand <= w.end_at)
        exposed |= (in_zone & in_window).to_numpy()
    assert exposed.sum() > 100
    rate_in = d.loc[exposed, "weather_exc"].mean()
    rate_out = d.loc[~exposed, "weather_exc"].mean()
    assert rate_in > 10 * rate_out
    # And the weather exceptions name the region they happened in.
    ev = history.events
    wx = ev[ev["exception_category"].astype(object) == "weather_delay"]
    zones = set(history.weather_events["zone"].astype(object))
    assert wx["location_zone"].astype(object).isin(zones).mean() > 0.8


def test_international_shipments_sometimes_have_customs_events(history: History) -> None:
    s = history.shipments.set_index("shipment_id")
    ev = history.events.join(s[["needs_customs", "is_international"]], on="shipment_id")
    keys = ev["event_key"]
    customs_ships = ev.loc[ev["needs_customs"], "shipment_id"].unique()
    assert len(customs_ships) > 100
    with_clearance = ev.loc[keys == "ms.customs_cleared", "shipment_id"].unique()
    assert np.isin(with_clearance, customs_ships).all()
    holds = ev[ev["exception_category"].astype(object) == "customs_hold"]
    assert len(holds) > 0
    assert holds["needs_customs"].all()
    hold_rate = holds["shipment_id"].nunique() / len(customs_ships)
    assert 0.01 < hold_rate < 0.3
    intra_eu = ev[ev["is_international"] & ~ev["needs_customs"]]
    assert not (intra_eu["event_key"] == "ms.customs_cleared").any()


def test_chosen_quote_outcome_equals_actual_delivery(history: History) -> None:
    q = history.quotes
    chosen = q[q["chosen"]].set_index("shipment_id")
    assert chosen.index.is_unique and len(chosen) == len(history.shipments)
    d = history.deliveries.set_index("shipment_id").loc[chosen.index]
    s = history.shipments.set_index("shipment_id").loc[chosen.index]
    pd.testing.assert_series_equal(
        chosen["realized_transit_hours"], d["transit_hours"], check_names=False
    )
    pd.testing.assert_series_equal(
        chosen["realized_delivered_at"], d["delivered_at"], check_names=False
    )
    assert (
        chosen["delivered_on_time"].astype(object).fillna("na")
        == d["on_time"].astype(object).fillna("na")
    ).all()
    assert (
        chosen["realized_final_status"].astype(object) == d["final_status"].astype(object)
    ).all()
    assert (
        chosen["realized_handed_over_at"].fillna(pd.Timestamp(0, tz="UTC"))
        == d["handed_over_at"].fillna(pd.Timestamp(0, tz="UTC"))
    ).all()
    assert (chosen["carrier"].astype(object) == s["carrier"].astype(object)).all()
    assert (chosen["service"].astype(object) == s["service"].astype(object)).all()
    assert (chosen["price"] == s["price"]).all()
    assert (chosen["had_exception"] == (d["n_exceptions"] > 0)).all()


def test_quotes_offer_choices_and_propensities(history: History) -> None:
    q = history.quotes
    per = q.groupby("shipment_id").size()
    assert per.min() >= 1 and per.mean() > 4
    total = q.groupby("shipment_id")["propensity"].sum()
    assert np.allclose(total, 1.0, atol=1e-3)
    assert (q.loc[q["chosen"], "propensity"] > 0).all()
    # Counterfactuals differ: some shipment's unchosen quote would have been on time when the
    # chosen one was late, which is what a recommender can learn from.
    late = q[q["chosen"] & (q["delivered_on_time"] == False)]["shipment_id"]  # noqa: E712
    alt = q[q["shipment_id"].isin(late) & ~q["chosen"] & (q["delivered_on_time"] == True)]  # noqa: E712
    assert alt["shipment_id"].nunique() > 0.3 * late.nunique()


def test_shipment_level_causes_are_shared_by_all_quotes(history: History) -> None:
    q = history.quotes
    cancelled = q.groupby("shipment_id")["realized_final_status"].agg(
        lambda s: set(s.astype(object)) == {"cancelled"}
    )
    any_cancelled = q.groupby("shipment_id")["realized_final_status"].agg(
        lambda s: "cancelled" in set(s.astype(object))
    )
    assert any_cancelled.sum() > 0
    assert (cancelled == any_cancelled).all()


def test_cutoff_moves_pickup_to_the_next_day(history: History) -> None:
    s = history.shipments.set_index("shipment_id")
    q = history.quotes.join(s[["ship_at", "is_return"]], on="shipment_id")
    q = q[~q["is_return"]]  # outbound: ready in the warehouses' (CET) clock
    ready_day = q["ship_at"].dt.tz_convert("Europe/Berlin").dt.tz_localize(None).dt.normalize()
    same_day = q["pickup_date"] == ready_day
    hour = q["ship_at"].dt.tz_convert("Europe/Berlin").dt.hour
    early = q[hour < 12]
    late = q[hour >= 21]
    assert same_day[early.index].mean() > 0.6
    assert same_day[late.index].mean() == 0.0


def test_prices_rise_with_weight_and_distance(history: History) -> None:
    q = history.quotes.join(
        history.shipments.set_index("shipment_id")[["weight_kg", "distance_class"]],
        on="shipment_id",
    )
    g = q[q["service"].astype(object) == "PARCELO_EUROPA"]
    light, heavy = g[g["weight_kg"] < 1], g[g["weight_kg"] > 10]
    assert heavy["price"].median() > light["price"].median()
    dom = q[q["service"].astype(object) == "SWA_EXPRESS_WORLDWIDE"]
    by_dist = dom.groupby("distance_class", observed=True)["price"].median()
    assert by_dist["intercontinental"] > by_dist["neighbour"]

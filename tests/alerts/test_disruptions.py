"""Injected disruptions: known truth in the simulator, the default history untouched, and the
detector finding them quickly with few false alarms (a small, fast version of
`waybill alerts evaluate simulator`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd

from training.alerts.scenarios import SCENARIOS, run_scenario
from training.simulator.disruptions import HubFailure, WeatherDisruption
from training.simulator.generate import SimulationConfig, simulate_history

SMALL = SimulationConfig(
    days=30, seed=4, start=date(2024, 5, 1), shipments_per_day=80, returns=False
)
DAY = date(2024, 5, 14)


def transit(history: object, carrier: str | None = None) -> pd.Series:
    ships = history.shipments.set_index("shipment_id")  # type: ignore[attr-defined]
    d = history.deliveries.set_index("shipment_id")  # type: ignore[attr-defined]
    if carrier is not None:
        d = d.loc[ships["carrier"].astype(str) == carrier]
    return d["transit_hours"]


def test_no_disruption_is_the_default_history_draw_for_draw() -> None:
    a = simulate_history(SMALL)
    b = simulate_history(replace(SMALL, disruptions=()))
    for name, table in a.tables().items():
        pd.testing.assert_frame_equal(table, b.tables()[name])


def test_a_hub_failure_holds_only_that_carriers_parcels_in_that_zone() -> None:
    base = simulate_history(SMALL)
    hit = simulate_history(replace(SMALL, disruptions=(HubFailure("parcelo", "DE-W", DAY, 3),)))
    ships = base.shipments.set_index("shipment_id")
    handed = pd.to_datetime(base.deliveries.set_index("shipment_id")["handed_over_at"])
    in_window = (handed >= pd.Timestamp(DAY, tz="UTC")) & (
        handed < pd.Timestamp(DAY + timedelta(days=3), tz="UTC")
    )
    held = (
        (ships["carrier"].astype(str) == "parcelo")
        & (ships["origin_zone"].astype(str) == "DE-W")
        & in_window
    )
    later = (transit(hit) - transit(base)).fillna(0.0)
    assert held.sum() > 20 and (later[held] >= 24).mean() > 0.95
    others = ships["carrier"].astype(str) != "parcelo"
    assert (later[others] == 0).all()  # nothing else moved, nothing reshuffled

    def departed(h: object) -> float:  # held at the hub: no departure scan, only silence
        ev = h.events  # type: ignore[attr-defined]
        ids = set(ev.loc[ev["event_key"] == "ms.hub_departure", "shipment_id"])
        return float(pd.Series(held[held].index).isin(ids).mean())

    assert departed(base) > 0.85 and departed(hit) == 0.0


def test_a_regional_storm_raises_weather_delays_in_its_zone() -> None:
    base = simulate_history(SMALL)
    storm = simulate_history(
        replace(SMALL, disruptions=(WeatherDisruption("DE-S", DAY, days=4, severity=3),))
    )
    assert len(storm.weather_events) == len(base.weather_events) + 1

    def weather_share(h: object) -> float:
        d = h.deliveries.merge(h.shipments[["shipment_id", "destination_zone"]])  # type: ignore[attr-defined]
        d = d.loc[
            (d["destination_zone"].astype(str) == "DE-S")
            & (pd.to_datetime(d["handed_over_at"]) >= pd.Timestamp(DAY, tz="UTC"))
            & (
                pd.to_datetime(d["handed_over_at"])
                < pd.Timestamp(DAY + timedelta(days=3), tz="UTC")
            )
        ]
        return float((d["first_exception_category"].astype(str) == "weather_delay").mean())

    assert weather_share(storm) > weather_share(base) + 0.3


def test_the_detector_finds_both_disruptions_within_two_days() -> None:
    base = SimulationConfig(
        days=100, seed=7, start=date(2024, 3, 1), shipments_per_day=100, returns=False
    )
    start = date(2024, 5, 28)  # a Tuesday: a weekend delays any daily signal
    for name in ("regional_weather", "carrier_hub_failure"):
        disruption = replace(SCENARIOS[name], start=start)  # type: ignore[type-var]
        if isinstance(disruption, WeatherDisruption):  # at this volume: the warehouse's zone
            disruption = replace(disruption, zone="DE-W")
        result, _ = run_scenario(name, disruption, base=base)
        assert result.detection_delay_days is not None and result.detection_delay_days <= 2
        assert result.false_alarms <= 6  # of ~50 days x ~60 series

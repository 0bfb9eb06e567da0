"""Degradation detection on simulated history with injected, known disruptions.

Each scenario simulates the same world and seed with one disruption (or none), runs the
detector over every carrier, service and lane series day by day, and sorts the alerts opened
after the warm-up:

* *detections* - alerts on a series the disruption touches (weather: lanes to or from the
  zone, and carriers/services, which all serve it; hub failure: the carrier, its services and
  lanes to or from the hub's zone) opened from its start to ``grace_days`` after its end;
* *false alarms* - every other alert opened. The simulator's own weather and season stay in the
  history, so some of these are real but unlabelled disruptions: the count is an upper bound.

Detection delay is counted from the disruption's start to the end of the day the first alert
is raised for (a daily run sees a day once it is complete).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pandas as pd

from app.sync.alerts.baseline import BaselineConfig
from app.sync.alerts.series import busy_countries, daily_series, detect
from training.simulator.disruptions import Disruption, HubFailure, WeatherDisruption
from training.simulator.generate import SimulationConfig, simulate_history

BASE = SimulationConfig(days=150, seed=11, start=date(2024, 3, 1), shipments_per_day=275.0)
DISRUPTION_DAY = date(2024, 6, 12)
SCENARIOS: dict[str, Disruption | None] = {
    "none": None,
    "regional_weather": WeatherDisruption(
        zone="DE-S", start=DISRUPTION_DAY, days=4.0, severity=3, kind="storm"
    ),
    "carrier_hub_failure": HubFailure(
        carrier="parcelo", zone="DE-W", start=DISRUPTION_DAY, days=3.0
    ),
}


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    detection_delay_days: float | None
    first_alert: str | None
    detected_series: int
    false_alarms: int
    false_alarm_days: int
    days_judged: int
    series_days_judged: int

    def as_dict(self) -> dict[str, Any]:
        per_k = 1000.0 * self.false_alarms / max(self.series_days_judged, 1)
        return {
            **self.__dict__,
            "false_alarms_per_1000_series_days": round(per_k, 3),
            "false_alarm_day_rate": round(self.false_alarm_days / max(self.days_judged, 1), 4),
        }


def related(scope: str, key: str, disruption: Disruption | None) -> bool:
    if disruption is None:
        return False
    zones = key.split(":") if scope == "lane" else []
    if isinstance(disruption, WeatherDisruption):
        return scope in ("carrier", "service") or disruption.zone in zones
    if isinstance(disruption, HubFailure):
        if scope == "carrier":
            return key == disruption.carrier
        if scope == "service":
            return key.split(":")[0] == disruption.carrier
        return disruption.zone in zones
    return False


def run_scenario(
    name: str,
    disruption: Disruption | None,
    *,
    base: SimulationConfig = BASE,
    config: BaselineConfig | None = None,
    warmup_days: int = 49,
    grace_days: int = 7,
) -> tuple[ScenarioResult, pd.DataFrame]:
    cfg = replace(base, disruptions=(disruption,) if disruption else ())
    history = simulate_history(cfg)
    last = base.start + timedelta(days=base.days - 1)
    series = daily_series(history.shipments, history.events, until=pd.Timestamp(last, tz="UTC"))
    verdicts = detect(series, config, busy_countries(history.shipments))
    judged_from = base.start + timedelta(days=warmup_days)
    verdicts = verdicts.loc[(verdicts["day"] >= judged_from) & (verdicts["day"] < last)]
    opened = verdicts.loc[verdicts["event"] == "open"].copy()
    if disruption is not None:
        start = disruption.start
        stop = start + timedelta(days=int(disruption.days) + grace_days)
        in_window = (opened["day"] >= start) & (opened["day"] <= stop)
    else:
        start = None
        in_window = pd.Series(False, index=opened.index)
    is_related = (
        opened.apply(lambda r: related(r["scope"], r["key"], disruption), axis=1)
        if len(opened)
        else pd.Series(dtype=bool)
    )
    hits = opened.loc[in_window & is_related] if len(opened) else opened
    false = opened.loc[~(in_window & is_related)] if len(opened) else opened
    delay = first = None
    if start is not None and len(hits):
        first_row = hits.sort_values(["day", "z"], ascending=[True, False]).iloc[0]
        delay = float((first_row["day"] - start).days + 1)
        first = (
            f"{first_row['day']} {first_row['scope']} {first_row['key']} "
            f"{first_row['metric']} z={first_row['z']:.1f}"
        )
    judged = verdicts.loc[verdicts["z"].notna()]
    result = ScenarioResult(
        name=name,
        detection_delay_days=delay,
        first_alert=first,
        detected_series=len(hits),
        false_alarms=len(false),
        false_alarm_days=int(false["day"].nunique()) if len(false) else 0,
        days_judged=int(judged["day"].nunique()),
        series_days_judged=len(judged),
    )
    return result, opened


def evaluate_scenarios(
    names: list[str] | None = None,
    *,
    base: SimulationConfig = BASE,
    config: BaselineConfig | None = None,
) -> list[ScenarioResult]:
    out = []
    for name in names or list(SCENARIOS):
        result, _ = run_scenario(name, SCENARIOS[name], base=base, config=config)
        out.append(result)
    return out

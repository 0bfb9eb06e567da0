"""The degradation detector over real history: Olist's orders, day by day, in order.

Olist has no carriers and no scans, only the marketplace's milestones: purchase, hand-over to
the carrier and delivery. They become events (hand-over = first scan, delivery), the whole
marketplace is one "carrier" and seller state -> customer state are the lanes; the detector
then runs exactly as in the service, with Brazil's public holidays excused. Scan silence is
"in the carrier's hands for more than ``silence_hours``" - the only silence Olist records.

The question asked of it: when does it flag the late-November 2017 surge in delivery times
(Black Friday, 24 Nov 2017, and the weeks of deliveries after it), and on how many other days
does it raise alerts?
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from app.sync.alerts.baseline import BaselineConfig
from app.sync.alerts.series import daily_series, detect

SURGE_START = date(2017, 11, 24)  # Black Friday 2017
SURGE_END = date(2018, 1, 7)  # its deliveries (and the year-end peak) are out by then
JUDGE_FROM = date(2017, 3, 1)  # before this, too few orders a day to judge
JUDGE_UNTIL = date(2018, 8, 31)  # the export thins out afterwards


def olist_frames(data_dir: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders as shipments (scope columns) and their milestones as events."""
    from training.datasets.olist import DEFAULT_OLIST_DIR, load_olist

    tables = load_olist(Path(data_dir) if data_dir else DEFAULT_OLIST_DIR)
    ships = tables.shipments.merge(
        tables.deliveries[["shipment_id", "handed_over_at", "delivered_at"]], on="shipment_id"
    )
    shipments = pd.DataFrame(
        {
            "shipment_id": ships["shipment_id"].astype(str),
            "carrier": "olist",
            "origin_zone": ships["origin_zone"].astype("string"),
            "destination_zone": ships["destination_zone"].astype("string"),
        }
    )
    parts = []
    for col, status in (
        ("created_at", "info_received"),
        ("handed_over_at", "in_transit"),
        ("delivered_at", "delivered"),
    ):
        at = pd.to_datetime(ships[col], utc=True)
        ok = at.notna().to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "shipment_id": shipments["shipment_id"][ok],
                    "occurred_at": at[ok],
                    "status": status,
                }
            )
        )
    return shipments, pd.concat(parts, ignore_index=True)


def run_olist(
    data_dir: str | Path | None = None,
    *,
    config: BaselineConfig | None = None,
    silence_hours: float = 240.0,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Detector verdicts over every day, and the report (see module doc)."""
    shipments, events = olist_frames(data_dir)
    series = daily_series(
        shipments,
        events,
        silence_hours=silence_hours,
        scopes={"carrier": ("carrier",), "lane": ("origin_zone", "destination_zone")},
        until=pd.Timestamp(JUDGE_UNTIL, tz="UTC") + pd.Timedelta(days=1),
    )
    verdicts = detect(series, config, ("BR",))
    verdicts = verdicts.loc[(verdicts["day"] >= JUDGE_FROM) & (verdicts["day"] <= JUDGE_UNTIL)]
    return report(verdicts), verdicts


def report(verdicts: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"days_judged": int(verdicts.loc[verdicts["z"].notna(), "day"].nunique())}
    for scope in ("carrier", "lane"):
        v = verdicts.loc[verdicts["scope"] == scope]
        opened = v.loc[v["event"] == "open"]
        active_days = sorted(set(v.loc[v["active"], "day"]))
        in_surge = [d for d in active_days if SURGE_START <= d <= SURGE_END]
        outside = [d for d in active_days if not SURGE_START <= d <= SURGE_END]
        surge_opens = opened.loc[(opened["day"] >= SURGE_START) & (opened["day"] <= SURGE_END)]
        first = surge_opens.sort_values("day").iloc[0] if len(surge_opens) else None
        out[scope] = {
            "series": int(v.groupby(["key", "metric"]).ngroups),
            "surge_first_flag": None if first is None else str(first["day"]),
            "surge_first_flag_series": None
            if first is None
            else f"{first['key']} {first['metric']} z={first['z']:.1f}",
            "surge_delay_days": None if first is None else (first["day"] - SURGE_START).days,
            "surge_days_flagged": len(in_surge),
            "false_alarm_days": len(outside),
            "false_alarm_opens": int(
                ((opened["day"] < SURGE_START) | (opened["day"] > SURGE_END)).sum()
            ),
            "false_alarm_first_days": [str(d) for d in outside[:12]],
        }
    return out

"""Daily health series per carrier, service and lane, built from shipments and their events.

One frame in, one frame out, so the service (Waybill's store), the simulator evaluation and the
Olist run measure exactly the same things. For each scope key and UTC day:

* ``transit_hours`` - median hours from the first carrier scan (hand-over) to delivery of the
  shipments *delivered* that day;
* ``exception_rate`` - share of the shipments scanned that day that got an exception scan;
* ``silent_share`` - at the end of the day, share of the shipments in the carrier's hands (handed
  over, not yet delivered or returned) whose latest scan is older than ``silence_hours``.

``count`` is how many shipments stand behind each value. Scopes: ``carrier``, ``service``
(carrier:service) and ``lane`` (origin zone:destination zone).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from app.sync.alerts.baseline import BaselineConfig, Observation, excused_days, run_series

SCOPES: dict[str, tuple[str, ...]] = {
    "carrier": ("carrier",),
    "service": ("carrier", "service"),
    "lane": ("origin_zone", "destination_zone"),
}
CARRIER_SCANS = ("in_transit", "out_for_delivery", "available_for_pickup", "delivered", "exception")
ENDINGS = ("delivered", "return_to_sender", "cancelled")
SERIES_COLUMNS = ["day", "scope", "key", "metric", "value", "count", "spread"]
MAX_OPEN_DAYS = 30  # a parcel silent for a month is a claim, not a network signal


def scope_keys(frame: pd.DataFrame, scopes: Mapping[str, tuple[str, ...]]) -> dict[str, pd.Series]:
    out = {}
    for scope, cols in scopes.items():
        if all(c in frame for c in cols):
            parts = [frame[c].astype("string").fillna("?") for c in cols]
            key = parts[0]
            for p in parts[1:]:
                key = key + ":" + p
            out[scope] = key
    return out


def _iqr_sd(values: pd.Series) -> float:
    q1, q3 = np.nanquantile(values.to_numpy(dtype=float), [0.25, 0.75])
    return float((q3 - q1) / 1.349)


def _long(
    frame: pd.DataFrame, keys: dict[str, pd.Series], metric: str, value: str, how: str
) -> pd.DataFrame:
    parts = []
    for scope, key in keys.items():
        g = frame.assign(key=key.to_numpy()).groupby(["day", "key"], observed=True)[value]
        agg = g.agg([how, "size"]).reset_index()
        agg.columns = ["day", "key", "value", "count"]
        agg["spread"] = g.agg(_iqr_sd).to_numpy() if how == "median" else np.nan
        agg["scope"], agg["metric"] = scope, metric
        parts.append(agg)
    if not parts:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    return pd.concat(parts, ignore_index=True)[SERIES_COLUMNS]


def daily_series(
    shipments: pd.DataFrame,
    events: pd.DataFrame,
    *,
    silence_hours: float = 48.0,
    scopes: Mapping[str, tuple[str, ...]] = SCOPES,
    until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Long frame ``day, scope, key, metric, value, count`` (see module doc).

    ``shipments``: ``shipment_id`` and the scope columns; ``events``: ``shipment_id``,
    ``occurred_at`` (UTC), ``status``. Only what was known at each day's end is used; ``until``
    (default: the latest event) is the last instant observed.
    """
    ships = shipments.drop_duplicates("shipment_id").set_index(
        shipments.drop_duplicates("shipment_id")["shipment_id"].astype(str)
    )
    ev = events[["shipment_id", "occurred_at", "status"]].copy()
    ev["shipment_id"] = ev["shipment_id"].astype(str)
    ev["status"] = ev["status"].astype(str)
    ev["occurred_at"] = pd.to_datetime(ev["occurred_at"], utc=True)
    ev = ev.loc[ev["shipment_id"].isin(ships.index)].sort_values("occurred_at", kind="stable")
    if ev.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    until = until if until is not None else ev["occurred_at"].max()
    ev = ev.loc[ev["occurred_at"] <= until]
    per = pd.DataFrame(index=ships.index)
    scans = ev.loc[ev["status"].isin(CARRIER_SCANS)]
    per["handover"] = scans.groupby("shipment_id")["occurred_at"].min()
    per["delivered"] = (
        ev.loc[ev["status"] == "delivered"].groupby("shipment_id")["occurred_at"].min()
    )
    per["ended"] = ev.loc[ev["status"].isin(ENDINGS)].groupby("shipment_id")["occurred_at"].min()
    parts = []

    done = per.dropna(subset=["handover", "delivered"])
    done = done.loc[done["delivered"] >= done["handover"]]
    transit = pd.DataFrame(
        {
            "day": done["delivered"].dt.floor("D"),
            "hours": (done["delivered"] - done["handover"]).dt.total_seconds() / 3600.0,
        }
    )
    keys = scope_keys(ships.loc[transit.index], scopes)
    parts.append(_long(transit, keys, "transit_hours", "hours", "median"))

    if (ev["status"] == "exception").any() or "exception_category" in events:
        daily = ev.assign(
            day=ev["occurred_at"].dt.floor("D"), exc=(ev["status"] == "exception").astype(float)
        )
        daily = daily.groupby(["shipment_id", "day"], observed=True)["exc"].max().reset_index()
        keys = scope_keys(ships.loc[daily["shipment_id"].to_numpy()], scopes)
        parts.append(_long(daily, keys, "exception_rate", "exc", "mean"))

    parts.append(_silence(per, ev, ships, scopes, silence_hours, until))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    out["day"] = pd.to_datetime(out["day"], utc=True).dt.date
    return out.sort_values(["scope", "key", "metric", "day"], kind="stable").reset_index(drop=True)


def _silence(
    per: pd.DataFrame,
    ev: pd.DataFrame,
    ships: pd.DataFrame,
    scopes: Mapping[str, tuple[str, ...]],
    silence_hours: float,
    until: pd.Timestamp,
) -> pd.DataFrame:
    """Shipment x day grid of the parcels in the carrier's hands at each day's end."""
    open_ = per.dropna(subset=["handover"])
    first = open_["handover"].dt.floor("D")
    last_day = until.floor("D") - pd.Timedelta(days=1)
    stop = open_["ended"].fillna(until + pd.Timedelta(days=1)).dt.floor("D") - pd.Timedelta(days=1)
    stop = np.minimum(stop, first + pd.Timedelta(days=MAX_OPEN_DAYS))
    stop = np.minimum(stop, last_day)
    n_days = ((stop - first).dt.days + 1).clip(lower=0).to_numpy()
    if n_days.sum() == 0:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    ids = np.repeat(open_.index.to_numpy(), n_days)
    offsets = np.concatenate([np.arange(k) for k in n_days])
    day = pd.DatetimeIndex(np.repeat(first.to_numpy(), n_days)) + pd.to_timedelta(offsets, unit="D")
    grid = pd.DataFrame({"shipment_id": ids, "day": day})
    grid["day_end"] = grid["day"] + pd.Timedelta(days=1)
    grid = grid.sort_values("day_end", kind="stable")
    last = pd.merge_asof(
        grid,
        ev[["shipment_id", "occurred_at"]].rename(columns={"occurred_at": "last_at"}),
        left_on="day_end",
        right_on="last_at",
        by="shipment_id",
        direction="backward",
        allow_exact_matches=False,
    )
    age = (last["day_end"] - last["last_at"]).dt.total_seconds() / 3600.0
    last["silent"] = (age >= silence_hours).astype(float)
    keys = scope_keys(ships.loc[last["shipment_id"].to_numpy()], scopes)
    return _long(last, keys, "silent_share", "silent", "mean")


def busy_countries(shipments: pd.DataFrame, share: float = 0.10) -> list[str]:
    """Countries at either end of at least ``share`` of the shipments (zone ``DE-W`` -> DE)."""
    found: dict[str, float] = {}
    for col in ("origin_zone", "destination_zone"):
        if col in shipments and len(shipments):
            country = shipments[col].astype("string").str.split("-").str[0]
            for c, s in country.value_counts(normalize=True).items():
                found[str(c)] = max(found.get(str(c), 0.0), float(s))
    return sorted(c for c, s in found.items() if s >= share and len(c) == 2)


def detect(
    series: pd.DataFrame,
    config: BaselineConfig | None = None,
    countries: list[str] | tuple[str, ...] = (),
) -> pd.DataFrame:
    """Run the detector over every series (days in order); one row per series and day.
    Holidays of ``countries`` are excused (see ``baseline``)."""
    cfg = config or BaselineConfig()
    excused = (
        excused_days(countries, min(series["day"]), max(series["day"]))
        if countries and len(series)
        else set()
    )
    rows = []
    for (scope, key, metric), g in series.groupby(["scope", "key", "metric"], sort=True):
        obs = [
            Observation(d, float(v), int(c), float(sp))
            for d, v, c, sp in zip(g["day"], g["value"], g["count"], g["spread"], strict=True)
        ]
        for v in run_series(str(metric), obs, cfg, excused):
            rows.append(
                (
                    v.day,
                    scope,
                    key,
                    metric,
                    v.value,
                    v.count,
                    v.expected,
                    v.scale,
                    v.z,
                    v.active,
                    v.event,
                    v.started,
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "day",
            "scope",
            "key",
            "metric",
            "value",
            "count",
            "expected",
            "scale",
            "z",
            "active",
            "event",
            "started",
        ],
    )

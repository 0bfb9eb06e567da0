"""Features of a carrier quote at booking time - one code path for training and serving.

A quote row is a carrier's offer for a shipment, joined with what Waybill knows about the
shipment when it books (``QUOTE_COLUMNS``). Only booking-time facts are used: the carrier,
account and service; the lane; the parcel; the weekday and the hour the parcel is ready against
the pickup day the carrier's cut-off allows; the season; the promise; and *lane history* -
smoothed late and exception rates of earlier booked shipments per (account, destination zone),
per (service, origin zone, destination zone), and per account over the recent weeks (carrier
quality drifts). Outcomes never enter a feature of the same row.

Lane history has two forms with the same columns:

* ``lane_history_asof(rows, outcomes)`` for training rows: each row sees only outcomes that
  were known ``lag_days`` before it was booked (no leakage across time);
* ``LaneHistory.build(outcomes)`` - the frozen tables shipped inside a model, which serving
  looks up with ``LaneHistory.lookup(rows)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

# Columns a quote row may carry (the serving input); only the first four are required.
REQUIRED_COLUMNS: tuple[str, ...] = ("shipment_id", "carrier", "service", "price")
QUOTE_COLUMNS: tuple[str, ...] = (
    *REQUIRED_COLUMNS,
    "carrier_account", "service_level", "currency", "billable_weight_kg", "pickup_date",
    "promised_transit_days", "promised_date",
    # shipment context
    "created_at", "ship_at", "warehouse", "origin_country", "origin_zone", "destination_country",
    "destination_zone", "distance_class", "lane_distance_km", "is_international",
    "needs_customs", "is_return", "weight_kg", "length_cm", "width_cm", "height_cm",
    "declared_value", "order_value", "dangerous_goods", "incoterm", "goods_category",
    "customer_tier", "customer_type", "requested_service_level",
)
CATEGORICAL: tuple[str, ...] = (
    "carrier", "carrier_account", "service", "service_level", "warehouse", "origin_zone",
    "destination_zone", "destination_country", "distance_class", "customer_type", "incoterm",
    "goods_category",
)
NUMERIC: tuple[str, ...] = (
    "price", "promised_transit_days", "promise_calendar_days", "pickup_lag_days",
    "pickup_weekday", "promise_weekday", "ready_hour", "season_days_to_peak",
    "weight_kg", "billable_weight_kg", "volume_l", "declared_value", "lane_distance_km",
    "needs_customs", "is_international", "is_return", "dangerous_goods",
)
HISTORY_GROUPS: dict[str, tuple[str, ...]] = {
    "acct_dest": ("carrier_account", "destination_zone"),
    "lane": ("service", "origin_zone", "destination_zone"),
    "acct_recent": ("carrier_account",),
}
HISTORY: tuple[str, ...] = tuple(
    f"{g}_{s}" for g in HISTORY_GROUPS for s in ("late_rate", "exception_rate", "n"))
FEATURES: tuple[str, ...] = CATEGORICAL + NUMERIC + HISTORY
PEAK_MONTH_DAY = (12, 10)  # middle of the parcel peak (Black Friday to Christmas)
MISSING = "__missing__"


# -- normalizing the input ---------------------------------------------------------------------
def _utc(s: pd.Series) -> pd.Series:
    out = pd.to_datetime(s, utc=True, errors="coerce", format="mixed")
    return out.astype("datetime64[us, UTC]")


def _day(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert(None)
    out = pd.to_datetime(s, errors="coerce", format="mixed")
    if isinstance(out.dtype, pd.DatetimeTZDtype):
        out = out.dt.tz_convert(None)
    return out.dt.normalize().astype("datetime64[us]")


def _by_unique(s: pd.Series, fn: Any, na: Any) -> np.ndarray:
    """``fn`` applied once per distinct value (fast on 10^6 rows of a few values)."""
    codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
    mapped = np.array([fn(u) for u in uniques] + [na], dtype=object)
    return mapped[np.where(codes >= 0, codes, len(uniques))]


def _text(s: pd.Series) -> pd.Series:
    return pd.Series(_by_unique(s, str, None), index=s.index, dtype=object)


def _truthy(v: Any) -> float:
    if isinstance(v, float) and np.isnan(v):
        return np.nan
    return float(str(v).strip().lower() in ("1", "true", "yes", "t", "1.0"))


def _flag(s: pd.Series) -> pd.Series:
    return pd.Series(_by_unique(s, _truthy, np.nan), index=s.index).astype(float)


def prepare_quotes(frame: pd.DataFrame, *, now: datetime | None = None) -> pd.DataFrame:
    """Every ``QUOTE_COLUMNS`` column with its type; missing optional columns are null.

    Defaults: the account is the carrier when unknown, the booking time is ``now``, the ready
    time the booking time, the pickup day the ready day.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"quotes need the columns {', '.join(missing)}")
    df = pd.DataFrame(index=frame.index)
    for col in QUOTE_COLUMNS:
        df[col] = frame[col] if col in frame.columns else pd.Series(
            [None] * len(frame), index=frame.index, dtype=object)
    text_cols = ("shipment_id", *CATEGORICAL, "currency", "origin_country", "customer_tier",
                 "requested_service_level")
    for col in text_cols:
        df[col] = _text(df[col])
    df["carrier_account"] = df["carrier_account"].fillna(df["carrier"])
    for col in ("price", "billable_weight_kg", "promised_transit_days", "lane_distance_km",
                "weight_kg", "length_cm", "width_cm", "height_cm", "declared_value",
                "order_value"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    for col in ("is_international", "needs_customs", "is_return", "dangerous_goods"):
        df[col] = _flag(df[col])
    moment = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC")
    df["created_at"] = _utc(df["created_at"]).fillna(moment)
    df["ship_at"] = _utc(df["ship_at"]).fillna(df["created_at"])
    df["pickup_date"] = _day(df["pickup_date"]).fillna(_day(df["ship_at"]))
    df["promised_date"] = _day(df["promised_date"])
    return df


# -- features ----------------------------------------------------------------------------------
def season_days_to_peak(when: pd.Series) -> np.ndarray:
    """Signed days from each date to the nearest 10 December, in -182..182."""
    d = when.dt.tz_convert(None) if isinstance(when.dtype, pd.DatetimeTZDtype) else when
    d = d.dt.normalize()
    year = d.dt.year.to_numpy()
    month, day = PEAK_MONTH_DAY
    peak = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}))
    delta = (d.to_numpy() - peak.to_numpy()).astype("timedelta64[D]").astype(float)
    return np.where(delta > 182, delta - 365, np.where(delta < -182, delta + 365, delta))


def quote_features(quotes: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """The model matrix (``FEATURES`` in order) of prepared quotes plus their lane history."""
    q = quotes
    x = pd.DataFrame(index=q.index)
    for col in CATEGORICAL:
        x[col] = q[col].fillna(MISSING).astype(str)
    x["price"] = q["price"]
    x["promised_transit_days"] = q["promised_transit_days"]
    x["promise_calendar_days"] = (q["promised_date"] - q["pickup_date"]).dt.days.astype(float)
    ready_day = _day(q["ship_at"])
    x["pickup_lag_days"] = (q["pickup_date"] - ready_day).dt.days.astype(float)
    x["pickup_weekday"] = q["pickup_date"].dt.day_of_week.astype(float)
    x["promise_weekday"] = q["promised_date"].dt.day_of_week.astype(float)
    ready = q["ship_at"]
    x["ready_hour"] = (ready.dt.hour + ready.dt.minute / 60).astype(float)
    x["season_days_to_peak"] = season_days_to_peak(q["created_at"])
    x["weight_kg"] = q["weight_kg"]
    x["billable_weight_kg"] = q["billable_weight_kg"].fillna(q["weight_kg"])
    x["volume_l"] = q["length_cm"] * q["width_cm"] * q["height_cm"] / 1000.0
    x["declared_value"] = q["declared_value"]
    x["lane_distance_km"] = q["lane_distance_km"]
    for col in ("needs_customs", "is_international", "is_return", "dangerous_goods"):
        x[col] = q[col]
    if history is None:
        history = pd.DataFrame({c: np.nan for c in HISTORY}, index=q.index)
    for col in HISTORY:
        x[col] = history[col].to_numpy(dtype=float)
    return x[list(FEATURES)]


def as_categorical(x: pd.DataFrame, categories: Mapping[str, list[str]]) -> pd.DataFrame:
    """Categorical columns with the training vocabularies (unseen values become null)."""
    out = x.copy()
    for col in CATEGORICAL:
        known = categories.get(col, [])
        values = out[col].where(out[col].isin(known))
        out[col] = pd.Categorical(values, categories=known)
    return out


# -- eligibility -------------------------------------------------------------------------------
def eligible_mask(quotes: pd.DataFrame) -> np.ndarray:
    """Quotes matching what the customer paid for: express requests take express services,
    standard requests anything else; a shipment with no matching quote may take any."""
    level = quotes["service_level"].astype(object).to_numpy()
    req = quotes["requested_service_level"].astype(object).to_numpy()
    express = level == "express"
    ok = np.where(req == "express", express, np.where(req == "standard", ~express, True))
    sid = quotes["shipment_id"].astype(str).to_numpy()
    any_ok = pd.Series(ok).groupby(sid).transform("any").to_numpy()
    return ok | ~any_ok


# -- outcomes and lane history -----------------------------------------------------------------
def outcome_labels(delivered_on_time: pd.Series, had_exception: pd.Series
                   ) -> tuple[pd.Series, pd.Series]:
    """(late, exception) as floats; null where the outcome is unknown (e.g. cancelled)."""
    on_time = delivered_on_time.astype("boolean")
    late = (~on_time).astype("Float64").astype(float)
    exc = had_exception.astype("boolean").astype("Float64").astype(float)
    return late, exc


def _day_number(ts: pd.Series) -> np.ndarray:
    d = ts.dt.tz_convert(None) if isinstance(ts.dtype, pd.DatetimeTZDtype) else ts
    return (d.to_numpy().astype("datetime64[D]").astype(np.int64))


def _keys(frame: pd.DataFrame, cols: tuple[str, ...]) -> pd.Series:
    parts = [frame[c].astype(object).where(frame[c].notna(), MISSING).astype(str) for c in cols]
    key = parts[0]
    for p in parts[1:]:
        key = key + "|" + p
    return key


def _daily_cumulative(outcomes: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    """Per key and outcome day: cumulative counts of known late / exception outcomes."""
    day = _day_number(outcomes["created_at"])
    late, exc = outcomes["late"].to_numpy(float), outcomes["exception"].to_numpy(float)
    g = pd.DataFrame({
        "key": _keys(outcomes, cols).to_numpy(), "day": day,
        "n_late": np.isfinite(late).astype(float), "late": np.nan_to_num(late),
        "n_exc": np.isfinite(exc).astype(float), "exc": np.nan_to_num(exc),
    }).groupby(["key", "day"], sort=True).sum().reset_index()
    sums = g.groupby("key")[["n_late", "late", "n_exc", "exc"]].cumsum()
    g[["n_late", "late", "n_exc", "exc"]] = sums
    return g


def _priors(outcomes: pd.DataFrame) -> dict[str, float]:
    late = float(np.nanmean(outcomes["late"].to_numpy(float))) if len(outcomes) else np.nan
    exc = float(np.nanmean(outcomes["exception"].to_numpy(float))) if len(outcomes) else np.nan
    return {"late": 0.2 if np.isnan(late) else late, "exception": 0.1 if np.isnan(exc) else exc}


def _smooth(group: str, sums: pd.DataFrame, priors: Mapping[str, float], strength: float
            ) -> pd.DataFrame:
    n_late = sums["n_late"].fillna(0.0)
    n_exc = sums["n_exc"].fillna(0.0)
    return pd.DataFrame({
        f"{group}_late_rate": (sums["late"].fillna(0.0) + strength * priors["late"])
        / (n_late + strength),
        f"{group}_exception_rate": (sums["exc"].fillna(0.0) + strength * priors["exception"])
        / (n_exc + strength),
        f"{group}_n": n_late,
    })


def _asof(left_key: np.ndarray, left_day: np.ndarray, table: pd.DataFrame) -> pd.DataFrame:
    """Cumulative sums of each (key, day) at the last table day <= day."""
    cols = ["n_late", "late", "n_exc", "exc"]
    left = pd.DataFrame({"key": left_key, "day": left_day, "_pos": np.arange(len(left_key))})
    merged = pd.merge_asof(left.sort_values("day"), table.sort_values("day"), on="day",
                           by="key", direction="backward")
    return merged.sort_values("_pos")[cols].reset_index(drop=True)


@dataclass
class HistoryConfig:
    lag_days: int = 14         # outcomes become known about two weeks after booking
    recent_days: int = 56      # the "recent" window of account quality
    strength: float = 20.0     # pseudo-observations of the overall rate (smoothing)


def lane_history_asof(rows: pd.DataFrame, outcomes: pd.DataFrame,
                      config: HistoryConfig | None = None) -> pd.DataFrame:
    """Lane history each row could have known when it was booked (training)."""
    cfg = config or HistoryConfig()
    priors = _priors(outcomes)
    day = _day_number(rows["created_at"]) - cfg.lag_days
    parts = []
    for group, cols in HISTORY_GROUPS.items():
        table = _daily_cumulative(outcomes, cols)
        key = _keys(rows, cols).to_numpy()
        sums = _asof(key, day, table)
        if group == "acct_recent":
            before = _asof(key, day - cfg.recent_days, table).fillna(0.0)
            sums = sums.fillna(0.0) - before
        parts.append(_smooth(group, sums, priors, cfg.strength))
    out = pd.concat(parts, axis=1)
    out.index = rows.index
    return out[list(HISTORY)]


@dataclass
class LaneHistory:
    """Frozen lane history (as of the newest outcome a model was trained with)."""

    tables: dict[str, dict[str, tuple[float, float, float, float]]] = field(default_factory=dict)
    priors: dict[str, float] = field(default_factory=lambda: {"late": 0.2, "exception": 0.1})
    as_of: str | None = None
    strength: float = 20.0

    @classmethod
    def build(cls, outcomes: pd.DataFrame, config: HistoryConfig | None = None) -> LaneHistory:
        cfg = config or HistoryConfig()
        tables: dict[str, dict[str, tuple[float, float, float, float]]] = {}
        if len(outcomes) == 0:
            return cls(tables={g: {} for g in HISTORY_GROUPS}, strength=cfg.strength)
        last_day = int(_day_number(outcomes["created_at"]).max())
        for group, cols in HISTORY_GROUPS.items():
            sub = outcomes
            if group == "acct_recent":
                keep = _day_number(outcomes["created_at"]) > last_day - cfg.recent_days
                sub = outcomes.loc[keep]
            table = _daily_cumulative(sub, cols).groupby("key").last()
            tables[group] = {k: (r.n_late, r.late, r.n_exc, r.exc)
                             for k, r in table.iterrows()}
        as_of = str(np.datetime64(last_day, "D"))
        return cls(tables=tables, priors=_priors(outcomes), as_of=as_of, strength=cfg.strength)

    def lookup(self, rows: pd.DataFrame) -> pd.DataFrame:
        parts = []
        for group, cols in HISTORY_GROUPS.items():
            table = self.tables.get(group, {})
            keys = _keys(rows, cols).to_numpy()
            vals = np.array([table.get(k, (np.nan,) * 4) for k in keys], dtype=float).reshape(
                len(keys), 4)
            sums = pd.DataFrame(vals, columns=["n_late", "late", "n_exc", "exc"])
            parts.append(_smooth(group, sums, self.priors, self.strength))
        out = pd.concat(parts, axis=1) if parts else pd.DataFrame(columns=list(HISTORY))
        out.index = rows.index
        return out[list(HISTORY)]

    def summary(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "priors": self.priors,
                "keys": {g: len(t) for g, t in self.tables.items()}}

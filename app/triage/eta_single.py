"""One shipment's ETA without DataFrames: the path the service runs on every status change.

:func:`app.triage.eta.predict_for_shipment` used to build a one-row frame and push it through
the batch feature code (:mod:`app.triage.eta_features`), where pandas' per-call machinery cost
60-350 ms a shipment. This module computes the *same* values for one row with scalar
``pd.Timestamp`` arithmetic (the same time-zone and rounding code as the vectorized path), the
same numpy calendars, and dict look-ups into the frozen history indices, in well under a
millisecond. ``tests/eta/test_single_path.py`` holds it to the batch path: same features, same
predictions.

Rows it does not recognise (values of unusual types, ``ev_*`` columns supplied without
events, predictors it does not know) return ``None`` and take the batch path, so the fast path
never has to guess what pandas would have inferred.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from app.models.enums import TrackingStatus
from app.triage.eta_calendar import holiday_days
from app.triage.eta_features import (
    _BIG,
    _EPOCH,
    _RANK,
    COUNTRY_TZ,
    DEFAULT_TZ,
    EPOCH_DAY,
    EVENT_CATEGORICAL,
    EVENT_COLUMNS,
    HOUR,
    MON_FRI,
    PROMISE_DUE_HOUR,
    PROMISE_POINT_HOUR,
    QUANTILE_COLUMNS,
    STAGES,
    WAYBILL_CATEGORICAL,
    WAYBILL_NUMERIC,
    ZONE_TZ,
    EtaFeaturizer,
    HistoryIndex,
    _busdaycal,
    _business_days,
    numeric_column,
    season_features,
    to_dates,
    to_utc_timestamps,
)

Ts = pd.Timestamp | None  # None stands for NaT throughout
NAN = float("nan")
_NOT_SCANS = frozenset(
    {
        TrackingStatus.INFO_RECEIVED.value,
        TrackingStatus.CANCELLED.value,
        TrackingStatus.UNKNOWN.value,
    }
)
_EXCEPTION = TrackingStatus.EXCEPTION.value
_OFD = TrackingStatus.OUT_FOR_DELIVERY.value
# the categorical columns, plus the origin country (it selects the origin's time zone)
_TEXT_KEYS = (*WAYBILL_CATEGORICAL, "origin_country")


class Unsupported(Exception):
    """A value the fast path does not reproduce exactly: take the batch path instead."""


# -- scalar conversions, each the one-value case of its batch counterpart ----------------------
def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


@lru_cache(maxsize=4096)
def _utc_text(text: str) -> Ts:
    ts = to_utc_timestamps(pd.Series([text], dtype=object)).iloc[0]
    return None if pd.isna(ts) else ts


@lru_cache(maxsize=4096)
def _date_text(text: str) -> Ts:
    day = to_dates(pd.Series([text], dtype=object)).iloc[0]
    return None if pd.isna(day) else day


def utc(value: Any) -> Ts:
    """:func:`to_utc_timestamps` of one value (naive = UTC)."""
    if _is_missing(value):
        return None
    if isinstance(value, str):
        return _utc_text(value)
    if isinstance(value, datetime | np.datetime64):  # pd.Timestamp is a datetime
        ts = pd.Timestamp(value)
        if ts is pd.NaT:
            return None
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.as_unit("ns")
    raise Unsupported(type(value).__name__)


def day_of(value: Any) -> Ts:
    """:func:`to_dates` of one value: a naive midnight."""
    if _is_missing(value):
        return None
    if isinstance(value, str):
        return _date_text(value)
    if isinstance(value, datetime | np.datetime64):
        ts = pd.Timestamp(value)
        if ts is pd.NaT:
            return None
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        return ts.normalize().as_unit("ns")
    raise Unsupported(type(value).__name__)


@lru_cache(maxsize=1024)
def _numeric_text(text: str) -> float:
    return float(numeric_column(pd.Series([text])).iloc[0])


@lru_cache(maxsize=1024)
def _to_numeric_text(text: str) -> float:
    return float(pd.to_numeric(pd.Series([text]), errors="coerce").astype(float).iloc[0])


def numeric(value: Any, *, text_booleans: bool = True) -> float:
    """:func:`numeric_column` (or ``pd.to_numeric`` without the true/false words) of one value."""
    if _is_missing(value):
        return NAN
    if isinstance(value, bool | np.bool_ | int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        return _numeric_text(value) if text_booleans else _to_numeric_text(value)
    raise Unsupported(type(value).__name__)


def text(value: Any) -> str | None:
    """``astype("string")`` of one value (``None`` when missing)."""
    if _is_missing(value):
        return None
    if type(value) is str:
        return value
    raise Unsupported(type(value).__name__)


def timezone(zone: Any, country: Any) -> str:
    """:func:`timezones` of one row."""
    over = ZONE_TZ.get(zone) if isinstance(zone, str) else None
    if over is not None:
        return over
    tz = COUNTRY_TZ.get(country) if isinstance(country, str) else None
    return tz if tz is not None else DEFAULT_TZ


@cache
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


_MICROSECOND = timedelta(microseconds=1)


def _offset_ns(aware: datetime) -> int:
    """The UTC offset of a zone-aware datetime, in nanoseconds (zoneinfo gives whole µs)."""
    return (aware.utcoffset() or timedelta(0)) // _MICROSECOND * 1000


def to_local(ts: Ts, tz: str) -> Ts:
    """``ts.tz_convert(tz).tz_localize(None)``, by the zone's offset at that instant.

    pandas' per-scalar time-zone calls cost about 70 µs each on a small machine, and one ETA
    makes a dozen of them. The offset comes from the same tz database through ``zoneinfo``;
    the microsecond floor used to look it up cannot cross a transition (they fall on whole
    seconds), and the value keeps its nanoseconds and unit.
    """
    if ts is None:
        return None
    offset = _offset_ns(ts.to_pydatetime(warn=False).astimezone(_zone(tz)))
    return pd.Timestamp(ts.value + offset).as_unit(ts.unit)


def local_to_utc(naive: Ts, tz: str) -> Ts:
    """``naive.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")`` in UTC.

    A local time with one reading (both folds give the same offset) is converted by that
    offset; the hour a clock change repeats or skips goes through pandas' own rules.
    """
    if naive is None:
        return None
    local = naive.to_pydatetime(warn=False)
    zone = _zone(tz)
    offset = _offset_ns(local.replace(tzinfo=zone, fold=0))
    if offset != _offset_ns(local.replace(tzinfo=zone, fold=1)):
        return naive.tz_localize(tz, ambiguous=False, nonexistent="shift_forward").tz_convert("UTC")
    return pd.Timestamp(naive.value - offset, tz="UTC").as_unit(naive.unit)


def hours(later: Ts, earlier: Ts) -> float:
    if later is None or earlier is None:
        return NAN
    return (later - earlier).total_seconds() / HOUR


def _day64(day: Ts) -> np.datetime64:
    if day is None:
        return np.datetime64("NaT", "D")
    return np.datetime64(day.value, "ns").astype("datetime64[D]")


def _cal_key(country: Any) -> str | None:
    """The calendar a country value selects in the batch code (NaN selects none there)."""
    return None if isinstance(country, float) else str(country)


def busdays_between(start: Ts, end: Ts, country: Any) -> float:
    key = _cal_key(country)
    if start is None or end is None or key is None:
        return NAN
    return float(np.busday_count(_day64(start), _day64(end), busdaycal=_busdaycal(key)))


def calendar_ahead(day: Ts, country: Any, horizon: int) -> tuple[float, float]:
    key = _cal_key(country)
    if day is None or key is None:
        return 0.0, NAN
    d = _day64(day)
    hol = holiday_days(key)
    n_hol = int(np.searchsorted(hol, d + horizon)) - int(np.searchsorted(hol, d))
    n_bus = int(np.busday_count(d, d + horizon, busdaycal=_busdaycal(key)))
    return float(n_hol), float(n_bus)


def business_clock(ts: Ts, tz: str, country: Any, weekmask: str) -> float:
    """:func:`app.triage.eta_features.business_clock` of one instant."""
    local = to_local(ts, tz)
    if local is None:
        return NAN
    day = local.normalize()
    frac = (local - day).total_seconds() / 86400.0
    d = _day64(day)
    cal = _busdaycal(str(country), str(weekmask))
    n = int(np.busday_count(EPOCH_DAY, d, busdaycal=cal))
    return float(n) + (frac if bool(np.is_busday(d, busdaycal=cal)) else 0.0)


def from_business_clock(bt: float, tz: str, country: Any, weekmask: str) -> Ts:
    """:func:`app.triage.eta_features.from_business_clock` of one reading."""
    if not math.isfinite(bt):
        return None
    k = int(np.floor(bt))
    frac = bt - k
    table = _business_days(str(country), str(weekmask))
    if 0 <= k < len(table):
        day = table[k]
    else:
        day = np.busday_offset(
            EPOCH_DAY, k, roll="forward", busdaycal=_busdaycal(str(country), str(weekmask))
        )
    naive = pd.Timestamp(day.astype("datetime64[ns]")) + pd.Timedelta(
        seconds=int(np.round(frac * 86400.0))
    )
    return local_to_utc(naive, tz)


def first_time(row: Mapping[str, Any], columns: Sequence[str]) -> Ts:
    for col in columns:
        if col in row:
            ts = utc(row[col])
            if ts is not None:
                return ts
    return None


# -- tracking state ------------------------------------------------------------------------------
def _check_event(event: Mapping[str, Any]) -> None:
    """Events the batch path would read differently (or reject) take the batch path."""
    if "occurred_at" not in event or "status" not in event or "seq" in event:
        raise Unsupported("event keys")
    for key in ("exception_category", "location_zone", "location_country"):
        value = event.get(key)
        if not (_is_missing(value) or type(value) is str):
            raise Unsupported(key)


def tracking_state(events: Sequence[Mapping[str, Any]], as_of: Ts) -> dict[str, Any]:
    """``event_state(event_history(events), as_of)`` of one shipment, as a dict of ``ev_*``."""
    state: dict[str, Any] = dict.fromkeys(EVENT_COLUMNS)
    state.update(ev_n=0.0, ev_scans=0.0, ev_exceptions=0.0, ev_ofd=0.0, ev_rank=-1.0)
    if as_of is None:
        return state
    timed = []
    for seq, e in enumerate(events):
        _check_event(e)
        at = utc(e["occurred_at"])
        if at is not None:
            timed.append((at.value, seq, e))
    timed.sort(key=lambda t: (t[0], t[1]))
    limit = as_of.value
    n = scans = exceptions = ofd = 0.0
    rank = -1.0
    first_scan: int | None = None
    zone = country = last_exc = None
    for at_ns, _, e in timed:
        if at_ns > limit:
            break
        status = e["status"]
        status = str(getattr(status, "value", status))
        n += 1.0
        is_scan = status not in _NOT_SCANS
        scans += is_scan
        if status == _EXCEPTION:
            exceptions += 1.0
            cat = e.get("exception_category")
            last_exc = "unclassified" if _is_missing(cat) else cat
        ofd += status == _OFD
        rank = max(rank, float(_RANK.get(status, -1)))
        if is_scan and first_scan is None:
            first_scan = at_ns
        z, c = e.get("location_zone"), e.get("location_country")
        zone = zone if _is_missing(z) else z
        country = country if _is_missing(c) else c
        state.update(
            ev_n=n,
            ev_scans=scans,
            ev_exceptions=exceptions,
            ev_ofd=ofd,
            ev_rank=rank,
            ev_status=status,
            ev_last_at=pd.Timestamp(at_ns, tz="UTC"),
            ev_first_scan_at=None if first_scan is None else pd.Timestamp(first_scan, tz="UTC"),
            ev_zone=zone,
            ev_country=country,
            ev_last_exception=last_exc,
        )
    return state


# -- cached look-ups of a fitted featurizer ------------------------------------------------------
@dataclass
class _Lookups:
    categories: dict[str, dict[str, int]]
    history_keys: dict[str, dict[str, int]]
    column_index: dict[str, int]


_LOOKUPS: dict[int, tuple[weakref.ref[EtaFeaturizer], _Lookups]] = {}


def lookups(featurizer: EtaFeaturizer) -> _Lookups:
    """Category codes and history keys as dicts, built once per fitted featurizer."""
    hit = _LOOKUPS.get(id(featurizer))
    if hit is not None and hit[0]() is featurizer:
        return hit[1]
    found = _Lookups(
        categories={c: {v: i for i, v in enumerate(vs)} for c, vs in featurizer.categories.items()},
        history_keys={
            name: {str(k): i for i, k in enumerate(index.keys)}
            for name, index in featurizer.history.items()
        },
        column_index={c: i for i, c in enumerate(featurizer.columns)},
    )
    key = id(featurizer)
    _LOOKUPS[key] = (weakref.ref(featurizer, lambda _: _LOOKUPS.pop(key, None)), found)
    return found


def _seconds(ts: Ts) -> int:
    if ts is None:
        return int(_BIG - 1)
    secs = int((np.datetime64(ts.value, "ns").astype("datetime64[s]") - _EPOCH).astype(np.int64))
    return min(max(secs, 0), int(_BIG - 1))


def history_query(index: HistoryIndex, code: int | None, at: Ts) -> tuple[int, np.ndarray]:
    """:meth:`HistoryIndex.query` of one key (``code`` None: unknown) at one time."""
    t = np.int64(_seconds(at))
    c = np.int64(0 if code is None else code)
    end_t, start_t = t, np.int64(0)
    if index.window_days is not None:
        end_t = np.minimum(t, np.int64(index.last_time + 1))
        start_t = np.maximum(end_t - np.int64(int(index.window_days * 86400)), np.int64(0))
    end = int(np.searchsorted(index.stamp, c * _BIG + end_t, side="left"))
    start = int(np.searchsorted(index.stamp, c * _BIG + start_t, side="left"))
    n = end - start if code is not None else 0
    sums = index.csum[end] - index.csum[start]
    if code is None:
        sums = np.zeros_like(sums)
    g_end = int(np.searchsorted(index.times, end_t, side="left"))
    g_start = int(np.searchsorted(index.times, start_t, side="left"))
    prior = (index.total[g_end] - index.total[g_start]) / np.maximum(
        np.int64(g_end - g_start), np.int64(1)
    )
    means = (sums + index.prior_n * prior) / (np.int64(n) + index.prior_n)
    return n, means


# -- the row ---------------------------------------------------------------------------------
@dataclass
class SingleRow:
    """One shipment as the batch path's one-row frame: the shipment's columns, ``as_of`` and
    the tracking state, with its times resolved once."""

    values: dict[str, Any]
    anchor: Ts
    as_of_raw: Ts  # the frame's ``as_of`` column (absent: None and ``has_as_of`` False)
    has_as_of: bool


def single_row(
    shipment: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    as_of: datetime | None,
) -> SingleRow:
    """What :func:`app.triage.eta.shipment_frame` builds, as a dict."""
    values = dict(shipment)
    for key in _TEXT_KEYS:  # zones and countries also select time zones and calendars
        if key in values and not (_is_missing(values[key]) or type(values[key]) is str):
            raise Unsupported(key)
    if not events and any(c in values for c in EVENT_COLUMNS):
        raise Unsupported("ev_* columns without events")
    if as_of is not None:
        stamp = pd.Timestamp(as_of)
        at: Ts = stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
        at = None if at is pd.NaT else at.as_unit("ns")
        values["as_of"] = at
    elif events:
        times = [t for t in (utc(e.get("occurred_at")) for e in events) if t is not None]
        values["as_of"] = max(times) if times else None
    if events and "as_of" in values:
        values.update(tracking_state(events, values["as_of"]))
    has_as_of = "as_of" in values
    anchor = first_time(values, ("ship_at", "booked_at", "created_at"))
    return SingleRow(values, anchor, utc(values["as_of"]) if has_as_of else None, has_as_of)


@dataclass
class SingleFeatures:
    """:class:`app.triage.eta_features.FeatureSet` of one row."""

    x: np.ndarray  # float32, ``featurizer.columns`` order
    named: dict[str, float]
    anchor: Ts
    start_h: float
    stage: int
    tz_dest: str
    dest_country: Any
    weekmask: str
    bt_start: float


def featurize(featurizer: EtaFeaturizer, row: SingleRow) -> SingleFeatures:
    """:meth:`EtaFeaturizer.transform` of one waybill row."""
    if featurizer.kind != "waybill" or not featurizer.columns:
        raise Unsupported("featurizer")
    v = row.values
    anchor = row.anchor
    as_of = first_time(v, ("as_of", "booked_at", "created_at")) or anchor
    start = as_of if (as_of is not None and anchor is not None and as_of > anchor) else anchor
    tz_o = timezone(v.get("origin_zone"), v.get("origin_country"))
    tz_d = timezone(v.get("destination_zone"), v.get("destination_country"))
    X: dict[str, float] = {}
    local = to_local(anchor, tz_o)
    day = None if local is None else local.normalize()
    X["anchor_hour"] = hours(local, day)
    X["anchor_weekday"] = NAN if local is None else float(local.day_of_week)
    promised = day_of(v["promised_date"]) if "promised_date" in v else None
    point_hour = pd.Timedelta(hours=PROMISE_POINT_HOUR["waybill"])
    point = local_to_utc(promised + point_hour, tz_d) if promised is not None else None
    promise_h = hours(point, anchor)
    X["promise_hours"] = promise_h
    X["promise_cal_days"] = NAN if promised is None or day is None else float((promised - day).days)
    dest_c = v.get("destination_country")
    X["promise_bus_days"] = busdays_between(day, promised, dest_c)
    X["holidays_ahead"], X["busdays_ahead"] = calendar_ahead(day, dest_c, 14)
    for name, values in season_features(np.array([_day64(day)])).items():
        X[name] = float(values[0])
    for c in WAYBILL_NUMERIC:
        X[c] = numeric(v[c]) if c in v else NAN
    dims = [numeric(v.get(c), text_booleans=False) for c in ("length_cm", "width_cm", "height_cm")]
    X["volume_l"] = dims[0] * dims[1] * dims[2] / 1000.0
    present = [d for d in dims if not math.isnan(d)]
    X["max_side_cm"] = max(present) if present else NAN
    X["holidays_origin_3d"] = calendar_ahead(day, v.get("origin_country"), 3)[0]
    carrier = text(v["carrier"]) if "carrier" in v else None
    default_mask = featurizer.weekmasks.get("*", MON_FRI)
    weekmask = (
        featurizer.weekmasks.get(carrier, default_mask) if carrier is not None else default_mask
    )
    bt_anchor = business_clock(anchor, tz_d, dest_c, weekmask)
    bt_start = business_clock(start, tz_d, dest_c, weekmask)
    due_hour = pd.Timedelta(hours=PROMISE_DUE_HOUR["waybill"])
    due = local_to_utc(promised + due_hour, tz_d) if promised is not None else None
    bt_due = business_clock(due, tz_d, dest_c, weekmask)
    X["promise_bt"] = bt_due - bt_anchor
    X["saturday_delivery"] = float(weekmask[5] == "1")
    if "carrier" in v:
        cut = featurizer.handover_hours.get(carrier, NAN) if carrier is not None else NAN
        X["hours_to_handover"] = float(cut) - X["anchor_hour"]
    state = {c: v.get(c) for c in EVENT_COLUMNS}
    for c in ("ev_n", "ev_scans", "ev_exceptions", "ev_ofd"):
        state[c] = 0.0 if _is_missing(state[c]) else float(state[c])
    state["ev_rank"] = -1.0 if _is_missing(state["ev_rank"]) else float(state["ev_rank"])
    stage = 2 if state["ev_rank"] >= 2 else (1 if state["ev_scans"] >= 1 else 0)
    X["stage"] = float(stage)
    X["elapsed_h"] = hours(start, anchor)
    for c in ("ev_n", "ev_scans", "ev_exceptions", "ev_ofd", "ev_rank"):
        X[c] = state[c]
    X["since_last_event_h"] = hours(as_of, state["ev_last_at"])
    X["since_first_scan_h"] = hours(as_of, state["ev_first_scan_at"])
    zone, country = state["ev_zone"], state["ev_country"]
    X["at_destination_zone"] = (
        NAN if _is_missing(zone) else float(zone == v.get("destination_zone"))
    )
    X["at_destination_country"] = NAN if _is_missing(country) else float(country == dest_c)
    now_local = to_local(start, tz_d)
    now_day = None if now_local is None else now_local.normalize()
    X["now_hour_dest"] = hours(now_local, now_day)
    X["now_weekday_dest"] = NAN if now_local is None else float(now_local.day_of_week)
    X["promise_left_h"] = hours(point, start)
    X["promise_left_bus_days"] = busdays_between(now_day, promised, dest_c)
    X["elapsed_bt"] = bt_start - bt_anchor
    X["promise_left_bt"] = bt_due - bt_start
    look = lookups(featurizer)
    for spec in featurizer.specs:
        index = featurizer.history.get(spec.name)
        if index is None or not all(k in v for k in spec.keys):
            for name in spec.values:
                X[f"hist_{spec.name}_{name}"] = NAN
            continue
        key = "|".join(text(v[k]) or "?" for k in spec.keys)
        n, means = history_query(index, look.history_keys[spec.name].get(key), as_of)
        if spec.with_count:
            X[f"hist_{spec.name}_n"] = float(np.float32(np.log1p(np.int64(n))))
        for j, name in enumerate(spec.values):
            X[f"hist_{spec.name}_{name}"] = float(means[j])
    for c in featurizer.categorical:
        if c in EVENT_CATEGORICAL:
            raw = None if _is_missing(state[c]) else state[c]
        else:
            raw = text(v[c]) if c in v else None
        code = look.categories.get(c, {}).get(raw) if isinstance(raw, str) else None
        X[c] = NAN if code is None else float(code)
    x = np.array([X.get(c, NAN) for c in featurizer.columns], dtype=np.float32)
    start_h = hours(start, anchor)
    return SingleFeatures(
        x=x,
        named=X,
        anchor=anchor,
        start_h=max(start_h, 0.0) if not math.isnan(start_h) else NAN,
        stage=stage,
        tz_dest=tz_d,
        dest_country=dest_c,
        weekmask=weekmask,
        bt_start=bt_start,
    )


# -- predictors --------------------------------------------------------------------------------
def model_hours(model: Any, row: SingleRow) -> tuple[np.ndarray, int]:
    """:meth:`EtaModel.predict` (quantile hours from the anchor) and the stage of one row."""
    fs = featurize(model.featurizer, row)
    X = fs.x.reshape(1, -1)
    default = model.offsets.get(-1, {})
    stage = int(np.clip(fs.stage, 0, len(STAGES) - 1))
    remaining = np.empty(len(QUANTILE_COLUMNS))
    for j, col in enumerate(QUANTILE_COLUMNS):
        raw = model.boosters[col].predict(X, num_threads=model.num_threads)
        off = model.offsets.get(stage, default).get(col, 0.0)
        remaining[j] = np.clip(np.expm1(raw + np.float64(off)), 0.0, None)[0]
    start = np.float64(fs.start_h)
    if model.clock == "business":
        anchor = np.datetime64(fs.anchor.value, "ns") if fs.anchor is not None else None
        total = np.empty(len(remaining))
        for j, rem in enumerate(fs.bt_start + remaining):
            at = from_business_clock(float(rem), fs.tz_dest, fs.dest_country, fs.weekmask)
            if at is None or anchor is None:
                total[j] = NAN
            else:
                total[j] = (np.datetime64(at.value, "ns") - anchor) / np.timedelta64(1, "h")
        total = np.where(np.isfinite(total), total, start + 24.0 * remaining)
        out = np.maximum(total, start)
    else:
        out = start + remaining
    return np.sort(out), fs.stage


def baseline_hours(baseline: Any, row: SingleRow) -> np.ndarray:
    """:meth:`EtaBaseline.predict` of one row."""
    from app.triage.eta import DEFAULT_HOURS, DEFAULT_RATIOS

    v, kind = row.values, baseline.kind
    if kind != "waybill":
        raise Unsupported("baseline kind")
    fallback = baseline.global_quantiles or DEFAULT_HOURS.get(kind, DEFAULT_HOURS["waybill"])
    if baseline.method == "constant":
        out = np.asarray(fallback, dtype=float).copy()
    else:
        out = np.full(4, np.nan)
        for cols in baseline.lane_levels:
            table = baseline.lane_quantiles.get("|".join(cols))
            if not table or not all(c in v for c in cols):
                continue
            if not np.isnan(out[0]):
                break
            out = np.array(table.get("|".join(text(v[c]) or "?" for c in cols), [np.nan] * 4))
            out = out.astype(float)
        if np.isnan(out[0]):
            out = np.asarray(fallback, dtype=float).copy()
    if baseline.method == "promise":
        tz = timezone(v.get("destination_zone"), v.get("destination_country"))
        promised = day_of(v["promised_date"]) if "promised_date" in v else None
        hour = pd.Timedelta(hours=PROMISE_POINT_HOUR.get(kind, 12.0))
        point = local_to_utc(promised + hour, tz) if promised is not None else None
        promise_h = hours(point, row.anchor)
        carrier = (text(v["carrier"]) or "*") if "carrier" in v else "*"
        default = baseline.ratio_quantiles.get("*", list(DEFAULT_RATIOS))
        ratios = np.array(baseline.ratio_quantiles.get(carrier, default), dtype=float)
        ratios[1] = 1.0
        ratios[0] = min(ratios[0], 1.0)
        ratios[2] = max(ratios[2], 1.0)
        ratios[3] = max(ratios[3], ratios[2])
        if math.isfinite(promise_h) and promise_h > 0:
            out = promise_h * ratios
    if baseline.exception_delay_h and "ev_exceptions" in v:
        n_exc = numeric(v["ev_exceptions"], text_booleans=False)
        out = out + baseline.exception_delay_h * (0.0 if math.isnan(n_exc) else n_exc)
    if row.has_as_of:
        start_h = hours(row.as_of_raw, row.anchor)
        out = np.maximum(out, start_h if math.isfinite(start_h) else 0.0)
    return np.sort(out)


def baseline_stage(row: SingleRow) -> int:
    rank = float(row.values.get("ev_rank", -1.0))
    scans = float(row.values.get("ev_scans", 0.0))
    return 2 if rank >= 2 else (1 if scans >= 1 else 0)

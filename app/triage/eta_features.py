"""Features of the ETA model, shared by training and serving.

Everything here is computed from what is known at the row's *prediction time* (``as_of``):

* **static** columns of the shipment (lane, carrier, service, parcel, promise, calendar of the
  ship day: weekday, local hour, holidays ahead, peak season);
* **tracking state** at ``as_of`` (:func:`event_state`): latest status, scans, exceptions so
  far, time since the last scan, where the parcel is now;
* **history statistics** (:class:`HistoryIndex`): lane, service, seller ... aggregates over
  outcomes that were *known before* ``as_of`` (delivered before it). The same code serves
  training (each row queries the index at its own time: an expanding window that never sees
  its own or a later outcome) and serving (the index frozen at training time).

Two input formats share the machinery: ``waybill`` (the training contract: Waybill's export and
the simulator) and ``olist`` (the contract columns the Olist adapter fills, plus a few
order-level extras, see ``training/eta/datasets.py``). Times are UTC; calendars are local to
the zone (``COUNTRY_TZ``, ``ZONE_TZ``) with the national holidays of
:mod:`app.triage.eta_calendar`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from app.models.enums import TrackingStatus
from app.triage.eta_calendar import black_friday, holiday_days

QUANTILE_LEVELS: dict[str, float] = {"p10": 0.10, "p50": 0.50, "p90": 0.90, "p95": 0.95}
QUANTILE_COLUMNS: tuple[str, ...] = tuple(QUANTILE_LEVELS)
STAGES: tuple[str, ...] = ("booking", "first_scan", "out_for_delivery")
FORMATS: tuple[str, ...] = ("waybill", "olist")
HOUR = 3600.0
DAY_H = 24.0

COUNTRY_TZ: dict[str, str] = {
    "DE": "Europe/Berlin",
    "AT": "Europe/Vienna",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "FR": "Europe/Paris",
    "PL": "Europe/Warsaw",
    "IT": "Europe/Rome",
    "ES": "Europe/Madrid",
    "GB": "Europe/London",
    "CH": "Europe/Zurich",
    "US": "America/New_York",
    "BR": "America/Sao_Paulo",
}
ZONE_TZ: dict[str, str] = {"US-C": "America/Chicago", "US-W": "America/Los_Angeles"}
DEFAULT_TZ = "UTC"

# Statuses in the order a parcel moves through them (TrackingStatus.milestone_rank).
STATUS_CODES: tuple[str, ...] = tuple(s.value for s in TrackingStatus)
_RANK = {
    s.value: (s.milestone_rank if s.milestone_rank is not None else -1) for s in TrackingStatus
}
EVENT_COLUMNS: tuple[str, ...] = (
    "ev_n",
    "ev_scans",
    "ev_exceptions",
    "ev_ofd",
    "ev_rank",
    "ev_status",
    "ev_last_at",
    "ev_first_scan_at",
    "ev_zone",
    "ev_country",
    "ev_last_exception",
)


# -- clocks and calendars ------------------------------------------------------------------------
def timezones(zone: pd.Series, country: pd.Series) -> pd.Series:
    """IANA time zone per row: zone override (US Central/West) else the country's zone."""
    tz = pd.Series(country.to_numpy(dtype=object), index=country.index).map(COUNTRY_TZ)
    over = pd.Series(zone.to_numpy(dtype=object), index=zone.index).map(ZONE_TZ)
    return over.fillna(tz).fillna(DEFAULT_TZ).astype(object)


def to_utc_timestamps(values: pd.Series) -> pd.Series:
    """Any timestamp column (naive = UTC, strings, tz-aware) as ``datetime64[ns, UTC]``."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    return pd.to_datetime(values, utc=True, errors="coerce", format="mixed").astype(
        "datetime64[ns, UTC]"
    )


def to_dates(values: pd.Series) -> pd.Series:
    """A date column (naive midnight, strings or tz-aware) as naive ``datetime64[ns]`` days."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    out = pd.to_datetime(values, errors="coerce", format="mixed")
    if isinstance(out.dtype, pd.DatetimeTZDtype):
        out = out.dt.tz_localize(None)
    return out.dt.normalize().astype("datetime64[ns]")


def utc_to_local(ts: pd.Series, tz: pd.Series) -> pd.Series:
    """UTC timestamps as naive local wall-clock times of each row's zone."""
    ts = to_utc_timestamps(ts)
    out = np.full(len(ts), np.datetime64("NaT"), dtype="datetime64[ns]")
    tz_values = tz.to_numpy(dtype=object)
    for name in pd.unique(tz_values):
        sel = np.flatnonzero(tz_values == name)
        part = ts.iloc[sel] if len(sel) < len(ts) else ts
        out[sel] = part.dt.tz_convert(name).dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    return pd.Series(out, index=ts.index)


def local_to_utc(naive: pd.Series, tz: pd.Series) -> pd.Series:
    """Naive local wall-clock times of each row's zone as UTC timestamps."""
    out = np.full(len(naive), np.datetime64("NaT"), dtype="datetime64[ns]")
    tz_values = tz.to_numpy(dtype=object)
    for name in pd.unique(tz_values):
        sel = np.flatnonzero(tz_values == name)
        part = naive.iloc[sel] if len(sel) < len(naive) else naive
        part = part.dt.tz_localize(
            name, ambiguous=np.zeros(len(sel), dtype=bool), nonexistent="shift_forward"
        )
        out[sel] = part.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    return pd.Series(out, index=naive.index).dt.tz_localize("UTC")


@lru_cache(maxsize=256)
def _busdaycal(country: str, weekmask: str = "1111100") -> np.busdaycalendar:
    return np.busdaycalendar(weekmask=weekmask, holidays=holiday_days(country))


EPOCH_DAY = np.datetime64("2000-01-03", "D")  # a Monday: business clock zero
MON_FRI = "1111100"


def _groups(
    country: np.ndarray, weekmask: np.ndarray, valid: np.ndarray
) -> list[tuple[str, str, np.ndarray]]:
    """Row masks per (country, weekmask) among ``valid`` rows."""
    c_code, c_uniq = pd.factorize(np.asarray(country, dtype=object), use_na_sentinel=False)
    w_code, w_uniq = pd.factorize(np.asarray(weekmask, dtype=object), use_na_sentinel=False)
    key = c_code.astype(np.int64) * (len(w_uniq) + 1) + w_code
    key = np.where(valid, key, -1)
    out = []
    for k in np.unique(key[key >= 0]):
        c, w = divmod(int(k), len(w_uniq) + 1)
        out.append((str(c_uniq[c]), str(w_uniq[w]), key == k))
    return out


def business_clock(
    ts: pd.Series, tz: pd.Series, country: np.ndarray, weekmask: np.ndarray
) -> np.ndarray:
    """Time on a *business-day clock*: business days (the carrier's delivery weekdays, without
    the destination's holidays) since a fixed Monday, plus the fraction of the day elapsed on
    business days (a weekend or holiday is a single instant). Transit in this world is counted
    in business days, so quantiles are learnt on this clock and mapped back to calendar time
    (:func:`from_business_clock`)."""
    local = utc_to_local(to_utc_timestamps(ts), tz)
    day = local.dt.normalize()
    frac = ((local - day).dt.total_seconds() / 86400.0).to_numpy()
    days = day.to_numpy().astype("datetime64[D]")
    out = np.full(len(ts), np.nan)
    valid = ~np.isnat(days)
    for c, w, sel in _groups(
        np.asarray(country, dtype=object), np.asarray(weekmask, dtype=object), valid
    ):
        cal = _busdaycal(c, w)
        n = np.busday_count(EPOCH_DAY, days[sel], busdaycal=cal)
        out[sel] = n + np.where(np.is_busday(days[sel], busdaycal=cal), frac[sel], 0.0)
    return out


@lru_cache(maxsize=256)
def _business_days(country: str, weekmask: str) -> np.ndarray:
    """Every business day from ``EPOCH_DAY`` to 2045: the k-th is business-clock day k."""
    days = np.arange(EPOCH_DAY, np.datetime64("2046-01-01", "D"))
    return days[np.is_busday(days, busdaycal=_busdaycal(country, weekmask))]


def from_business_clock(
    bt: np.ndarray, tz: pd.Series, country: np.ndarray, weekmask: np.ndarray
) -> pd.Series:
    """Inverse of :func:`business_clock`: the UTC instant of a business-clock reading."""
    valid = np.isfinite(bt)
    k = np.floor(np.where(valid, bt, 0.0)).astype(np.int64)
    frac = np.where(valid, bt - k, 0.0)
    days = np.full(len(bt), np.datetime64("NaT"), dtype="datetime64[D]")
    for c, w, sel in _groups(
        np.asarray(country, dtype=object), np.asarray(weekmask, dtype=object), valid
    ):
        table = _business_days(c, w)
        ks = k[sel]
        inside = (ks >= 0) & (ks < len(table))
        part = np.empty(len(ks), dtype="datetime64[D]")
        part[inside] = table[ks[inside]]
        if (~inside).any():
            part[~inside] = np.busday_offset(
                EPOCH_DAY, ks[~inside], roll="forward", busdaycal=_busdaycal(c, w)
            )
        days[sel] = part
    naive = pd.Series(days.astype("datetime64[ns]"), index=tz.index) + pd.to_timedelta(
        np.round(frac * 86400.0), unit="s"
    )
    return local_to_utc(naive, tz)


def learn_weekmask(delivered: pd.Series, tz: pd.Series, min_share: float = 0.02) -> str:
    """Delivery weekdays seen in history: a weekday counts when it has at least ``min_share``
    of the deliveries (Monday-Friday when there is no history)."""
    local = utc_to_local(to_utc_timestamps(delivered), tz).dropna()
    if len(local) < 50:
        return MON_FRI
    share = np.bincount(local.dt.day_of_week.to_numpy(), minlength=7) / len(local)
    mask = "".join("1" if v >= min_share else "0" for v in share)
    return mask if "1" in mask else MON_FRI


def calendar_ahead(
    days: np.ndarray, country: np.ndarray, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Public holidays and Monday-Friday business days in ``[day, day + horizon)`` per row."""
    days = days.astype("datetime64[D]")
    n_hol = np.zeros(len(days), dtype=np.float32)
    n_bus = np.full(len(days), np.nan, dtype=np.float32)
    valid = ~np.isnat(days)
    country = np.asarray(country, dtype=object)
    for c in pd.unique(country[valid]):
        sel = valid & (country == c)
        hol = holiday_days(str(c))
        d = days[sel]
        n_hol[sel] = np.searchsorted(hol, d + horizon) - np.searchsorted(hol, d)
        n_bus[sel] = np.busday_count(d, d + horizon, busdaycal=_busdaycal(str(c)))
    return n_hol, n_bus


def business_days_between(start: np.ndarray, end: np.ndarray, country: np.ndarray) -> np.ndarray:
    """Monday-Friday non-holiday days in ``[start, end)`` of each row's country (NaN if unknown)."""
    start, end = start.astype("datetime64[D]"), end.astype("datetime64[D]")
    out = np.full(len(start), np.nan, dtype=np.float32)
    valid = ~(np.isnat(start) | np.isnat(end))
    country = np.asarray(country, dtype=object)
    for c in pd.unique(country[valid]):
        sel = valid & (country == c)
        out[sel] = np.busday_count(start[sel], end[sel], busdaycal=_busdaycal(str(c)))
    return out


@lru_cache(maxsize=1)
def _season_table() -> tuple[np.ndarray, np.ndarray]:
    """Black Friday and Christmas, 1999-2046."""
    years = range(1999, 2047)
    return (
        np.array([black_friday(y) for y in years], dtype="datetime64[D]"),
        np.array([date(y, 12, 25) for y in years], dtype="datetime64[D]"),
    )


def season_features(days: np.ndarray) -> dict[str, np.ndarray]:
    """Where a day sits in the retail peak: signed days to the nearest Black Friday and Christmas
    (clipped to +-45), and a flag for the peak window (ten days before Black Friday to 24 Dec)."""
    days = days.astype("datetime64[D]")
    bf, xmas = _season_table()
    out: dict[str, np.ndarray] = {}
    valid = ~np.isnat(days)
    d = np.where(valid, days, np.datetime64("2000-01-01")).astype("datetime64[D]")
    for name, table in (("days_from_black_friday", bf), ("days_from_christmas", xmas)):
        i = np.clip(np.searchsorted(table, d), 1, len(table) - 1)
        before = (d - table[i - 1]).astype(np.int64)
        after = (d - table[i]).astype(np.int64)
        nearest = np.where(np.abs(before) <= np.abs(after), before, after)
        out[name] = np.where(valid, np.clip(nearest, -45, 45), np.nan).astype(np.float32)
    i = np.clip(np.searchsorted(bf, d, side="right") - 1, 0, len(bf) - 1)
    in_peak = (d >= bf[i] - 10) & (d <= xmas[i] - 1)
    nxt = np.clip(i + 1, 0, len(bf) - 1)
    in_peak |= (d >= bf[nxt] - 10) & (d <= xmas[nxt] - 1)
    out["in_peak"] = np.where(valid, in_peak, np.nan).astype(np.float32)
    return out


# -- history statistics without leakage ---------------------------------------------------------
_EPOCH = np.datetime64("2000-01-01T00:00:00", "s")
_BIG = np.int64(2) ** 32  # seconds since 2000 stay below 2**32 until 2136


def _seconds(ts: pd.Series | np.ndarray) -> np.ndarray:
    """UTC timestamps as int64 seconds since 2000 (NaT -> a huge value: never 'known before')."""
    arr = (
        pd.to_datetime(pd.Series(ts), utc=True).dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
    )
    out = (arr - _EPOCH).astype(np.int64)
    out[np.isnat(arr)] = _BIG - 1
    return np.clip(out, 0, _BIG - 1)


@dataclass
class HistoryIndex:
    """Running sums of outcome values per group key, ordered by the time each outcome became known.

    ``query(keys, times)`` returns, per row, the count and the means of the outcomes of the same
    key known strictly before ``times`` (optionally only the last ``window_days`` of them, counted
    back from ``min(time, last outcome)`` so a frozen index keeps answering with its newest
    window). Means are shrunk with ``prior_n`` pseudo-outcomes towards the mean of *all* keys'
    outcomes known before ``times`` (same window), so a lane seen twice does not get extreme
    values and nothing learnt later leaks in. Sorted arrays and ``searchsorted`` only: O(log n)
    per query, vectorized, picklable.
    """

    values: tuple[str, ...]
    window_days: float | None = None
    prior_n: float = 20.0
    keys: pd.Index = field(default_factory=lambda: pd.Index([], dtype=object))
    stamp: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    csum: np.ndarray = field(default_factory=lambda: np.zeros((1, 0)))
    times: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    total: np.ndarray = field(default_factory=lambda: np.zeros((1, 0)))
    last_time: int = 0

    @classmethod
    def build(
        cls,
        keys: pd.Series,
        known_at: pd.Series,
        values: pd.DataFrame,
        window_days: float | None = None,
        prior_n: float = 20.0,
    ) -> HistoryIndex:
        t = _seconds(known_at)
        vals = values.to_numpy(dtype=np.float64)
        ok = (t < _BIG - 1) & np.isfinite(vals).all(axis=1) & keys.notna().to_numpy()
        k = keys.astype(str).to_numpy()[ok]
        t, vals = t[ok], vals[ok]
        uniq = pd.Index(pd.unique(k))
        code = uniq.get_indexer(k).astype(np.int64)
        stamp = code * _BIG + t
        order = np.argsort(stamp, kind="stable")
        csum = np.vstack([np.zeros((1, vals.shape[1])), np.cumsum(vals[order], axis=0)])
        by_time = np.argsort(t, kind="stable")
        total = np.vstack([np.zeros((1, vals.shape[1])), np.cumsum(vals[by_time], axis=0)])
        return cls(
            values=tuple(values.columns),
            window_days=window_days,
            prior_n=prior_n,
            keys=uniq,
            stamp=stamp[order],
            csum=csum,
            times=t[by_time],
            total=total,
            last_time=int(t.max()) if len(t) else 0,
        )

    def query(self, keys: pd.Series, times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(count, smoothed means [n, len(values)]) of outcomes known strictly before ``times``."""
        code = self.keys.get_indexer(keys.astype(str).to_numpy()).astype(np.int64)
        t = _seconds(times)
        known = code >= 0
        c = np.where(known, code, 0)
        end_t = t
        start_t = np.zeros_like(t)
        if self.window_days is not None:
            end_t = np.minimum(t, self.last_time + 1)
            start_t = np.maximum(end_t - int(self.window_days * 86400), 0)
        end = np.searchsorted(self.stamp, c * _BIG + end_t, side="left")
        start = np.searchsorted(self.stamp, c * _BIG + start_t, side="left")
        n = np.where(known, end - start, 0)
        sums = self.csum[end] - self.csum[start]
        sums[~known] = 0.0
        g_end = np.searchsorted(self.times, end_t, side="left")
        g_start = np.searchsorted(self.times, start_t, side="left")
        g_n = (g_end - g_start)[:, None]
        prior = (self.total[g_end] - self.total[g_start]) / np.maximum(g_n, 1)
        means = (sums + self.prior_n * prior) / (n + self.prior_n)[:, None]
        return n, means


def join_keys(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Columns joined into one string key (missing parts become '?')."""
    parts = [frame[c].astype("string").fillna("?") for c in columns]
    key = parts[0]
    for p in parts[1:]:
        key = key + "|" + p
    return key.astype(str)


# -- tracking state at a point in time ----------------------------------------------------------
def _empty_state(index: pd.Index) -> pd.DataFrame:
    out = pd.DataFrame(index=index)
    for col in ("ev_n", "ev_scans", "ev_exceptions", "ev_ofd"):
        out[col] = 0.0
    out["ev_rank"] = -1.0
    out["ev_status"] = pd.Series(None, index=index, dtype=object)
    out["ev_last_at"] = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    out["ev_first_scan_at"] = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    for col in ("ev_zone", "ev_country", "ev_last_exception"):
        out[col] = pd.Series(None, index=index, dtype=object)
    return out


def event_history(events: pd.DataFrame) -> pd.DataFrame:
    """Per event, the shipment's tracking state right after it (cumulative over earlier events).

    ``events`` needs ``shipment_id``, ``occurred_at``, ``status``; ``exception_category``,
    ``location_zone``, ``location_country`` and ``seq`` are used when present.
    """
    ev = pd.DataFrame(
        {
            "shipment_id": events["shipment_id"].astype(str).to_numpy(),
            "occurred_at": to_utc_timestamps(events["occurred_at"]).to_numpy(),
            "status": events["status"].astype(str).to_numpy(),
            "seq": (events["seq"].to_numpy() if "seq" in events else np.arange(len(events))),
        }
    )
    for col in ("exception_category", "location_zone", "location_country"):
        ev[col] = (
            events[col].astype(object).to_numpy()
            if col in events
            else np.full(len(events), None, dtype=object)
        )
    ev = (
        ev.dropna(subset=["occurred_at"])
        .sort_values(["shipment_id", "occurred_at", "seq"], kind="stable")
        .reset_index(drop=True)
    )
    g = ev.groupby("shipment_id", sort=False)
    status = ev["status"]
    is_scan = ~status.isin(
        [
            TrackingStatus.INFO_RECEIVED.value,
            TrackingStatus.CANCELLED.value,
            TrackingStatus.UNKNOWN.value,
        ]
    )
    is_exc = status == TrackingStatus.EXCEPTION.value
    ev["ev_n"] = g.cumcount().astype(float) + 1
    ev["ev_scans"] = is_scan.astype(float).groupby(ev["shipment_id"], sort=False).cumsum()
    ev["ev_exceptions"] = is_exc.astype(float).groupby(ev["shipment_id"], sort=False).cumsum()
    ev["ev_ofd"] = (
        (status == TrackingStatus.OUT_FOR_DELIVERY.value)
        .astype(float)
        .groupby(ev["shipment_id"], sort=False)
        .cumsum()
    )
    ev["ev_rank"] = (
        status.map(_RANK).fillna(-1).astype(float).groupby(ev["shipment_id"], sort=False).cummax()
    )
    ev["ev_status"] = status
    ev["ev_last_at"] = ev["occurred_at"]
    scan_at = ev["occurred_at"].where(is_scan)
    ev["ev_first_scan_at"] = _group_cummin_time(scan_at, ev["shipment_id"])
    ev["ev_zone"] = ev["location_zone"].groupby(ev["shipment_id"], sort=False).ffill()
    ev["ev_country"] = ev["location_country"].groupby(ev["shipment_id"], sort=False).ffill()
    exc = ev["exception_category"].where(is_exc)
    exc = exc.where(~(is_exc & exc.isna()), "unclassified")
    ev["ev_last_exception"] = exc.groupby(ev["shipment_id"], sort=False).ffill()
    return ev[["shipment_id", "occurred_at", *EVENT_COLUMNS]]


def _group_cummin_time(ts: pd.Series, groups: pd.Series) -> pd.Series:
    """Cumulative minimum of a timestamp column within consecutive groups (NaT ignored)."""
    ns = ts.astype("int64").to_numpy().astype(np.float64)
    ns[ts.isna().to_numpy()] = np.inf
    out = pd.Series(ns).groupby(groups.to_numpy(), sort=False).cummin().to_numpy()
    res = pd.Series(pd.NaT, index=ts.index, dtype="datetime64[ns, UTC]")
    fin = np.isfinite(out)
    res.iloc[np.flatnonzero(fin)] = pd.to_datetime(out[fin].astype(np.int64), utc=True)
    return res


def event_state(history: pd.DataFrame, snapshots: pd.DataFrame) -> pd.DataFrame:
    """The tracking state of each snapshot (``shipment_id``, ``as_of``): the cumulative state of
    the last event at or before ``as_of`` (``event_history`` output), or the empty state."""
    out = _empty_state(snapshots.index)
    if history.empty or snapshots.empty:
        return out
    snap = pd.DataFrame(
        {
            "shipment_id": snapshots["shipment_id"].astype(str).to_numpy(),
            "as_of": to_utc_timestamps(snapshots["as_of"]).to_numpy(),
            "_row": np.arange(len(snapshots)),
        }
    )
    snap = snap.dropna(subset=["as_of"]).sort_values("as_of", kind="stable")
    hist = history.sort_values("occurred_at", kind="stable")
    merged = pd.merge_asof(
        snap,
        hist,
        left_on="as_of",
        right_on="occurred_at",
        by="shipment_id",
        direction="backward",
        allow_exact_matches=True,
    )
    hit = merged["ev_n"].notna().to_numpy()
    rows = merged["_row"].to_numpy()[hit]
    for col in EVENT_COLUMNS:
        out.iloc[rows, out.columns.get_loc(col)] = merged[col].to_numpy()[hit]
    return out


def stage_of(state: pd.DataFrame) -> np.ndarray:
    """0 booking (no carrier scan yet), 1 in the network (after the first scan), 2 out for
    delivery or waiting at a pickup point."""
    rank = state["ev_rank"].to_numpy(dtype=float)
    scans = state["ev_scans"].to_numpy(dtype=float)
    return np.where(rank >= 2, 2, np.where(scans >= 1, 1, 0)).astype(np.int64)


# -- the featurizer -----------------------------------------------------------------------------
WAYBILL_CATEGORICAL: tuple[str, ...] = (
    "carrier",
    "carrier_account",
    "service",
    "service_level",
    "distance_class",
    "origin_zone",
    "destination_zone",
    "destination_country",
    "customer_type",
    "incoterm",
)
OLIST_CATEGORICAL: tuple[str, ...] = ("origin_zone", "destination_zone", "goods_category")
EVENT_CATEGORICAL: tuple[str, ...] = ("ev_status", "ev_last_exception", "ev_zone")
WAYBILL_NUMERIC: tuple[str, ...] = (
    "lane_distance_km",
    "weight_kg",
    "declared_value",
    "order_value",
    "price",
    "promised_transit_days",
    "is_international",
    "needs_customs",
    "is_return",
    "dangerous_goods",
)
OLIST_NUMERIC: tuple[str, ...] = (
    "lane_distance_km",
    "weight_kg",
    "order_value",
    "price",
    "n_items",
    "n_sellers",
    "customer_lat",
    "customer_lng",
    "seller_lat",
    "seller_lng",
)


@dataclass(frozen=True)
class HistorySpec:
    """One history statistic: the key columns, which outcome values, window and shrinkage."""

    name: str
    keys: tuple[str, ...]
    values: tuple[str, ...]
    window_days: float | None = None
    prior_n: float = 20.0
    known_at: str = "delivered_at"
    with_count: bool = False


WAYBILL_HISTORY: tuple[HistorySpec, ...] = (
    HistorySpec(
        "lane",
        ("carrier", "origin_zone", "destination_zone"),
        ("lr", "late"),
        prior_n=30,
        with_count=True,
    ),
    HistorySpec("svc", ("service",), ("lr", "late"), window_days=42, prior_n=50),
    HistorySpec("dest", ("destination_zone",), ("lr",), window_days=42, prior_n=50),
    HistorySpec(
        "acct", ("carrier_account",), ("exc",), window_days=90, prior_n=100, known_at="outcome_at"
    ),
)
OLIST_HISTORY: tuple[HistorySpec, ...] = (
    HistorySpec(
        "lane", ("origin_zone", "destination_zone"), ("ly", "lr"), prior_n=20, with_count=True
    ),
    HistorySpec("seller", ("olist_seller_id",), ("ly", "lr"), prior_n=10, with_count=True),
    HistorySpec("handover", ("olist_seller_id",), ("lh",), prior_n=5, known_at="handed_over_at"),
    HistorySpec("dest3", ("destination_prefix3",), ("ly", "lr"), prior_n=20),
    HistorySpec("dest", ("destination_zone",), ("lr",), window_days=60, prior_n=50),
)
# Recency: what deliveries *completed* in the last days before the prediction looked like
# (purchase -> delivery ``ly``, hand-over -> delivery ``lt``, against the estimate ``lr``),
# network-wide and per destination state and lane, and how fast the seller handed over lately.
# A slowdown shows up here weeks before it shows in the expanding lane statistics. Each value
# is known at its delivery (hand-over), so a row only sees outcomes completed before it.
OLIST_RECENCY: tuple[HistorySpec, ...] = (
    HistorySpec(
        "all7", ("origin_country",), ("ly", "lt", "lr"), window_days=7, prior_n=1, with_count=True
    ),
    HistorySpec("all14", ("origin_country",), ("ly", "lt", "lr"), window_days=14, prior_n=1),
    HistorySpec("all30", ("origin_country",), ("ly", "lt"), window_days=30, prior_n=1),
    HistorySpec("dest14", ("destination_zone",), ("ly", "lt"), window_days=14, prior_n=15),
    HistorySpec("dest30", ("destination_zone",), ("ly", "lt", "lr"), window_days=30, prior_n=15),
    HistorySpec(
        "lane30", ("origin_zone", "destination_zone"), ("ly", "lt"), window_days=30, prior_n=10
    ),
    HistorySpec(
        "handover30",
        ("olist_seller_id",),
        ("lh",),
        window_days=30,
        prior_n=3,
        known_at="handed_over_at",
        with_count=True,
    ),
    HistorySpec(
        "handover_all14",
        ("origin_country",),
        ("lh",),
        window_days=14,
        prior_n=1,
        known_at="handed_over_at",
    ),
)


def anchor_times(frame: pd.DataFrame, kind: str) -> pd.Series:
    """The time predictions count from: ship time (waybill; booking or creation if missing) or
    the purchase (olist)."""
    if kind == "olist":
        return to_utc_timestamps(frame["created_at"])
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    for col in ("ship_at", "booked_at", "created_at"):
        if col in frame:
            out = out.fillna(to_utc_timestamps(frame[col]))
    return out


def prediction_times(frame: pd.DataFrame, kind: str) -> pd.Series:
    """``as_of`` when given, else booking (waybill) or purchase (olist) time, else the anchor."""
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    cols = ("as_of",) + (("created_at",) if kind == "olist" else ("booked_at", "created_at"))
    for col in cols:
        if col in frame:
            out = out.fillna(to_utc_timestamps(frame[col]))
    return out.fillna(anchor_times(frame, kind))


# When a promised date counts as kept (late after it), and the time of day a point prediction
# reads it as: carriers promise a *day* (kept until midnight, midday as a point); Olist's
# estimate is the timestamp it ships as (00:00 of the day), which is how its ~8 % late rate is
# counted.
PROMISE_DUE_HOUR: dict[str, float] = {"waybill": 24.0, "olist": 0.0}
PROMISE_POINT_HOUR: dict[str, float] = {"waybill": 12.0, "olist": 0.0}


def promise_points(frame: pd.DataFrame, tz_dest: pd.Series, hour: float = 12.0) -> pd.Series:
    """The promised date at ``hour`` local time at the destination (UTC)."""
    if "promised_date" not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    return local_to_utc(to_dates(frame["promised_date"]) + pd.Timedelta(hours=hour), tz_dest)


def outcome_values(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Outcome columns the history statistics aggregate, from a frame with delivery columns."""
    anchor = anchor_times(frame, kind)
    tz_d = timezones(frame["destination_zone"], frame["destination_country"])
    promise_h = (promise_points(frame, tz_d) - anchor).dt.total_seconds() / HOUR
    delivered = to_utc_timestamps(frame["delivered_at"])
    actual_h = (delivered - anchor).dt.total_seconds() / HOUR
    out = pd.DataFrame(index=frame.index)
    out["delivered_at"] = delivered.where(actual_h > 0)
    out["lr"] = np.log(np.clip(actual_h, 1, None) / np.clip(promise_h, 6, None))
    if kind == "olist":
        out["ly"] = np.log(np.clip(actual_h / DAY_H, 0.1, None))
        handed = (
            to_utc_timestamps(frame["handed_over_at"])
            if "handed_over_at" in frame
            else (pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]"))
        )
        out["handed_over_at"] = handed
        out["lh"] = np.log1p(np.clip((handed - anchor).dt.total_seconds() / 86400, 0, None))
        transit_d = (delivered - handed).dt.total_seconds() / 86400
        out["lt"] = np.log1p(np.clip(transit_d, 0, None))
    else:
        local_day = utc_to_local(delivered, tz_d).dt.normalize()
        out["late"] = np.clip((local_day - to_dates(frame["promised_date"])).dt.days, -7, 7)
        n_exc = pd.to_numeric(
            frame.get("n_exceptions", pd.Series(0, index=frame.index)), errors="coerce"
        )
        out["exc"] = (n_exc.fillna(0) > 0).astype(float)
        ended = delivered
        if "returned_at" in frame:
            ended = ended.fillna(to_utc_timestamps(frame["returned_at"]))
        out["outcome_at"] = ended
    return out


@dataclass
class FeatureSet:
    """Model inputs plus what is needed to turn remaining-time predictions into ETAs."""

    X: pd.DataFrame
    anchor: pd.Series  # UTC time the hours count from
    start_h: np.ndarray  # hours from anchor to the prediction time (>= 0)
    stage: np.ndarray  # 0 booking, 1 first scan / in the network, 2 out for delivery
    promise_h: np.ndarray  # hours from anchor to the promise point (NaN if none)
    tz_dest: pd.Series
    dest_country: np.ndarray
    weekmask: np.ndarray  # delivery weekdays of each row's carrier (business clock)
    bt_start: np.ndarray  # business clock at the prediction time

    def hours_from_business_clock(self, bt: np.ndarray) -> np.ndarray:
        """Business-clock readings (one row per shipment, any number of columns) as hours
        from the anchor, converted in one pass."""
        bt = np.asarray(bt, dtype=float)
        cols = 1 if bt.ndim == 1 else bt.shape[1]
        flat = bt.reshape(len(bt), cols).T.ravel()  # column after column
        tz = pd.Series(np.tile(self.tz_dest.to_numpy(dtype=object), cols))
        at = from_business_clock(
            flat, tz, np.tile(self.dest_country, cols), np.tile(self.weekmask, cols)
        )
        anchor = np.tile(self.anchor.to_numpy(dtype="datetime64[ns]"), cols)
        hours = (at.dt.tz_localize(None).to_numpy() - anchor) / np.timedelta64(1, "h")
        hours = hours.reshape(cols, len(bt)).T
        return hours[:, 0] if bt.ndim == 1 else hours


@dataclass
class EtaFeaturizer:
    """Turns shipment rows (+ optional ``as_of`` and tracking state ``ev_*``) into features."""

    kind: str = "waybill"
    categories: dict[str, list[str]] = field(default_factory=dict)
    history: dict[str, HistoryIndex] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    weekmasks: dict[str, str] = field(default_factory=dict)  # carrier -> delivery weekdays
    handover_hours: dict[str, float] = field(default_factory=dict)  # carrier -> local hour
    # Olist: also the recent-deliveries statistics (OLIST_RECENCY). Off by default: on the
    # validation months they did not pay (training/eta/README.md, "Recency").
    recency: bool = False

    @property
    def specs(self) -> tuple[HistorySpec, ...]:
        if self.kind == "olist":
            return OLIST_HISTORY + (OLIST_RECENCY if self.recency else ())
        return WAYBILL_HISTORY

    @property
    def categorical(self) -> tuple[str, ...]:
        base = OLIST_CATEGORICAL if self.kind == "olist" else WAYBILL_CATEGORICAL
        return base + (() if self.kind == "olist" else EVENT_CATEGORICAL)

    def fit(self, frame: pd.DataFrame) -> EtaFeaturizer:
        """Learn category vocabularies and build the history indices from training rows with
        outcomes (``delivered_at`` ...). Outcomes only count from the time they became known."""
        if self.kind not in FORMATS:
            raise ValueError(f"unknown format {self.kind!r}")
        frame = _with_derived_keys(frame)
        raw = self._raw_columns(frame)
        self.categories = {
            c: sorted(map(str, pd.unique(raw[c].dropna()))) for c in self.categorical if c in raw
        }
        outcomes = outcome_values(frame, self.kind)
        self._fit_clock(frame)
        self.history = {}
        for spec in self.specs:
            if not all(k in frame for k in spec.keys) or spec.known_at not in outcomes:
                continue
            self.history[spec.name] = HistoryIndex.build(
                join_keys(frame, spec.keys),
                outcomes[spec.known_at],
                outcomes[list(spec.values)],
                spec.window_days,
                spec.prior_n,
            )
        self.columns = []
        self.columns = list(self.transform(frame.head(2)).X.columns)
        return self

    def _fit_clock(self, frame: pd.DataFrame) -> None:
        """Delivery weekdays per carrier and its typical hand-over hour, from history."""
        tz_d = timezones(frame["destination_zone"], frame["destination_country"])
        delivered = to_utc_timestamps(frame["delivered_at"])
        carrier = (
            frame["carrier"].astype("string").fillna("*")
            if self.kind == "waybill" and "carrier" in frame
            else pd.Series("*", index=frame.index)
        )
        self.weekmasks = {"*": learn_weekmask(delivered, tz_d)}
        self.handover_hours = {}
        tz_o = timezones(frame["origin_zone"], frame["origin_country"])
        handed = (
            to_utc_timestamps(frame["handed_over_at"])
            if "handed_over_at" in frame
            else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
        )
        local = utc_to_local(handed, tz_o)
        hour = (local - local.dt.normalize()).dt.total_seconds() / HOUR
        for c in pd.unique(carrier):
            sel = (carrier == c).to_numpy()
            if c != "*":
                self.weekmasks[str(c)] = learn_weekmask(delivered[sel], tz_d[sel])
            if hour[sel].notna().sum() >= 20:
                self.handover_hours[str(c)] = float(hour[sel].median())

    def row_weekmasks(self, frame: pd.DataFrame) -> np.ndarray:
        default = self.weekmasks.get("*", MON_FRI)
        if self.kind != "waybill" or "carrier" not in frame:
            return np.full(len(frame), default, dtype=object)
        return (
            frame["carrier"]
            .astype("string")
            .map(self.weekmasks)
            .fillna(default)
            .to_numpy(dtype=object)
        )

    def _raw_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        raw = pd.DataFrame(index=frame.index)
        for c in self.categorical:
            if c in frame:
                raw[c] = frame[c].astype("string").astype(object).where(frame[c].notna())
        return raw

    def transform(self, frame: pd.DataFrame) -> FeatureSet:
        frame = _with_derived_keys(frame)
        kind = self.kind
        anchor = anchor_times(frame, kind)
        as_of = prediction_times(frame, kind)
        start = as_of.where(as_of > anchor, anchor)
        tz_o = timezones(
            frame.get("origin_zone", _none(frame)), frame.get("origin_country", _none(frame))
        )
        tz_d = timezones(
            frame.get("destination_zone", _none(frame)),
            frame.get("destination_country", _none(frame)),
        )
        X = pd.DataFrame(index=frame.index)
        local = utc_to_local(anchor, tz_o if kind == "waybill" else tz_d)
        day = local.dt.normalize()
        X["anchor_hour"] = (local - day).dt.total_seconds().to_numpy() / HOUR
        X["anchor_weekday"] = local.dt.day_of_week.astype(float)
        promised = (
            to_dates(frame["promised_date"])
            if "promised_date" in frame
            else (pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]"))
        )
        point = promise_points(frame, tz_d)
        promise_h = ((point - anchor).dt.total_seconds() / HOUR).to_numpy()
        X["promise_hours"] = promise_h
        X["promise_cal_days"] = (promised - day).dt.days.astype(float)
        dest_c = frame.get("destination_country", _none(frame)).astype(object).to_numpy()
        X["promise_bus_days"] = business_days_between(day.to_numpy(), promised.to_numpy(), dest_c)
        hol, bus = calendar_ahead(day.to_numpy(), dest_c, 14 if kind == "waybill" else 30)
        X["holidays_ahead"], X["busdays_ahead"] = hol, bus
        for name, values in season_features(day.to_numpy()).items():
            X[name] = values
        numeric = OLIST_NUMERIC if kind == "olist" else WAYBILL_NUMERIC
        for c in numeric:
            X[c] = numeric_column(frame[c]) if c in frame else np.nan
        dims = [
            pd.to_numeric(frame.get(c, _none(frame)), errors="coerce").astype(float)
            for c in ("length_cm", "width_cm", "height_cm")
        ]
        X["volume_l"] = dims[0] * dims[1] * dims[2] / 1000.0
        X["max_side_cm"] = pd.concat(dims, axis=1).max(axis=1)
        if kind == "olist":
            self._olist_extras(frame, anchor, X)
        else:
            origin_c = frame.get("origin_country", _none(frame)).astype(object).to_numpy()
            X["holidays_origin_3d"] = calendar_ahead(day.to_numpy(), origin_c, 3)[0]
        weekmask = self.row_weekmasks(frame)
        bt_anchor = business_clock(anchor, tz_d, dest_c, weekmask)
        bt_start = business_clock(start, tz_d, dest_c, weekmask)
        due = promise_points(frame, tz_d, PROMISE_DUE_HOUR[kind])
        bt_due = business_clock(due, tz_d, dest_c, weekmask)
        X["promise_bt"] = bt_due - bt_anchor
        X["saturday_delivery"] = np.array([m[5] == "1" for m in weekmask], dtype=np.float32)
        if kind == "waybill" and "carrier" in frame:
            cut = frame["carrier"].astype("string").map(self.handover_hours).astype(float)
            X["hours_to_handover"] = cut.to_numpy() - X["anchor_hour"].to_numpy()
        state = state_columns(frame)
        stage = stage_of(state)
        if kind == "waybill":
            self._stage_features(
                frame, state, stage, anchor, start, as_of, point, tz_d, promised, dest_c, X
            )
            X["elapsed_bt"] = bt_start - bt_anchor
            X["promise_left_bt"] = bt_due - bt_start
        self._history_features(frame, as_of, X)
        raw = self._raw_columns(frame)
        for c in self.categorical:
            if c in EVENT_CATEGORICAL:
                raw[c] = state[c].astype(object).where(state[c].notna())
            if c not in raw:
                raw[c] = None
            codes = (
                pd.Index(self.categories.get(c, []))
                .get_indexer(raw[c].astype(object).to_numpy())
                .astype(np.float32)
            )
            codes[codes < 0] = np.nan  # unknown or missing: LightGBM's missing branch
            X[c] = codes
        if self.columns:
            X = X.reindex(columns=self.columns)
        start_h = np.maximum((start - anchor).dt.total_seconds().to_numpy() / HOUR, 0.0)
        return FeatureSet(
            X=X.astype(np.float32),
            anchor=anchor,
            start_h=start_h,
            stage=stage,
            promise_h=promise_h,
            tz_dest=tz_d,
            dest_country=dest_c,
            weekmask=weekmask,
            bt_start=bt_start,
        )

    def _olist_extras(self, frame: pd.DataFrame, anchor: pd.Series, X: pd.DataFrame) -> None:
        if "booked_at" in frame:
            X["approval_hours"] = (
                to_utc_timestamps(frame["booked_at"]) - anchor
            ).dt.total_seconds() / HOUR
        if "olist_shipping_limit_at" in frame:
            X["shipping_limit_days"] = (
                to_utc_timestamps(frame["olist_shipping_limit_at"]) - anchor
            ).dt.total_seconds() / 86400
        X["freight_ratio"] = X["price"] / X["order_value"].clip(lower=1)
        X["same_state"] = (
            frame.get("origin_zone", _none(frame)).astype(str)
            == frame.get("destination_zone", _none(frame)).astype(str)
        ).astype(float)

    def _stage_features(
        self,
        frame: pd.DataFrame,
        state: pd.DataFrame,
        stage: np.ndarray,
        anchor: pd.Series,
        start: pd.Series,
        as_of: pd.Series,
        point: pd.Series,
        tz_d: pd.Series,
        promised: pd.Series,
        dest_c: np.ndarray,
        X: pd.DataFrame,
    ) -> None:
        X["stage"] = stage.astype(float)
        X["elapsed_h"] = (start - anchor).dt.total_seconds().to_numpy() / HOUR
        for col in ("ev_n", "ev_scans", "ev_exceptions", "ev_ofd", "ev_rank"):
            X[col] = state[col].astype(float).to_numpy()
        last = to_utc_timestamps(state["ev_last_at"])
        first = to_utc_timestamps(state["ev_first_scan_at"])
        X["since_last_event_h"] = (as_of - last).dt.total_seconds().to_numpy() / HOUR
        X["since_first_scan_h"] = (as_of - first).dt.total_seconds().to_numpy() / HOUR
        zone = state["ev_zone"].astype(object)
        dest_zone = frame.get("destination_zone", _none(frame)).astype(object)
        dest_country = frame.get("destination_country", _none(frame)).astype(object)
        X["at_destination_zone"] = np.where(zone.isna(), np.nan, (zone == dest_zone).astype(float))
        X["at_destination_country"] = np.where(
            state["ev_country"].isna(),
            np.nan,
            (state["ev_country"].astype(object) == dest_country).astype(float),
        )
        now_local = utc_to_local(start, tz_d)
        now_day = now_local.dt.normalize()
        X["now_hour_dest"] = (now_local - now_day).dt.total_seconds().to_numpy() / HOUR
        X["now_weekday_dest"] = now_local.dt.day_of_week.astype(float).to_numpy()
        X["promise_left_h"] = (point - start).dt.total_seconds().to_numpy() / HOUR
        X["promise_left_bus_days"] = business_days_between(
            now_day.to_numpy(), promised.to_numpy(), dest_c
        )

    def _history_features(self, frame: pd.DataFrame, as_of: pd.Series, X: pd.DataFrame) -> None:
        for spec in self.specs:
            index = self.history.get(spec.name)
            if index is None or not all(k in frame for k in spec.keys):
                for v in spec.values:
                    X[f"hist_{spec.name}_{v}"] = np.nan
                continue
            n, means = index.query(join_keys(frame, spec.keys), as_of)
            if spec.with_count:
                X[f"hist_{spec.name}_n"] = np.log1p(n).astype(np.float32)
            for j, v in enumerate(spec.values):
                X[f"hist_{spec.name}_{v}"] = means[:, j]

    def categorical_columns(self) -> list[str]:
        return [c for c in self.columns if c in self.categorical]


def numeric_column(values: pd.Series) -> pd.Series:
    """Numbers, booleans or their text forms ("True", "false", "1") as floats (NaN if not)."""
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        text = values.astype("string").str.strip().str.lower()
        mapped = text.map({"true": 1.0, "false": 0.0})
        return mapped.astype(float).fillna(pd.to_numeric(values, errors="coerce")).astype(float)
    return pd.to_numeric(
        values.astype(object) if pd.api.types.is_bool_dtype(values.dtype) else values,
        errors="coerce",
    ).astype(float)


def destination_timezones(frame: pd.DataFrame) -> pd.Series:
    """Time zone of each row's destination (UTC when the destination is unknown)."""
    return timezones(
        frame.get("destination_zone", _none(frame)), frame.get("destination_country", _none(frame))
    )


def _none(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(None, index=frame.index, dtype=object)


def _with_derived_keys(frame: pd.DataFrame) -> pd.DataFrame:
    if "destination_postal_prefix" in frame and "destination_prefix3" not in frame:
        frame = frame.assign(
            destination_prefix3=frame["destination_postal_prefix"].astype("string").str[:3]
        )
    return frame


def state_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``ev_*`` columns of a frame, or the empty (booking) state when absent."""
    state = _empty_state(frame.index)
    for col in EVENT_COLUMNS:
        if col in frame:
            state[col] = frame[col].to_numpy()
    for col in ("ev_n", "ev_scans", "ev_exceptions", "ev_ofd"):
        state[col] = pd.to_numeric(state[col], errors="coerce").fillna(0.0)
    state["ev_rank"] = pd.to_numeric(state["ev_rank"], errors="coerce").fillna(-1.0)
    return state

"""Calendars of the simulated world: public holidays, business days and local clock offsets.

Carriers neither collect nor deliver on Sundays and public holidays, and a parcel handed over on
the Thursday before Easter arrives after the long weekend. The simulator therefore counts transit
in *business days of the destination country* (``numpy.busday_offset`` with a per-country holiday
list) and converts local wall-clock times (cut-offs, delivery windows) to UTC with the country's
daylight-saving rule. The holiday lists are the national ones, simplified: regional holidays and
substitute days are left out, which is documented rather than hidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

SECONDS_PER_DAY = 86_400
SECONDS_PER_HOUR = 3_600

WEEKMASK_MON_FRI = "1111100"
WEEKMASK_MON_SAT = "1111110"


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm); many European holidays hang off it."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (0 = Monday) of a month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


# Fixed-date holidays as (month, day) and Easter-relative ones as day offsets from Easter Sunday.
_FIXED: dict[str, tuple[tuple[int, int], ...]] = {
    "DE": ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26)),
    "AT": ((1, 1), (1, 6), (5, 1), (8, 15), (10, 26), (11, 1), (12, 8), (12, 25), (12, 26)),
    "NL": ((1, 1), (4, 27), (12, 25), (12, 26)),
    "BE": ((1, 1), (5, 1), (7, 21), (8, 15), (11, 1), (11, 11), (12, 25)),
    "FR": ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)),
    "PL": ((1, 1), (1, 6), (5, 1), (5, 3), (8, 15), (11, 1), (11, 11), (12, 25), (12, 26)),
    "IT": ((1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 8), (12, 25), (12, 26)),
    "ES": ((1, 1), (1, 6), (5, 1), (8, 15), (10, 12), (11, 1), (12, 6), (12, 8), (12, 25)),
    "GB": ((1, 1), (12, 25), (12, 26)),
    "CH": ((1, 1), (1, 2), (8, 1), (12, 25), (12, 26)),
    "US": ((1, 1), (6, 19), (7, 4), (11, 11), (12, 25)),
    "BR": ((1, 1), (4, 21), (5, 1), (9, 7), (10, 12), (11, 2), (11, 15), (12, 25)),
}
_EASTER: dict[str, tuple[int, ...]] = {
    "DE": (-2, 1, 39, 50),
    "AT": (1, 39, 50, 60),
    "NL": (-2, 1, 39, 50),
    "BE": (1, 39, 50),
    "FR": (1, 39, 50),
    "PL": (1, 60),
    "IT": (1,),
    "ES": (-2,),
    "GB": (-2, 1),
    "CH": (-2, 1, 39, 50),
    "US": (),
    "BR": (-48, -47, -2, 60),
}


def _weekday_rule_holidays(country: str, year: int) -> list[date]:
    """Holidays defined as 'n-th weekday of a month' (UK bank holidays, US federal holidays)."""
    if country == "GB":
        return [_nth_weekday(year, 5, 0, 1), _nth_weekday(year, 5, 0, -1),
                _nth_weekday(year, 8, 0, -1)]
    if country == "US":
        return [_nth_weekday(year, 1, 0, 3), _nth_weekday(year, 2, 0, 3),
                _nth_weekday(year, 5, 0, -1), _nth_weekday(year, 9, 0, 1),
                _nth_weekday(year, 10, 0, 2), _nth_weekday(year, 11, 3, 4)]
    return []


def country_holidays(country: str, years: Iterable[int]) -> list[date]:
    """National public holidays of ``country`` in the given years, sorted."""
    out: set[date] = set()
    for year in years:
        out.update(date(year, m, d) for m, d in _FIXED.get(country, ()))
        easter = easter_sunday(year)
        out.update(easter + timedelta(days=off) for off in _EASTER.get(country, ()))
        out.update(_weekday_rule_holidays(country, year))
    return sorted(out)


@lru_cache(maxsize=256)
def holiday_array(country: str, first_year: int, last_year: int) -> np.ndarray:
    """Holidays as ``datetime64[D]`` for ``numpy.busday_offset``; cached per country and span."""
    days = country_holidays(country, range(first_year, last_year + 1))
    return np.array(days, dtype="datetime64[D]")


def black_friday(year: int) -> date:
    """The day after US Thanksgiving: the start of the e-commerce peak in Europe too."""
    return _nth_weekday(year, 11, 3, 4) + timedelta(days=1)


def _last_sunday(year: int, month: int) -> date:
    return _nth_weekday(year, month, 6, -1)


@lru_cache(maxsize=64)
def _dst_bounds(rule: str, first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-year [start, end) dates of daylight-saving time under a rule ('eu', 'us', 'none')."""
    starts, ends = [], []
    for year in range(first_year, last_year + 1):
        if rule == "eu":
            starts.append(_last_sunday(year, 3))
            ends.append(_last_sunday(year, 10))
        elif rule == "us":
            starts.append(_nth_weekday(year, 3, 6, 2))
            ends.append(_nth_weekday(year, 11, 6, 1))
        else:
            starts.append(date(year, 1, 1))
            ends.append(date(year, 1, 1))
    return np.array(starts, dtype="datetime64[D]"), np.array(ends, dtype="datetime64[D]")


def utc_offset_hours(
    base_offset: np.ndarray, dst_rule: np.ndarray, days: np.ndarray, rules: tuple[str, ...]
) -> np.ndarray:
    """Local-minus-UTC offset in hours for each (zone, local day).

    ``base_offset`` is the standard offset per row, ``dst_rule`` an index into ``rules`` per row,
    ``days`` the local calendar day (``datetime64[D]``). Switching at midnight instead of 01:00
    UTC misplaces at most a few scans on two nights a year, which no model can notice.
    """
    days = days.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    first, last = int(years.min(initial=2000)), int(years.max(initial=2000))
    offset = base_offset.astype(np.float64).copy()
    for idx, rule in enumerate(rules):
        if rule == "none":
            continue
        sel = dst_rule == idx
        if not sel.any():
            continue
        starts, ends = _dst_bounds(rule, first, last)
        y = years[sel] - first
        d = days[sel]
        offset[sel] += (d >= starts[y]) & (d < ends[y])
    return offset


def busday_offset_grouped(
    days: np.ndarray,
    offsets: np.ndarray,
    country_idx: np.ndarray,
    weekmask_idx: np.ndarray,
    countries: tuple[str, ...],
    weekmasks: tuple[str, ...],
    years: tuple[int, int],
    roll: str = "forward",
) -> np.ndarray:
    """``numpy.busday_offset`` where each row has its own country holidays and weekmask.

    Rows are grouped by (country, weekmask) so the work stays vectorized: a world has a few
    dozen such groups against hundreds of thousands of rows.
    """
    out = np.empty(days.shape, dtype="datetime64[D]")
    key = country_idx.astype(np.int64) * len(weekmasks) + weekmask_idx
    for k in np.unique(key):
        sel = key == k
        c, w = divmod(int(k), len(weekmasks))
        cal = np.busdaycalendar(
            weekmask=weekmasks[w], holidays=holiday_array(countries[c], years[0], years[1])
        )
        out[sel] = np.busday_offset(
            days[sel].astype("datetime64[D]"), offsets[sel], roll=roll, busdaycal=cal
        )
    return out


def is_busday_grouped(
    days: np.ndarray,
    country_idx: np.ndarray,
    weekmask_idx: np.ndarray,
    countries: tuple[str, ...],
    weekmasks: tuple[str, ...],
    years: tuple[int, int],
) -> np.ndarray:
    """``numpy.is_busday`` with a per-row calendar (see :func:`busday_offset_grouped`)."""
    out = np.empty(days.shape, dtype=bool)
    key = country_idx.astype(np.int64) * len(weekmasks) + weekmask_idx
    for k in np.unique(key):
        sel = key == k
        c, w = divmod(int(k), len(weekmasks))
        cal = np.busdaycalendar(
            weekmask=weekmasks[w], holidays=holiday_array(countries[c], years[0], years[1])
        )
        out[sel] = np.is_busday(days[sel].astype("datetime64[D]"), busdaycal=cal)
    return out

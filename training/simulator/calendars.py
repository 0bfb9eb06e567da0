"""Calendars of the simulated world: public holidays, business days and local clock offsets.

Carriers neither collect nor deliver on Sundays and public holidays, and a parcel handed over on
the Thursday before Easter arrives after the long weekend. The simulator therefore counts transit
in *business days of the destination country* (``numpy.busday_offset`` with a per-country holiday
list) and converts local wall-clock times (cut-offs, delivery windows) to UTC with the country's
daylight-saving rule. The holiday lists are the national ones, simplified: regional holidays and
substitute days are left out, which is documented rather than hidden.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import numpy as np

from app.triage import eta_calendar

SECONDS_PER_DAY = 86_400
SECONDS_PER_HOUR = 3_600

WEEKMASK_MON_FRI = "1111100"
WEEKMASK_MON_SAT = "1111110"


# The holiday rules are the service's own table (``app.triage.eta_calendar``): the simulated world
# and the ETA features then agree on every holiday by construction.
country_holidays = eta_calendar.country_holidays
easter_sunday = eta_calendar.easter_sunday
_nth_weekday = eta_calendar.nth_weekday


@lru_cache(maxsize=256)
def holiday_array(country: str, first_year: int, last_year: int) -> np.ndarray:
    """Holidays as ``datetime64[D]`` for ``numpy.busday_offset``; cached per country and span."""
    days = country_holidays(country, range(first_year, last_year + 1))
    return np.array(days, dtype="datetime64[D]")


black_friday = eta_calendar.black_friday


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

"""National public holidays of the countries Waybill ships between, for the ETA's calendars.

Carriers neither collect nor deliver on public holidays, so business days ahead, the
business-day clock and "holidays ahead" features need them. National holidays only (regional
ones and substitute days are left out): fixed dates, Easter-relative days and "n-th weekday of
a month" rules. Brazil is included for the Olist history (Carnival Monday and Tuesday, Good
Friday, Corpus Christi). Serving code reads this table; it never imports the training package.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

FIXED: dict[str, tuple[tuple[int, int], ...]] = {
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
EASTER_OFFSETS: dict[str, tuple[int, ...]] = {
    "DE": (-2, 1, 39, 50), "AT": (1, 39, 50, 60), "NL": (-2, 1, 39, 50), "BE": (1, 39, 50),
    "FR": (1, 39, 50), "PL": (1, 60), "IT": (1,), "ES": (-2,), "GB": (-2, 1),
    "CH": (-2, 1, 39, 50), "US": (), "BR": (-48, -47, -2, 60),
}


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm)."""
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


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (0 = Monday) of a month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _weekday_rules(country: str, year: int) -> list[date]:
    if country == "GB":  # early May, spring and summer bank holidays
        return [nth_weekday(year, 5, 0, 1), nth_weekday(year, 5, 0, -1),
                nth_weekday(year, 8, 0, -1)]
    if country == "US":  # MLK, Presidents, Memorial, Labor, Columbus days, Thanksgiving
        return [nth_weekday(year, 1, 0, 3), nth_weekday(year, 2, 0, 3),
                nth_weekday(year, 5, 0, -1), nth_weekday(year, 9, 0, 1),
                nth_weekday(year, 10, 0, 2), nth_weekday(year, 11, 3, 4)]
    return []


def country_holidays(country: str, years: Iterable[int]) -> list[date]:
    """National public holidays of ``country`` in ``years``, sorted (none if unknown)."""
    out: set[date] = set()
    for year in years:
        out.update(date(year, m, d) for m, d in FIXED.get(country, ()))
        easter = easter_sunday(year)
        out.update(easter + timedelta(days=off) for off in EASTER_OFFSETS.get(country, ()))
        out.update(_weekday_rules(country, year))
    return sorted(out)


@lru_cache(maxsize=64)
def holiday_days(country: str) -> np.ndarray:
    """Holidays of ``country`` 2000-2045 as sorted ``datetime64[D]``."""
    return np.array(country_holidays(country, range(2000, 2046)), dtype="datetime64[D]")


def black_friday(year: int) -> date:
    """The day after US Thanksgiving (4th Thursday of November): the retail peak starts."""
    return nth_weekday(year, 11, 3, 4) + timedelta(days=1)

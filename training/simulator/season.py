"""Seasonality of the simulated world: peak season, Black Friday, growth, weekday demand.

Kept in one place because volume, transit time, exception rates and surcharges all read the same
peak curve; a data scientist looking for "why is December different" finds it here.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from training.simulator.calendars import black_friday

# Orders placed per weekday, Monday first; Sunday evening shopping is real, warehouses are closed.
WEEKDAY_DEMAND = np.array([1.05, 1.00, 0.98, 0.97, 0.93, 0.90, 1.17])
YEARLY_GROWTH = 0.18  # volume grows 18 % a year: later months are busier than earlier ones
SURCHARGE_WINDOW = ((11, 15), (1, 10))  # carriers' peak surcharges run 15 Nov - 10 Jan


def _day_numbers(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype(np.int64)


def peak_intensity(days: np.ndarray) -> np.ndarray:
    """0 off-peak, rising from ten days before Black Friday to 1 in December, 0 after New Year.

    The same curve scales order volume, transit medians, carrier delays, lost parcels and
    warehouse packing times, so the peak is one coherent event rather than several knobs.
    """
    d = _day_numbers(days)
    out = np.zeros(d.shape)
    if d.size == 0:
        return out
    first = int(days.min().astype("datetime64[Y]").astype(int)) + 1970 - 1
    last = int(days.max().astype("datetime64[Y]").astype(int)) + 1970
    for year in range(first, last + 1):
        bf = black_friday(year)
        anchors = [
            (bf - timedelta(days=10), 0.0), (bf, 0.7), (date(year, 12, 3), 1.0),
            (date(year, 12, 20), 1.0), (date(year, 12, 24), 0.35), (date(year + 1, 1, 3), 0.0),
        ]
        xs = np.array([np.datetime64(a, "D").astype(np.int64) for a, _ in anchors])
        ys = np.array([v for _, v in anchors])
        sel = (d >= xs[0]) & (d <= xs[-1])
        out[sel] = np.maximum(out[sel], np.interp(d[sel], xs, ys))
    return out


def demand_spike(days: np.ndarray) -> np.ndarray:
    """Extra order multiplier on Black Friday, its weekend and Cyber Monday."""
    d = _day_numbers(days)
    out = np.ones(d.shape)
    if d.size == 0:
        return out
    first = int(days.min().astype("datetime64[Y]").astype(int)) + 1970
    last = int(days.max().astype("datetime64[Y]").astype(int)) + 1970
    for year in range(first, last + 1):
        bf = np.datetime64(black_friday(year), "D").astype(np.int64)
        for offset, mult in ((0, 1.9), (1, 1.4), (2, 1.4), (3, 1.8)):
            out[d == bf + offset] *= mult
    return out


def volume_multiplier(days: np.ndarray, start: date) -> np.ndarray:
    """Relative order demand per calendar day (weekday x peak x spike x summer x growth)."""
    d = days.astype("datetime64[D]")
    weekday = (d.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    years = (d.astype(np.int64) - np.datetime64(start, "D").astype(np.int64)) / 365.25
    summer = np.where(month == 8, 0.9, 1.0)
    return (WEEKDAY_DEMAND[weekday] * (1 + 0.8 * peak_intensity(d)) * demand_spike(d)
            * summer * (1 + YEARLY_GROWTH * years))


def in_surcharge_window(days: np.ndarray) -> np.ndarray:
    """True on days carriers add their peak surcharge."""
    d = days.astype("datetime64[D]")
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    (m1, d1), (m2, d2) = SURCHARGE_WINDOW
    return ((month == m1) & (dom >= d1)) | (month == 12) | ((month == m2) & (dom <= d2))


def weekday_of(days: np.ndarray) -> np.ndarray:
    """Monday = 0 ... Sunday = 6."""
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7

"""Calendar facts the simulator leans on."""

from __future__ import annotations

from datetime import date

import numpy as np

from training.simulator.calendars import (
    WEEKMASK_MON_FRI,
    busday_offset_grouped,
    country_holidays,
    easter_sunday,
)
from training.simulator.season import peak_intensity
from training.simulator.world import DEFAULT_WORLD


def test_easter_and_national_holidays() -> None:
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert easter_sunday(2025) == date(2025, 4, 20)
    de = country_holidays("DE", [2024])
    assert date(2024, 10, 3) in de and date(2024, 3, 29) in de and date(2024, 5, 20) in de
    assert date(2024, 11, 28) in country_holidays("US", [2024])  # Thanksgiving
    assert date(2024, 8, 26) in country_holidays("GB", [2024])  # summer bank holiday


def test_business_days_skip_weekends_and_holidays() -> None:
    thursday_before_easter = np.array(["2024-03-28"], dtype="datetime64[D]")
    out = busday_offset_grouped(
        thursday_before_easter,
        np.array([1]),
        np.array([0]),
        np.array([0]),
        ("DE",),
        (WEEKMASK_MON_FRI,),
        (2023, 2025),
    )
    assert out[0] == np.datetime64("2024-04-02")  # Good Friday and Easter Monday skipped


def test_clock_offsets_follow_daylight_saving() -> None:
    w = DEFAULT_WORLD
    zones = np.array(
        [w.zone_index("DE-W"), w.zone_index("DE-W"), w.zone_index("GB-SE"), w.zone_index("US-W")]
    )
    days = np.array(["2024-01-15", "2024-07-15", "2024-07-15", "2024-07-15"], dtype="datetime64[D]")
    assert w.utc_offset(zones, days).tolist() == [1.0, 2.0, 1.0, -7.0]
    utc = w.local_to_utc(days, np.full(4, 17.0), zones)
    back_day, back_hour = w.utc_to_local(utc, zones)
    assert (back_day == days).all() and np.allclose(back_hour, 17.0)


def test_peak_intensity_shape() -> None:
    days = np.array(["2024-06-01", "2024-11-29", "2024-12-10", "2025-01-20"], dtype="datetime64[D]")
    p = peak_intensity(days)
    assert p[0] == 0 and p[3] == 0 and 0.5 < p[1] < 1 and p[2] == 1

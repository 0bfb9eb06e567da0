"""The degradation detector: quiet on seasonal noise, quick on a real shift, hysteresis, holidays;
and the alert state machine."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.sync.alerts.baseline import BaselineConfig, Observation, excused_days, run_series
from app.sync.alerts.series import daily_series
from app.sync.alerts.states import STATES, InvalidTransition, transition

START = date(2024, 1, 1)  # a Monday


def seasonal(
    days: int, seed: int = 0, shift_from: int | None = None, shift: float = 0.0
) -> list[Observation]:
    """Transit hours with a weekday profile (Mondays slow: weekend backlog) and noise."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(days):
        day = START + timedelta(days=i)
        level = 30.0 + (20.0 if day.weekday() == 0 else 0.0)
        value = level + rng.normal(0, 2.0) + (shift if shift_from and i >= shift_from else 0.0)
        out.append(Observation(day, value, 80, 4.0))
    return out


def test_weekday_profile_and_noise_raise_nothing() -> None:
    verdicts = run_series("transit_hours", seasonal(140, seed=3))
    assert not [v for v in verdicts if v.event == "open"]
    judged = [v for v in verdicts if v.z is not None]
    assert len(judged) > 100  # the detector did judge (not silent for lack of history)


def test_a_shift_opens_at_once_and_recovery_resolves_after_two_calm_days() -> None:
    obs = seasonal(120, seed=4, shift_from=70, shift=25.0)
    obs = [
        o if o.day < START + timedelta(days=80) else seasonal(120, seed=4)[i]
        for i, o in enumerate(obs)
    ]
    verdicts = run_series("transit_hours", obs)
    opens = [v for v in verdicts if v.event == "open"]
    resolves = [v for v in verdicts if v.event == "resolve"]
    assert [v.day for v in opens] == [START + timedelta(days=70)]
    assert [v.day for v in resolves] == [START + timedelta(days=81)]
    assert all(v.active for v in verdicts if opens[0].day <= v.day < resolves[0].day)


def test_a_moderate_shift_needs_two_days_to_confirm() -> None:
    cfg = BaselineConfig()
    obs = seasonal(100, seed=5, shift_from=80, shift=13.0)  # ~4.3 sd: confirm, not open
    verdicts = run_series("transit_hours", obs, cfg)
    first = next(v for v in verdicts if v.event == "open")
    assert first.day == START + timedelta(days=81)
    assert first.z is not None and cfg.z_confirm <= first.z < cfg.z_open


def test_holidays_are_not_judged_and_stay_out_of_the_baseline() -> None:
    obs = seasonal(100, seed=6)
    holiday = START + timedelta(days=85)
    spiked = [
        Observation(o.day, o.value + 40.0, o.count, o.spread) if o.day == holiday else o
        for o in obs
    ]
    assert any(v.event == "open" for v in run_series("transit_hours", spiked))
    verdicts = run_series("transit_hours", spiked, excused={holiday})
    assert not [v for v in verdicts if v.event == "open"]
    assert next(v for v in verdicts if v.day == holiday).z is None


def test_excused_days_cover_the_holiday_and_two_business_days_after() -> None:
    days = excused_days(["DE"], date(2024, 4, 25), date(2024, 5, 10))
    # 1 May (Wed) and Ascension (Thu 9 May), each with the two business days after.
    assert {date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)} <= days
    assert {date(2024, 5, 9), date(2024, 5, 10)} <= days
    assert date(2024, 5, 6) not in days and date(2024, 4, 30) not in days


def test_rates_on_thin_days_do_not_alarm() -> None:
    """Three exceptions among 28 parcels on a lane that usually has none is noise."""
    obs = [Observation(START + timedelta(days=i), 0.0, 28) for i in range(60)]
    obs.append(Observation(START + timedelta(days=60), 3 / 28, 28))
    assert not [v for v in run_series("exception_rate", obs) if v.event == "open"]


def test_daily_series_measures_transit_exceptions_and_silence() -> None:
    t = pd.Timestamp("2024-03-04 08:00", tz="UTC")  # Monday
    h = pd.Timedelta(hours=1)
    shipments = pd.DataFrame(
        {
            "shipment_id": ["a", "b", "c"],
            "carrier": "x",
            "service": "s",
            "origin_zone": "DE",
            "destination_zone": ["AT", "AT", "FR"],
        }
    )
    events = pd.DataFrame(
        [
            ("a", t, "in_transit"),
            ("a", t + 30 * h, "delivered"),
            ("b", t, "in_transit"),
            ("b", t + 5 * h, "exception"),
            ("b", t + 50 * h, "delivered"),
            ("c", t, "in_transit"),
        ],
        columns=["shipment_id", "occurred_at", "status"],
    )
    s = daily_series(shipments, events, until=t + 96 * h)

    def value(scope: str, key: str, metric: str, day: str) -> float:
        row = s.loc[
            (s["scope"] == scope)
            & (s["key"] == key)
            & (s["metric"] == metric)
            & (s["day"] == pd.Timestamp(day).date())
        ]
        assert len(row) == 1
        return float(row["value"].iloc[0])

    assert value("carrier", "x", "transit_hours", "2024-03-05") == 30.0
    assert value("lane", "DE:AT", "transit_hours", "2024-03-06") == 50.0
    assert value("carrier", "x", "exception_rate", "2024-03-04") == pytest.approx(1 / 3)
    # End of Wednesday: only c is still out, silent since Monday 08:00 (64 h >= 48 h).
    assert value("carrier", "x", "silent_share", "2024-03-06") == 1.0
    assert value("service", "x:s", "silent_share", "2024-03-04") == 0.0


actions = st.lists(st.sampled_from(["acknowledge", "resolve"]), max_size=8)


@given(actions)
def test_alert_states_only_move_forward(sequence: list[str]) -> None:
    state = "open"
    for action in sequence:
        try:
            new = transition(state, action)
        except InvalidTransition as exc:
            assert state == "resolved" and action == "acknowledge"
            assert exc.state == "resolved"
            continue
        assert STATES.index(new) >= STATES.index(state)  # never back
        assert transition(new, action) == new  # repeating is a no-op
        state = new
    assert state == (
        "resolved" if "resolve" in sequence else "acknowledged" if sequence else "open"
    )

"""The miss probability read from ETA quantiles: calibrated at the quantiles, monotone, and
conditioned on the silence so far."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.sync.alerts.risk import (
    conditional_quantile,
    log_survival,
    miss_probability,
    promise_deadline,
)

Q = np.array([[24.0, 48.0, 96.0, 120.0]])  # p10, p50, p90, p95 in hours


@pytest.mark.parametrize(
    ("deadline", "expected"), [(24.0, 0.9), (48.0, 0.5), (96.0, 0.1), (120.0, 0.05), (144.0, 0.025)]
)
def test_probability_at_the_quantiles_is_their_level(deadline: float, expected: float) -> None:
    assert miss_probability(Q, deadline, -100.0)[0] == pytest.approx(expected, abs=1e-6)


def test_a_passed_deadline_is_missed_for_sure() -> None:
    assert miss_probability(Q, 48.0, 48.0)[0] == 1.0
    assert miss_probability(Q, 48.0, 60.0)[0] == 1.0


def test_silence_makes_it_more_likely() -> None:
    """The same prediction, re-read later without a delivery, grows more pessimistic."""
    p = [miss_probability(Q, 72.0, now)[0] for now in (0.0, 30.0, 50.0, 70.0)]
    assert p == sorted(p) and p[-1] > 0.9 and p[0] < 0.35


quantiles = st.lists(st.floats(0.0, 500.0), min_size=4, max_size=4).map(sorted)


@given(quantiles, st.floats(-50.0, 600.0), st.floats(0.0, 100.0), st.floats(-50.0, 600.0))
def test_probability_is_monotone_and_bounded(
    q: list[float], deadline: float, later: float, now: float
) -> None:
    row = np.array([q])
    p = miss_probability(row, deadline, now)[0]
    assert 0.0 <= p <= 1.0
    assert miss_probability(row, deadline + later, now)[0] <= p + 1e-9  # later deadline
    if now + later < deadline:
        assert miss_probability(row, deadline, now + later)[0] >= p - 1e-9  # longer silence


@given(
    quantiles.filter(lambda q: q[3] - q[0] > 1.0),
    st.floats(0.0, 200.0),
    st.sampled_from([0.1, 0.5, 0.9]),
)
def test_conditional_quantile_inverts_the_probability(
    q: list[float], now: float, level: float
) -> None:
    t = conditional_quantile(q, now, level)
    assert t >= now
    assert miss_probability(np.array([q]), t, now)[0] == pytest.approx(1 - level, abs=1e-3)


def test_survival_is_continuous_across_the_tail() -> None:
    at = np.array([119.999, 120.0, 120.001])
    values = np.exp([log_survival(Q, np.array([t]))[0] for t in at])
    assert np.ptp(values) < 1e-4


def test_promised_day_is_kept_until_local_midnight() -> None:
    assert promise_deadline(date(2024, 6, 10), "Europe/Berlin") == datetime(
        2024, 6, 10, 22, 0, tzinfo=UTC
    )
    assert promise_deadline(date(2024, 1, 10), "America/New_York") == datetime(
        2024, 1, 11, 5, 0, tzinfo=UTC
    )
    assert promise_deadline(date(2024, 1, 10), "Nowhere/Unknown") == datetime(
        2024, 1, 11, 0, 0, tzinfo=UTC
    )

"""The status state machine: order-independent, idempotent, monotonic — checked by property."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.models import ExceptionCategory, TrackingStatus
from app.sync.tracking.state import derive

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
S = TrackingStatus


@dataclass(frozen=True)
class Ev:
    status: TrackingStatus
    occurred_at: datetime
    exception_category: ExceptionCategory | None = None


def ev(status: TrackingStatus, hours: float, category: ExceptionCategory | None = None) -> Ev:
    return Ev(status, T0 + timedelta(hours=hours), category)


events = st.builds(
    ev,
    st.sampled_from(list(TrackingStatus)),
    st.integers(min_value=0, max_value=200),
    st.sampled_from([None, *ExceptionCategory]),
)


@given(st.lists(events, max_size=12), st.randoms())
def test_order_of_arrival_does_not_matter(evts: list[Ev], rnd: random.Random) -> None:
    shuffled = evts[:]
    rnd.shuffle(shuffled)
    assert derive(evts) == derive(shuffled)


@given(st.lists(events, min_size=1, max_size=12))
def test_duplicates_change_nothing(evts: list[Ev]) -> None:
    assert derive(evts + evts[:3]) == derive(evts)


@settings(max_examples=200)
@given(st.lists(events, max_size=12), events)
def test_milestone_never_goes_back(evts: list[Ev], extra: Ev) -> None:
    before = derive(evts).milestone
    after = derive([*evts, extra]).milestone
    if before is not None:
        assert after is not None and after.milestone_rank >= before.milestone_rank


@given(st.lists(events, max_size=12), events)
def test_delivered_is_terminal_except_for_a_return(evts: list[Ev], extra: Ev) -> None:
    state = derive(evts)
    if state.status is S.DELIVERED:
        again = derive([*evts, extra]).status
        assert again in (S.DELIVERED, S.RETURN_TO_SENDER)
        if extra.status is not S.RETURN_TO_SENDER:
            assert again is S.DELIVERED


def test_late_older_scan_does_not_regress() -> None:
    state = derive([ev(S.INFO_RECEIVED, 0), ev(S.OUT_FOR_DELIVERY, 30), ev(S.IN_TRANSIT, 10)])
    assert state.status is S.OUT_FOR_DELIVERY
    assert state.milestone_at == T0 + timedelta(hours=30)


def test_exception_open_until_a_later_scan() -> None:
    exc = ev(S.EXCEPTION, 20, ExceptionCategory.WEATHER_DELAY)
    open_state = derive([ev(S.IN_TRANSIT, 10), exc])
    assert open_state.status is S.EXCEPTION
    assert open_state.open_exception is ExceptionCategory.WEATHER_DELAY
    assert open_state.milestone is S.IN_TRANSIT  # the milestone is kept
    closed = derive([ev(S.IN_TRANSIT, 10), exc, ev(S.IN_TRANSIT, 30)])
    assert closed.status is S.IN_TRANSIT and closed.open_exception is None


def test_exception_reported_late_does_not_erase_a_later_milestone() -> None:
    state = derive([ev(S.OUT_FOR_DELIVERY, 30), ev(S.EXCEPTION, 20, ExceptionCategory.LOST)])
    assert state.status is S.OUT_FOR_DELIVERY


def test_exception_after_delivery_is_recorded_not_applied() -> None:
    state = derive([ev(S.DELIVERED, 30), ev(S.EXCEPTION, 40, ExceptionCategory.DAMAGED)])
    assert state.status is S.DELIVERED and state.delivered_at == T0 + timedelta(hours=30)


def test_return_wins_and_cancellation_yields_to_later_scans() -> None:
    assert derive([ev(S.DELIVERED, 30), ev(S.RETURN_TO_SENDER, 50)]).status is S.RETURN_TO_SENDER
    assert derive([ev(S.RETURN_TO_SENDER, 20), ev(S.DELIVERED, 50)]).status is S.RETURN_TO_SENDER
    assert derive([ev(S.INFO_RECEIVED, 0), ev(S.CANCELLED, 5)]).status is S.CANCELLED
    assert derive([ev(S.CANCELLED, 5), ev(S.IN_TRANSIT, 9)]).status is S.IN_TRANSIT


def test_unknown_never_changes_status() -> None:
    assert derive([ev(S.IN_TRANSIT, 1), ev(S.UNKNOWN, 9)]).status is S.IN_TRANSIT
    assert derive([ev(S.UNKNOWN, 9)]).status is S.UNKNOWN
    assert derive([]).status is S.UNKNOWN

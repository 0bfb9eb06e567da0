"""The shipment status state machine, as a pure function of the events seen so far.

Carriers deliver webhooks duplicated, late and out of order, and polling fills gaps with events
older than ones already stored. Folding events in *arrival* order would make the answer depend
on the network; instead the status is derived from the *set* of events, ordered by when they
happened. The rules (DESIGN §4):

* the milestone is the furthest point on info_received < in_transit < out_for_delivery <
  available_for_pickup < delivered ever reached: a late, older scan never moves a shipment back;
* an exception is *open* while no milestone scan happened after it; it never erases a milestone
  reached later, and a later scan closes it;
* delivered is terminal: later exceptions are recorded but do not change the status — except a
  return_to_sender, which wins whenever it happened: carriers commonly report a parcel sent back
  as "returned", then "delivered" (to the shipper), and customer service must see the return;
* a cancellation stands unless the carrier later scans the parcel anyway;
* unknown statuses are kept with the events but never change the status.

Being a function of a set, it is idempotent (duplicates change nothing) and order-independent,
which the property tests check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.models import ExceptionCategory, TrackingStatus

MILESTONES = frozenset(s for s in TrackingStatus if s.milestone_rank is not None)


class EventLike(Protocol):
    @property
    def status(self) -> TrackingStatus | str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def exception_category(self) -> ExceptionCategory | str | None: ...


@dataclass(frozen=True)
class TrackingState:
    status: TrackingStatus
    milestone: TrackingStatus | None
    milestone_at: datetime | None
    open_exception: ExceptionCategory | None
    exception_at: datetime | None
    delivered_at: datetime | None
    last_event_at: datetime | None

    @property
    def terminal(self) -> bool:
        return self.status in (TrackingStatus.DELIVERED, TrackingStatus.RETURN_TO_SENDER)


EMPTY = TrackingState(TrackingStatus.UNKNOWN, None, None, None, None, None, None)


def _sort_key(event: EventLike) -> tuple[datetime, int, str, str]:
    status = TrackingStatus(event.status)
    rank = status.milestone_rank
    # same instant: milestones in path order, then off-path statuses, then by category, so the
    # result never depends on the order events arrived in
    category = event.exception_category
    return (
        event.occurred_at,
        rank if rank is not None else 10,
        status.value,
        str(getattr(category, "value", category) or ""),
    )


def derive(events: Iterable[EventLike]) -> TrackingState:
    ordered = sorted(events, key=_sort_key)
    if not ordered:
        return EMPTY
    milestone: TrackingStatus | None = None
    milestone_at: datetime | None = None
    last_progress_at: datetime | None = None
    exception: ExceptionCategory | None = None
    exception_at: datetime | None = None
    delivered_at: datetime | None = None
    returned_at: datetime | None = None
    cancelled_at: datetime | None = None
    for event in ordered:
        status = TrackingStatus(event.status)
        at = event.occurred_at
        if status in MILESTONES:
            last_progress_at = at
            if milestone is None or (status.milestone_rank or 0) > (milestone.milestone_rank or 0):
                milestone, milestone_at = status, at
            if status is TrackingStatus.DELIVERED and delivered_at is None:
                delivered_at = at
        elif status is TrackingStatus.EXCEPTION:
            exception = ExceptionCategory(event.exception_category or "other_exception")
            exception_at = at
        elif status is TrackingStatus.RETURN_TO_SENDER:
            returned_at = at
        elif status is TrackingStatus.CANCELLED:
            cancelled_at = at
    open_exception = (
        exception
        if exception_at is not None
        and (last_progress_at is None or exception_at > last_progress_at)
        else None
    )
    status = _status(
        milestone, delivered_at, returned_at, cancelled_at, last_progress_at, open_exception
    )
    return TrackingState(
        status=status,
        milestone=milestone,
        milestone_at=milestone_at,
        open_exception=open_exception if status is TrackingStatus.EXCEPTION else None,
        exception_at=exception_at if status is TrackingStatus.EXCEPTION else None,
        delivered_at=delivered_at,
        last_event_at=ordered[-1].occurred_at,
    )


def _status(
    milestone: TrackingStatus | None,
    delivered_at: datetime | None,
    returned_at: datetime | None,
    cancelled_at: datetime | None,
    last_progress_at: datetime | None,
    open_exception: ExceptionCategory | None,
) -> TrackingStatus:
    if returned_at is not None:
        return TrackingStatus.RETURN_TO_SENDER
    if delivered_at is not None:
        return TrackingStatus.DELIVERED
    if cancelled_at is not None and (last_progress_at is None or cancelled_at > last_progress_at):
        return TrackingStatus.CANCELLED
    if open_exception is not None:
        return TrackingStatus.EXCEPTION
    return milestone or TrackingStatus.UNKNOWN

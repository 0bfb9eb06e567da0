"""The triage label set: one label per canonical status or exception category (DESIGN §4).

The classifier predicts a single label per event; ``status`` and ``category`` follow from it:
forward milestones carry no category, every exception category has status ``exception``
except ``return_to_sender`` and ``cancelled``, which are statuses of their own.
"""

from __future__ import annotations

from enum import StrEnum

from app.models.enums import ExceptionCategory, TrackingStatus


class Label(StrEnum):
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    UNKNOWN = "unknown"
    ADDRESS_ISSUE = "address_issue"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    REFUSED = "refused"
    CUSTOMS_HOLD = "customs_hold"
    DAMAGED = "damaged"
    LOST = "lost"
    WEATHER_DELAY = "weather_delay"
    CARRIER_DELAY = "carrier_delay"
    HELD_BY_CARRIER_SECURITY = "held_by_carrier_security"
    RETURN_TO_SENDER = "return_to_sender"
    CANCELLED = "cancelled"
    OTHER_EXCEPTION = "other_exception"


LABELS: tuple[Label, ...] = tuple(Label)
NORMAL_LABELS: frozenset[str] = frozenset(
    {"info_received", "in_transit", "out_for_delivery", "available_for_pickup", "delivered",
     "unknown"}
)
EXCEPTION_LABELS: frozenset[str] = frozenset(c.value for c in ExceptionCategory)

_SPECIAL_STATUS = {
    "return_to_sender": TrackingStatus.RETURN_TO_SENDER,
    "cancelled": TrackingStatus.CANCELLED,
}


def label_status(label: str) -> TrackingStatus:
    """Canonical status of a label."""
    if label in EXCEPTION_LABELS:
        return _SPECIAL_STATUS.get(label, TrackingStatus.EXCEPTION)
    return TrackingStatus(label)


def label_category(label: str) -> ExceptionCategory | None:
    """Exception category of a label (None for milestones and ``unknown``)."""
    return ExceptionCategory(label) if label in EXCEPTION_LABELS else None


def to_label(status: str | None, category: str | None) -> str:
    """The label of a (status, category) pair, e.g. from a code table or the event store."""
    if category:
        return ExceptionCategory(category).value
    if status in (None, "", "exception"):
        return "other_exception" if status == "exception" else "unknown"
    return TrackingStatus(status).value


def is_exception(label: str) -> bool:
    return label in EXCEPTION_LABELS


__all__ = [
    "EXCEPTION_LABELS", "LABELS", "NORMAL_LABELS", "Label", "is_exception", "label_category",
    "label_status", "to_label",
]

"""The canonical vocabulary (DESIGN §4). Every carrier maps into these; nothing else is shared."""

from __future__ import annotations

from enum import StrEnum


class TrackingStatus(StrEnum):
    """Where a parcel is in its life, in the carrier-neutral vocabulary."""

    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURN_TO_SENDER = "return_to_sender"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @property
    def milestone_rank(self) -> int | None:
        """Position on the forward path, or None for statuses off it (exception, unknown, ...).

        The state machine only ever moves a shipment forward along this rank; off-path statuses
        are recorded without erasing a later milestone.
        """
        return _MILESTONE_RANK.get(self)


_MILESTONE_RANK: dict[TrackingStatus, int] = {
    TrackingStatus.INFO_RECEIVED: 0,
    TrackingStatus.IN_TRANSIT: 1,
    TrackingStatus.OUT_FOR_DELIVERY: 2,
    TrackingStatus.AVAILABLE_FOR_PICKUP: 3,
    TrackingStatus.DELIVERED: 4,
}


class ExceptionCategory(StrEnum):
    """What kind of problem an exception event is; drives team, priority and action."""

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


class ShipmentState(StrEnum):
    """Waybill's own lifecycle of a shipment, from Odoo intent to written-back label."""

    INTENT = "intent"  # a ready picking was seen; nothing bought yet
    RATED = "rated"  # quotes collected
    AWAITING_APPROVAL = "awaiting_approval"  # a dispatcher must choose
    BOOKING = "booking"  # a label purchase is under way (idempotency key persisted)
    BOOKED = "booked"  # the carrier sold a label
    WRITTEN_BACK = "written_back"  # tracking ref, price and label are on the picking
    FAILED = "failed"  # rejected by the carrier or Odoo; needs a person
    CANCELLED = "cancelled"


class WeightUnit(StrEnum):
    KG = "kg"
    G = "g"
    LB = "lb"
    OZ = "oz"


class DimensionUnit(StrEnum):
    CM = "cm"
    MM = "mm"
    IN = "in"


class LabelFormat(StrEnum):
    PDF = "pdf"
    ZPL = "zpl"
    PNG = "png"

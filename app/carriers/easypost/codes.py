"""EasyPost tracker vocabulary → canonical status and exception category.

EasyPost normalizes every carrier into ``status`` (10 values) and ``status_detail`` (28 values,
per its client libraries). Keys here are ``s:<status>`` and ``d:<status_detail>``. Which one wins
depends on the status: a strong status (delivered, out for delivery, returned, cancelled) beats
its detail ("delivered" often arrives with detail ``arrived_at_destination``), while for
pre-transit/in-transit/failure the detail says more.

Deliberately different from karrio's EasyPost table: ``pre_transit`` is not "on hold",
``return_to_sender`` is not "delivery failed", and the detail (not the status) is what carries
the exception reason.

Generic details (``held``, ``failure``, ``expired``) map to ``other_exception``, which the shared
text hints in ``app.carriers.codes`` sharpen from the carrier's own words.
"""

from __future__ import annotations

from app.carriers.codes import CodeTable, S, X

TABLE = CodeTable(
    "easypost",
    {
        # statuses
        "s:pre_transit": (S.INFO_RECEIVED, None),
        "s:in_transit": (S.IN_TRANSIT, None),
        "s:out_for_delivery": (S.OUT_FOR_DELIVERY, None),
        "s:delivered": (S.DELIVERED, None),
        "s:available_for_pickup": (S.AVAILABLE_FOR_PICKUP, None),
        "s:return_to_sender": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),
        "s:failure": (S.EXCEPTION, X.OTHER_EXCEPTION),
        "s:cancelled": (S.CANCELLED, X.CANCELLED),
        "s:error": (S.EXCEPTION, X.OTHER_EXCEPTION),
        "s:unknown": (S.UNKNOWN, None),
        # status details ("unknown" and "status_update" are left out: they fall back to status)
        "d:label_created": (S.INFO_RECEIVED, None),
        "d:awaiting_information": (S.INFO_RECEIVED, None),
        "d:received_at_origin_facility": (S.IN_TRANSIT, None),
        "d:departed_origin_facility": (S.IN_TRANSIT, None),
        "d:arrived_at_facility": (S.IN_TRANSIT, None),
        "d:departed_facility": (S.IN_TRANSIT, None),
        "d:in_transit": (S.IN_TRANSIT, None),
        "d:transferred_to_destination_carrier": (S.IN_TRANSIT, None),
        "d:received_at_destination_facility": (S.IN_TRANSIT, None),
        "d:arrived_at_destination": (S.IN_TRANSIT, None),
        "d:out_for_delivery": (S.OUT_FOR_DELIVERY, None),
        "d:arrived_at_pickup_location": (S.AVAILABLE_FOR_PICKUP, None),
        "d:address_correction": (S.EXCEPTION, X.ADDRESS_ISSUE),
        "d:delivery_exception": (S.EXCEPTION, X.OTHER_EXCEPTION),
        "d:refused": (S.EXCEPTION, X.REFUSED),
        "d:damaged": (S.EXCEPTION, X.DAMAGED),
        "d:lost": (S.EXCEPTION, X.LOST),
        "d:weather_delay": (S.EXCEPTION, X.WEATHER_DELAY),
        "d:delayed": (S.EXCEPTION, X.CARRIER_DELAY),
        "d:missorted": (S.EXCEPTION, X.CARRIER_DELAY),
        "d:transit_exception": (S.EXCEPTION, X.CARRIER_DELAY),
        "d:held": (S.EXCEPTION, X.OTHER_EXCEPTION),
        "d:failure": (S.EXCEPTION, X.OTHER_EXCEPTION),
        "d:expired": (S.EXCEPTION, X.OTHER_EXCEPTION),
        "d:return": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),
        "d:cancelled": (S.CANCELLED, X.CANCELLED),
    },
)

# Statuses whose detail is more specific than the status itself.
DETAIL_FIRST = frozenset({"pre_transit", "in_transit", "failure", "error", "unknown"})

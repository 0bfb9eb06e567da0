"""USPS tracking event codes → canonical status and exception category.

Keys are USPS's numeric/alphanumeric ``eventCode`` values from the public Product Tracking
documentation (karrio matches mnemonics such as ``NH`` that USPS does not send).
"""

from __future__ import annotations

from app.carriers.codes import CodeTable, S, X

TABLE = CodeTable(
    "usps",
    {
        "GX": (S.INFO_RECEIVED, None),  # shipping label created, awaiting item
        "MA": (S.INFO_RECEIVED, None),  # pre-shipment info sent
        "03": (S.IN_TRANSIT, None),  # accepted / picked up
        "OA": (S.IN_TRANSIT, None),  # accepted at origin facility
        "10": (S.IN_TRANSIT, None),  # processed through facility
        "PC": (S.IN_TRANSIT, None),  # sorting complete
        "SF": (S.IN_TRANSIT, None),  # departed post office
        "07": (S.IN_TRANSIT, None),  # arrival at unit
        "06": (S.IN_TRANSIT, None),  # forwarded
        "OF": (S.OUT_FOR_DELIVERY, None),  # out for delivery
        "16": (S.AVAILABLE_FOR_PICKUP, None),  # available for pickup
        "57": (S.AVAILABLE_FOR_PICKUP, None),  # held at post office at customer request
        "01": (S.DELIVERED, None),  # delivered
        "17": (S.DELIVERED, None),  # picked up by agent
        "02": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # notice left
        "51": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # business closed
        "52": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # notice left, receptacle full
        "53": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # receptacle blocked
        "54": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # no secure location available
        "55": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # no access to delivery location
        "56": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # animal interference
        "04": (S.EXCEPTION, X.REFUSED),  # refused
        "05": (S.EXCEPTION, X.ADDRESS_ISSUE),  # undeliverable as addressed
        "21": (S.EXCEPTION, X.ADDRESS_ISSUE),  # no such number
        "22": (S.EXCEPTION, X.ADDRESS_ISSUE),  # insufficient address
        "23": (S.EXCEPTION, X.ADDRESS_ISSUE),  # moved, left no address
        "24": (S.EXCEPTION, X.ADDRESS_ISSUE),  # forward expired
        "25": (S.EXCEPTION, X.ADDRESS_ISSUE),  # addressee unknown
        "26": (S.EXCEPTION, X.ADDRESS_ISSUE),  # vacant
        "08": (S.EXCEPTION, X.CARRIER_DELAY),  # missent
        "15": (S.EXCEPTION, X.CARRIER_DELAY),  # mis-shipped
        "11": (S.EXCEPTION, X.LOST),  # dead letter
        "09": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),  # return to sender
        "27": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),  # unclaimed, returned
        "29": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),  # return to sender, not picked up
    },
)

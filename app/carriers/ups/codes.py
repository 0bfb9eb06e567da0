"""UPS tracking activity → canonical status and exception category.

Keys: the activity ``status.code`` (two characters, most specific) and ``type:<status.type>``
(one of UPS's coarse types). The code is looked up first; an unknown code falls back to its type,
so a new UPS exception code still lands on ``exception`` rather than ``unknown``. (karrio looks at
the type first, which turns every out-for-delivery scan, type ``I``, into "in transit", and it
attaches reasons to ordinary scans such as ``AR``.)

Started from karrio's ``providers/ups/units.py`` and UPS's public tracking documentation.
"""

from __future__ import annotations

from app.carriers.codes import CodeTable, S, X

TABLE = CodeTable(
    "ups",
    {
        # coarse activity types (fallback)
        "type:M": (S.INFO_RECEIVED, None),
        "type:MV": (S.CANCELLED, X.CANCELLED),
        "type:P": (S.IN_TRANSIT, None),
        "type:I": (S.IN_TRANSIT, None),
        "type:W": (S.IN_TRANSIT, None),
        "type:DO": (S.IN_TRANSIT, None),
        "type:DD": (S.IN_TRANSIT, None),
        "type:D": (S.DELIVERED, None),
        "type:X": (S.EXCEPTION, X.OTHER_EXCEPTION),
        "type:RS": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),
        # activity codes
        "MP": (S.INFO_RECEIVED, None),  # order processed: ready for UPS
        "OR": (S.IN_TRANSIT, None),  # origin scan
        "PU": (S.IN_TRANSIT, None),  # pickup scan
        "OC": (S.IN_TRANSIT, None),  # picked up / dropped off
        "AR": (S.IN_TRANSIT, None),  # arrived at facility
        "AF": (S.IN_TRANSIT, None),  # arrived at facility
        "DP": (S.IN_TRANSIT, None),  # departed from facility
        "DS": (S.IN_TRANSIT, None),  # destination scan
        "YP": (S.IN_TRANSIT, None),  # processing at UPS facility
        "EP": (S.IN_TRANSIT, None),  # export scan
        "IP": (S.IN_TRANSIT, None),  # import scan
        "SR": (S.IN_TRANSIT, None),  # released by the customs agency
        "OT": (S.OUT_FOR_DELIVERY, None),  # out for delivery today
        "OF": (S.OUT_FOR_DELIVERY, None),  # out for delivery
        "FS": (S.DELIVERED, None),  # delivered
        "KB": (S.DELIVERED, None),  # delivered to UPS Access Point, picked up by consignee
        "2W": (S.AVAILABLE_FOR_PICKUP, None),  # delivered to UPS Access Point, awaiting pickup
        "ZP": (S.AVAILABLE_FOR_PICKUP, None),  # held for pickup at UPS Access Point
        "48": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # receiver not available; second attempt
        "NH": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # receiver not home
        "RF": (S.EXCEPTION, X.REFUSED),  # refused by receiver
        "RS": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),  # returned to shipper
        "WE": (S.EXCEPTION, X.WEATHER_DELAY),  # weather / emergency condition delay
    },
)

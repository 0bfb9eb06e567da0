"""DHL Express checkpoint (``typeCode``) → canonical status and exception category.

Started from karrio's ``providers/dhl_express/units.py`` (which uses non-core reason names) and
DHL Express's public checkpoint code list.
"""

from __future__ import annotations

from app.carriers.codes import CodeTable, S, X

TABLE = CodeTable(
    "dhl_express",
    {
        "SA": (S.INFO_RECEIVED, None),  # shipment acceptance / data received
        "PU": (S.IN_TRANSIT, None),  # shipment picked up
        "PL": (S.IN_TRANSIT, None),  # processed at location
        "DF": (S.IN_TRANSIT, None),  # departed facility
        "AF": (S.IN_TRANSIT, None),  # arrived at facility
        "AR": (S.IN_TRANSIT, None),  # arrived at delivery facility
        "CI": (S.IN_TRANSIT, None),  # facility check-in
        "IC": (S.IN_TRANSIT, None),  # in clearance processing
        "CR": (S.IN_TRANSIT, None),  # clearance release
        "RR": (S.IN_TRANSIT, None),  # customs status updated
        "TP": (S.IN_TRANSIT, None),  # forwarded to third party
        "WC": (S.OUT_FOR_DELIVERY, None),  # with delivery courier
        "CC": (S.AVAILABLE_FOR_PICKUP, None),  # awaiting collection by recipient
        "OK": (S.DELIVERED, None),  # delivered
        "CD": (S.EXCEPTION, X.CUSTOMS_HOLD),  # clearance delay
        "HP": (S.EXCEPTION, X.CUSTOMS_HOLD),  # held for payment (duties and taxes)
        "BA": (S.EXCEPTION, X.ADDRESS_ISSUE),  # bad address
        "NH": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # not home
        "CA": (S.EXCEPTION, X.RECIPIENT_UNAVAILABLE),  # closed on arrival
        "RD": (S.EXCEPTION, X.REFUSED),  # refused delivery
        "MS": (S.EXCEPTION, X.CARRIER_DELAY),  # mis-sort
        "MD": (S.EXCEPTION, X.CARRIER_DELAY),  # missed delivery cycle
        "TD": (S.EXCEPTION, X.CARRIER_DELAY),  # transport delay
        "OH": (S.EXCEPTION, X.OTHER_EXCEPTION),  # on hold (text decides)
        "RT": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),  # returned to shipper
    },
)

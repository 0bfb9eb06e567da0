"""FedEx scan events → canonical status and exception category.

Keys: the scan ``eventType`` (most specific), then ``derived:<derivedStatusCode>``. Started from
karrio's ``providers/fedex/units.py`` (which emits reason names outside its own enum) and FedEx's
public Track API documentation.
"""

from __future__ import annotations

from app.carriers.codes import CodeTable, S, X

TABLE = CodeTable(
    "fedex",
    {
        "OC": (S.INFO_RECEIVED, None),  # shipment information sent to FedEx
        "PU": (S.IN_TRANSIT, None),  # picked up
        "PX": (S.IN_TRANSIT, None),  # picked up (expedited)
        "AR": (S.IN_TRANSIT, None),  # arrived at FedEx location
        "AF": (S.IN_TRANSIT, None),  # at FedEx facility
        "DP": (S.IN_TRANSIT, None),  # departed FedEx location
        "LO": (S.IN_TRANSIT, None),  # left FedEx origin facility
        "IT": (S.IN_TRANSIT, None),  # in transit
        "AA": (S.IN_TRANSIT, None),  # at airport
        "AC": (S.IN_TRANSIT, None),  # at Canada Post facility
        "CC": (S.IN_TRANSIT, None),  # cleared customs
        "CP": (S.IN_TRANSIT, None),  # clearance in progress
        "TR": (S.IN_TRANSIT, None),  # transfer
        "OD": (S.OUT_FOR_DELIVERY, None),  # on FedEx vehicle for delivery
        "ED": (S.OUT_FOR_DELIVERY, None),  # enroute to delivery
        "HL": (S.AVAILABLE_FOR_PICKUP, None),  # at local FedEx facility, hold at location
        "HP": (S.AVAILABLE_FOR_PICKUP, None),  # ready for recipient pickup
        "DL": (S.DELIVERED, None),  # delivered
        "CD": (S.EXCEPTION, X.CUSTOMS_HOLD),  # clearance delay
        "DE": (S.EXCEPTION, X.OTHER_EXCEPTION),  # delivery exception (text decides)
        "SE": (S.EXCEPTION, X.OTHER_EXCEPTION),  # shipment exception (text decides)
        "DY": (S.EXCEPTION, X.CARRIER_DELAY),  # delay
        "DD": (S.EXCEPTION, X.CARRIER_DELAY),  # delivery delay
        "PD": (S.EXCEPTION, X.CARRIER_DELAY),  # pickup delay
        "RS": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),  # return to shipper
        "RP": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),  # return label link e-mailed
        "CA": (S.CANCELLED, X.CANCELLED),  # shipment cancelled
        # derived (summary) status codes, used when the scan type is new to us
        "derived:IN": (S.INFO_RECEIVED, None),
        "derived:IT": (S.IN_TRANSIT, None),
        "derived:PU": (S.IN_TRANSIT, None),
        "derived:OD": (S.OUT_FOR_DELIVERY, None),
        "derived:DL": (S.DELIVERED, None),
        "derived:DE": (S.EXCEPTION, X.OTHER_EXCEPTION),
        "derived:SE": (S.EXCEPTION, X.OTHER_EXCEPTION),
        "derived:DY": (S.EXCEPTION, X.CARRIER_DELAY),
        "derived:RS": (S.RETURN_TO_SENDER, X.RETURN_TO_SENDER),
        "derived:CA": (S.CANCELLED, X.CANCELLED),
    },
)

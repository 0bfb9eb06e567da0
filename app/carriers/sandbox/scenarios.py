"""Tracking scenarios the sandbox plays, in EasyPost's tracker vocabulary.

Each step is ``(status, status_detail, message, carrier_code)``; the words follow what carriers
print through EasyPost (USPS-style wording), so tables and triage see realistic text.
"""

from __future__ import annotations

Step = tuple[str, str, str, str]

_START: list[Step] = [
    ("pre_transit", "label_created", "Shipping Label Created, USPS Awaiting Item", "GX"),
    ("in_transit", "received_at_origin_facility", "Accepted at USPS Origin Facility", "OA"),
    ("in_transit", "departed_origin_facility", "Departed USPS Regional Facility", "T1"),
    ("in_transit", "arrived_at_facility", "Arrived at USPS Regional Destination Facility", "10"),
]
_END: list[Step] = [
    ("out_for_delivery", "out_for_delivery", "Out for Delivery", "OF"),
    ("delivered", "arrived_at_destination", "Delivered, In/At Mailbox", "01"),
]

SCENARIOS: dict[str, list[Step]] = {
    "delivered": _START + _END,
    "address_issue": [
        *_START,
        ("failure", "address_correction", "Undeliverable as Addressed - No Such Number", "04"),
        ("return_to_sender", "return", "Return to Sender Processed", "09"),
    ],
    "recipient_unavailable": [
        *_START,
        ("out_for_delivery", "out_for_delivery", "Out for Delivery", "OF"),
        (
            "in_transit",
            "delivery_exception",
            "Notice Left (No Authorized Recipient Available)",
            "02",
        ),
        (
            "available_for_pickup",
            "arrived_at_pickup_location",
            "Available for Pickup at Post Office",
            "07",
        ),
    ],
    "customs_hold": [
        *_START[:3],
        ("in_transit", "held", "Held in Customs - Awaiting Clearance Documents", "CH"),
        ("in_transit", "in_transit", "Customs Clearance Processing Complete", "CC"),
        *_END,
    ],
    "weather_delay": [
        *_START,
        ("in_transit", "weather_delay", "Delayed Due to Severe Weather Conditions", "WX"),
        *_END,
    ],
    "damaged": [
        *_START,
        ("failure", "damaged", "Damaged - Item Damaged in Handling, Contact Sender", "DM"),
    ],
    "lost": [
        *_START,
        ("failure", "lost", "Missing Mail Search Opened - Item Cannot Be Located", "LS"),
    ],
    "refused": [
        *_START,
        ("out_for_delivery", "out_for_delivery", "Out for Delivery", "OF"),
        ("failure", "refused", "Refused by Addressee", "21"),
        ("return_to_sender", "return", "Return to Sender Processed", "09"),
    ],
}

DEFAULT = "delivered"

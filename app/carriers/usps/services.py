"""USPS services (karrio service codes) and capabilities."""

from __future__ import annotations

from app.models import CarrierCapabilities, LabelFormat

SERVICES: dict[str, str] = {
    "usps_ground_advantage": "USPS Ground Advantage",
    "usps_priority_mail": "USPS Priority Mail",
    "usps_priority_mail_express": "USPS Priority Mail Express",
    "usps_media_mail": "USPS Media Mail",
    "usps_parcel_select": "USPS Parcel Select",
}

CAPABILITIES = CarrierCapabilities(
    carrier="usps",
    webhooks=False,
    multi_parcel=False,  # one label per package; USPS has no multi-piece shipment
    max_parcels=1,
    label_formats=[LabelFormat.PDF, LabelFormat.ZPL],
    native_idempotency=False,
    cancel_policy=(
        "USPS cancels (refunds) a label only while it is unscanned; refunds of unused labels are "
        "reviewed by USPS before the postage is returned"
    ),
    services=SERVICES,
)

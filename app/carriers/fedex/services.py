"""FedEx services (karrio service codes) and capabilities."""

from __future__ import annotations

from app.models import CarrierCapabilities, LabelFormat

SERVICES: dict[str, str] = {
    "fedex_ground": "FedEx Ground",
    "fedex_home_delivery": "FedEx Home Delivery",
    "fedex_express_saver": "FedEx Express Saver",
    "fedex_2_day": "FedEx 2Day",
    "fedex_standard_overnight": "FedEx Standard Overnight",
    "fedex_priority_overnight": "FedEx Priority Overnight",
    "fedex_international_priority": "FedEx International Priority",
    "fedex_international_economy": "FedEx International Economy",
}

CAPABILITIES = CarrierCapabilities(
    carrier="fedex",
    webhooks=True,
    webhook_signature="fdx-signature: base64 HMAC-SHA256 of the body with the security token",
    multi_parcel=True,
    max_parcels=50,
    label_formats=[LabelFormat.PDF, LabelFormat.ZPL],
    native_idempotency=False,
    cancel_policy=(
        "FedEx cancels a shipment only before it is tendered (no scan yet); a cancelled or "
        "unused label is not billed"
    ),
    services=SERVICES,
)

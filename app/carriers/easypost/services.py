"""EasyPost services we book through, and what the platform can do for us."""

from __future__ import annotations

from app.models import CarrierCapabilities, LabelFormat

SERVICES: dict[str, str] = {
    "easypost_usps_groundadvantage": "USPS Ground Advantage",
    "easypost_usps_priority": "USPS Priority Mail",
    "easypost_usps_express": "USPS Priority Mail Express",
    "easypost_ups_ground": "UPS Ground",
    "easypost_ups_2nddayair": "UPS 2nd Day Air",
    "easypost_ups_nextdayair": "UPS Next Day Air",
    "easypost_fedex_fedex_ground": "FedEx Ground",
    "easypost_fedex_fedex_2_day": "FedEx 2Day",
}

REFUND_WINDOW_DAYS = 30

CAPABILITIES = CarrierCapabilities(
    carrier="easypost",
    webhooks=True,
    webhook_signature="X-Hmac-Signature: hmac-sha256-hex (NFKD-normalized secret)",
    multi_parcel=False,  # the connector books one parcel per shipment (EasyPost Orders not used)
    max_parcels=1,
    label_formats=[LabelFormat.PDF, LabelFormat.ZPL, LabelFormat.PNG],
    native_idempotency=False,
    cancel_policy=(
        "EasyPost voids by refund request: accepted only before the carrier scans the parcel and "
        f"within {REFUND_WINDOW_DAYS} days of purchase; USPS refunds stay 'submitted' until USPS "
        "confirms the label unused"
    ),
    cancel_window_days=REFUND_WINDOW_DAYS,
    services=SERVICES,
)

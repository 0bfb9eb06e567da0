"""UPS services (karrio service codes) and capabilities."""

from __future__ import annotations

from app.models import CarrierCapabilities, LabelFormat

SERVICES: dict[str, str] = {
    "ups_ground": "UPS Ground",
    "ups_3_day_select": "UPS 3 Day Select",
    "ups_2nd_day_air": "UPS 2nd Day Air",
    "ups_next_day_air": "UPS Next Day Air",
    "ups_next_day_air_saver": "UPS Next Day Air Saver",
    "ups_standard": "UPS Standard",
    "ups_worldwide_saver": "UPS Worldwide Saver",
    "ups_worldwide_expedited": "UPS Worldwide Expedited",
    "ups_worldwide_express": "UPS Worldwide Express",
}

VOID_WINDOW_DAYS = 28

CAPABILITIES = CarrierCapabilities(
    carrier="ups",
    webhooks=True,
    webhook_signature="Track Alert: shared credential echoed in the 'credential' header",
    multi_parcel=True,
    max_parcels=50,
    label_formats=[LabelFormat.PDF, LabelFormat.ZPL],
    native_idempotency=False,
    cancel_policy=(
        "UPS voids a shipment only before its first UPS scan (pickup or drop-off) and within "
        f"{VOID_WINDOW_DAYS} days of creation"
    ),
    cancel_window_days=VOID_WINDOW_DAYS,
    services=SERVICES,
)

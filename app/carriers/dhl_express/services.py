"""DHL Express services (karrio MyDHL service codes) and capabilities."""

from __future__ import annotations

from app.models import CarrierCapabilities, LabelFormat

SERVICES: dict[str, str] = {
    "mydhl_express_worldwide": "DHL Express Worldwide",
    "mydhl_express_worldwide_nondoc": "DHL Express Worldwide (non-document)",
    "mydhl_express_12_00": "DHL Express 12:00",
    "mydhl_express_9_00": "DHL Express 9:00",
    "mydhl_economy_select": "DHL Economy Select",
    "mydhl_express_domestic": "DHL Express Domestic",
}

CAPABILITIES = CarrierCapabilities(
    carrier="dhl_express",
    cancel=False,
    webhooks=False,
    multi_parcel=True,
    max_parcels=50,
    label_formats=[LabelFormat.PDF, LabelFormat.ZPL],
    native_idempotency=False,
    cancel_policy=(
        "The MyDHL API cannot void a shipment: a label that is never tendered is not billed. "
        "Cancel the pickup (if booked) instead"
    ),
    services=SERVICES,
)

"""UPS adapter (OAuth REST API v2409 through karrio).

Beyond the connector: one label per package (karrio merges them into one document), tracking
times from UPS's own GMT fields (karrio stamps local time with ``Z``), our code table, and UPS
Track Alert push parsing (the connector has none).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from app.carriers.base import Headers
from app.carriers.errors import WebhookPayloadError
from app.carriers.karrio_support import convert
from app.carriers.karrio_support.adapter import KarrioAdapter
from app.carriers.karrio_support.runtime import Exchange
from app.carriers.timeutil import combine, parse_offset
from app.carriers.ups import codes, services
from app.carriers.webhooks import header, load_json_object, verify_shared_token
from app.models import Label, LabelFormat, Money, TrackingEvent

UTC_TZ = parse_offset("Z")


class UPSAdapter(KarrioAdapter):
    code = "ups"
    karrio_name = "ups"
    table = codes.TABLE
    CAPABILITIES = services.CAPABILITIES
    label_types: ClassVar[dict[LabelFormat, str]] = {
        LabelFormat.PDF: "PDF_6x4",
        LabelFormat.ZPL: "ZPL_6x4",
    }

    def connector_config(self, label_format: LabelFormat | None = None) -> dict[str, Any]:
        return {"enforce_zpl": False}

    # --- booking -------------------------------------------------------------------------------

    def parcel_labels(
        self,
        details: Any,
        exchanges: Sequence[Exchange],
        tracking_numbers: list[str],
        label_format: LabelFormat,
    ) -> list[Label]:
        packages = _package_results(exchanges)
        labels = []
        for index, package in enumerate(packages):
            image = (package.get("ShippingLabel") or {}).get("GraphicImage")
            number = (
                package.get("TrackingNumber")
                or tracking_numbers[min(index, len(tracking_numbers) - 1)]
            )
            if not image:
                continue
            kind = str(
                ((package.get("ShippingLabel") or {}).get("ImageFormat") or {}).get("Code") or ""
            )
            if label_format is LabelFormat.PDF and "ZPL" not in kind.upper():
                import karrio.lib as klib

                # UPS prints GIF for "PDF" requests; convert the way karrio does, per package.
                image = klib.image_to_pdf(image, rotate=-90, resize=dict(height=1800, width=1200))
            data = base64.b64decode(image)
            labels.append(
                Label(
                    tracking_number=str(number),
                    format=convert.sniff_format(data, label_format),
                    data=data,
                    parcel_index=index,
                )
            )
        return labels or super().parcel_labels(details, exchanges, tracking_numbers, label_format)

    def charged(self, details: Any, exchanges: Sequence[Exchange]) -> Money | None:
        results = _ship_results(exchanges)
        charges = (
            (results.get("NegotiatedRateCharges") or {}).get("TotalCharge")
            or (results.get("ShipmentCharges") or {}).get("TotalCharges")
            or {}
        )
        return convert.money(charges.get("MonetaryValue"), charges.get("CurrencyCode"))

    # --- tracking ------------------------------------------------------------------------------

    def is_tracking(self, exchange: Exchange) -> bool:
        return "/api/track/" in exchange.path

    def events_from_payload(self, payload: Any) -> list[TrackingEvent]:
        shipments = ((payload or {}).get("trackResponse") or {}).get("shipment") or []
        events = []
        for shipment in shipments:
            for package in shipment.get("package") or []:
                number = package.get("trackingNumber") or shipment.get("inquiryNumber")
                for activity in package.get("activity") or []:
                    status = activity.get("status") or {}
                    address = (activity.get("location") or {}).get("address") or {}
                    event = self.event(
                        tracking_number=str(number or ""),
                        occurred_at=_activity_time(activity),
                        codes=[status.get("code"), f"type:{status.get('type')}"],
                        raw_code=status.get("code") or status.get("type"),
                        description=status.get("description"),
                        location={
                            "city": address.get("city"),
                            "region": address.get("stateProvince"),
                            "postal_code": address.get("postalCode"),
                            "country_code": address.get("countryCode") or address.get("country"),
                        },
                        event_id=f"{number}:{activity.get('gmtDate') or activity.get('date')}"
                        f"{activity.get('gmtTime') or activity.get('time')}:{status.get('code')}",
                        extra={
                            "ups_type": status.get("type"),
                            "ups_status_code": status.get("statusCode"),
                        },
                    )
                    if event is not None:
                        events.append(event)
        return events

    # --- Track Alert webhooks ------------------------------------------------------------------

    def verify_webhook(self, headers: Headers, body: bytes) -> None:
        """Track Alert echoes the subscription's credential in a ``credential`` header; UPS
        signs nothing and sends no timestamp, so this is a constant-time shared-secret check."""
        verify_shared_token(
            carrier=self.code, secret=self.webhook_secret, presented=header(headers, "credential")
        )

    def parse_webhook(self, headers: Headers, body: bytes) -> list[TrackingEvent]:
        data = load_json_object(self.code, body)
        try:
            status = data["activityStatus"]
            number = data["trackingNumber"]
            if not isinstance(status, dict) or not isinstance(number, str) or not number:
                raise TypeError("activityStatus/trackingNumber")
            place = data.get("activityLocation") or {}
            when = _alert_time(data)
            event = self.event(
                tracking_number=number,
                occurred_at=when,
                codes=[status.get("code"), f"type:{status.get('type')}"],
                raw_code=status.get("code") or status.get("type"),
                description=status.get("description"),
                location={
                    "city": place.get("city"),
                    "region": place.get("stateProvince"),
                    "postal_code": place.get("postalCode"),
                    "country_code": place.get("country"),
                },
                event_id=f"{number}:{data.get('gmtActivityDate') or data.get('localActivityDate')}"
                f"{data.get('gmtActivityTime') or data.get('localActivityTime')}"
                f":{status.get('code')}",
                extra={"ups_type": status.get("type"), "source": "track_alert"},
            )
        except WebhookPayloadError:
            raise
        except Exception as exc:
            raise WebhookPayloadError(f"ups Track Alert message is malformed: {exc}") from None
        if event is None:
            raise WebhookPayloadError("ups Track Alert message has no usable activity time")
        return [event]


def _activity_time(activity: dict[str, Any]) -> Any:
    """UPS gives local date/time plus ``gmtDate``/``gmtTime``/``gmtOffset``; prefer GMT."""
    gmt = combine(activity.get("gmtDate"), activity.get("gmtTime"), tz=UTC_TZ)
    if gmt is not None:
        return gmt
    offset = parse_offset(activity.get("gmtOffset"))
    return combine(activity.get("date"), activity.get("time"), tz=offset)


def _alert_time(data: dict[str, Any]) -> Any:
    gmt = combine(data.get("gmtActivityDate"), data.get("gmtActivityTime"), tz=UTC_TZ)
    if gmt is not None:
        return gmt
    offset = parse_offset(data.get("gmtOffset"))
    return combine(data.get("localActivityDate"), data.get("localActivityTime"), tz=offset)


def _ship_results(exchanges: Sequence[Exchange]) -> dict[str, Any]:
    for exchange in reversed(exchanges):
        if exchange.path.endswith("/ship") and exchange.status and exchange.status < 300:
            try:
                data = json.loads(exchange.body)
            except ValueError:
                return {}
            return ((data or {}).get("ShipmentResponse") or {}).get("ShipmentResults") or {}
    return {}


def _package_results(exchanges: Sequence[Exchange]) -> list[dict[str, Any]]:
    packages = _ship_results(exchanges).get("PackageResults") or []
    return (
        [packages] if isinstance(packages, dict) else [p for p in packages if isinstance(p, dict)]
    )

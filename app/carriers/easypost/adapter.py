"""EasyPost adapter: karrio's EasyPost connector for the wire, our tables and webhook handling.

Workarounds for the connector, each checked in the contract tests:
* service codes: karrio names some services ``easypost_usps_priority`` and leaves others raw
  (``GroundAdvantage``); we always use ``easypost_<carrier>_<service>`` and keep the raw name in
  ``Rate.extra["carrier_service"]`` for booking.
* refunds: karrio reads ``status`` where EasyPost answers ``refund_status``, so a rejected refund
  looked successful; we read ``refund_status`` from the raw answer.
* tracking needs the underlying carrier per number; we take it from the number's shape, falling
  back to the account option ``default_tracking_carrier``.
* webhooks: the connector has none; an Event's ``result`` is a Tracker, parsed like a pull.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from app.carriers.base import Headers
from app.carriers.easypost import codes, services
from app.carriers.errors import WebhookPayloadError
from app.carriers.karrio_support import convert
from app.carriers.karrio_support.adapter import KarrioAdapter
from app.carriers.karrio_support.messages import CarrierMessage
from app.carriers.karrio_support.runtime import Exchange
from app.carriers.timeutil import parse_iso
from app.carriers.webhooks import check_window, header, load_json_object, verify_hmac
from app.models import CancelStatus, LabelFormat, Money, Rate, ShipmentRequest, TrackingEvent

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="

_NUMBER_CARRIERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^1Z[0-9A-Z]{16}$"), "UPS"),
    (re.compile(r"^(94|93|92|95)\d{20}$|^EZ\d{10,}$|^[A-Z]{2}\d{9}US$"), "USPS"),
    (re.compile(r"^\d{12}$|^\d{15}$|^\d{20}$"), "FedEx"),
    (re.compile(r"^\d{10}$"), "DHLExpress"),
)


class EasyPostAdapter(KarrioAdapter):
    code = "easypost"
    karrio_name = "easypost"
    table = codes.TABLE
    CAPABILITIES = services.CAPABILITIES
    # creating an EasyPost shipment only quotes; POST …/buy is the purchase
    PURCHASE_PATH: ClassVar[re.Pattern[str]] = re.compile(r"/buy$")
    label_types: ClassVar[dict[LabelFormat, str]] = {
        LabelFormat.PDF: "PDF",
        LabelFormat.ZPL: "ZPL",
        LabelFormat.PNG: "PNG",
    }
    field_aliases: ClassVar[dict[str, str]] = {
        "to_address": "recipient",
        "from_address": "shipper",
        "parcel": "parcels",
        "street1": "street1",
        "zip": "postal_code",
        "state": "state_code",
        "country": "country_code",
        "service": "service",
    }

    # --- rate / book ---------------------------------------------------------------------------

    def to_rate(self, detail: Any) -> Rate | None:
        import karrio.providers.easypost.units as units

        rate = super().to_rate(detail)
        if rate is None:
            return None
        raw = units.Service.map(rate.service).value_or_key
        provider = str((detail.meta or {}).get("rate_provider") or "").lower().replace(" ", "")
        code = f"easypost_{provider}_{str(raw).lower()}" if provider else rate.service
        extra = {**rate.extra, "carrier_service": raw, "underlying_carrier": provider or None}
        extra["service_name"] = extra.get("service_name") or services.SERVICES.get(code)
        return rate.model_copy(update={"service": code, "extra": extra})

    def book(self, request: ShipmentRequest, rate: Rate, **kwargs: Any) -> Any:
        raw = rate.extra.get("carrier_service") or _raw_service(rate.service)
        return (
            super()
            .book(request, rate.model_copy(update={"service": raw}), **kwargs)
            .model_copy(update={"service": rate.service})
        )

    def charged(self, details: Any, exchanges: Sequence[Exchange]) -> Money | None:
        bought = _last_json(exchanges, lambda x: x.path.endswith("/buy"))
        selected = (bought or {}).get("selected_rate") or {}
        return convert.money(selected.get("rate"), selected.get("currency"))

    def carrier_field(self, message: CarrierMessage) -> str | None:
        errors = message.details.get("errors") or []
        for item in errors if isinstance(errors, list) else []:
            if isinstance(item, dict) and item.get("field"):
                return str(item["field"])
        return None

    # --- cancel --------------------------------------------------------------------------------

    def cancel_status(self, result: Any, exchanges: Sequence[Exchange]) -> CancelStatus:
        refunded = _last_json(exchanges, lambda x: x.path.endswith("/refund")) or {}
        status = refunded.get("refund_status")
        if status == "refunded":
            return CancelStatus.CANCELLED
        if status == "rejected":
            return CancelStatus.REJECTED
        return CancelStatus.REFUND_PENDING

    # --- track ---------------------------------------------------------------------------------

    def tracking_options(self, numbers: list[str]) -> dict[str, Any]:
        default = self.account.options.get("default_tracking_carrier", "USPS")
        return {n: {"carrier": carrier_for_number(n) or default} for n in numbers}

    def is_tracking(self, exchange: Exchange) -> bool:
        return "/trackers" in exchange.path

    def events_from_payload(self, payload: Any) -> list[TrackingEvent]:
        if not isinstance(payload, dict) or payload.get("object") != "Tracker":
            return []
        number = str(payload.get("tracking_code") or "")
        events = []
        for index, item in enumerate(payload.get("tracking_details") or []):
            if not isinstance(item, dict):
                continue
            status = str(item.get("status") or "")
            detail = str(item.get("status_detail") or "")
            message = str(item.get("message") or item.get("description") or "")
            order = (
                [f"d:{detail}", f"s:{status}"]
                if status in codes.DETAIL_FIRST
                else [f"s:{status}", f"d:{detail}"]
            )
            place = item.get("tracking_location") or {}
            event = self.event(
                tracking_number=number,
                occurred_at=parse_iso(item.get("datetime")),  # EasyPost sends UTC ("...Z")
                codes=order,
                description=message,
                raw_code=detail or status or None,
                location={
                    "city": place.get("city"),
                    "region": place.get("state"),
                    "postal_code": place.get("zip"),
                    "country_code": place.get("country"),
                },
                event_id=f"{payload.get('id') or number}:{index}:{item.get('datetime')}",
                extra={
                    "easypost_status": status or None,
                    "easypost_status_detail": detail or None,
                    "carrier_code": item.get("carrier_code"),
                    "source": item.get("source"),
                },
            )
            if event is not None:
                events.append(event)
        return events

    # --- webhooks ------------------------------------------------------------------------------

    def verify_webhook(self, headers: Headers, body: bytes) -> None:
        """``X-Hmac-Signature: hmac-sha256-hex=<hex>`` over the raw body, secret NFKD-normalized
        (as EasyPost's own client libraries do). When EasyPost adds ``X-Timestamp``, it must be
        within five minutes."""
        verify_hmac(
            carrier=self.code,
            secret=self.webhook_secret,
            body=body,
            presented=header(headers, SIGNATURE_HEADER),
            encoding="hex",
            prefix=SIGNATURE_PREFIX,
            nfkd=True,
        )
        stamp = header(headers, "X-Timestamp")
        if stamp:
            try:
                sent = parsedate_to_datetime(stamp)
            except (TypeError, ValueError):
                sent = None
            if sent is None or sent.tzinfo is None:
                from app.carriers.webhooks import reject

                reject(self.code, "stale", "the X-Timestamp header is not an RFC 2822 date")
            else:
                check_window(carrier=self.code, sent_at=sent)

    def parse_webhook(self, headers: Headers, body: bytes) -> list[TrackingEvent]:
        """Tracker events (``tracker.created``/``tracker.updated``) → events; other event types
        (batches, refunds) carry no tracking and give an empty list."""
        data = load_json_object(self.code, body)
        if data.get("object") != "Event" or not isinstance(data.get("description"), str):
            raise WebhookPayloadError("easypost webhook is not an Event object")
        if not data["description"].startswith("tracker."):
            return []
        result = data.get("result")
        if not isinstance(result, dict) or result.get("object") != "Tracker":
            raise WebhookPayloadError("easypost tracker event without a Tracker result")
        try:
            return self.events_from_payload(result)
        except Exception as exc:  # any malformed field is the sender's problem, not a crash
            raise WebhookPayloadError(f"easypost tracker event is malformed: {exc}") from None


def carrier_for_number(number: str) -> str | None:
    return next((c for rx, c in _NUMBER_CARRIERS if rx.match(number)), None)


def _raw_service(code: str) -> str:
    parts = code.split("_", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "easypost" else code


def _last_json(exchanges: Sequence[Exchange], match: Any) -> dict[str, Any] | None:
    import json

    for exchange in reversed(exchanges):
        if exchange.status and exchange.status < 300 and match(exchange):
            try:
                data = json.loads(exchange.body)
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None

"""Tracking platforms that push on behalf of many carriers: AfterShip and Sendcloud.

They are webhook sources, not carriers we book with, so they live beside the tracking intake
rather than under ``app/carriers``. Signature schemes (reference carrier-platforms §3):
AfterShip ``aftership-hmac-sha256`` = base64 HMAC-SHA256 of the body; Sendcloud
``Sendcloud-Signature`` = hex HMAC-SHA256 of the body. Status vocabularies are tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from app.carriers.errors import WebhookPayloadError
from app.carriers.webhooks import header, load_json_object, verify_hmac
from app.models import ExceptionCategory, TrackingEvent, TrackingStatus
from app.models.countries import ISO_COUNTRIES

S, C = TrackingStatus, ExceptionCategory

# AfterShip tags (reference §1.1) and the exception subtags we can name.
AFTERSHIP_TAGS: dict[str, tuple[TrackingStatus, ExceptionCategory | None]] = {
    "InfoReceived": (S.INFO_RECEIVED, None),
    "InTransit": (S.IN_TRANSIT, None),
    "OutForDelivery": (S.OUT_FOR_DELIVERY, None),
    "AttemptFail": (S.EXCEPTION, C.RECIPIENT_UNAVAILABLE),
    "Delivered": (S.DELIVERED, None),
    "AvailableForPickup": (S.AVAILABLE_FOR_PICKUP, None),
    "Exception": (S.EXCEPTION, C.OTHER_EXCEPTION),
    "Expired": (S.UNKNOWN, None),
    "Pending": (S.UNKNOWN, None),
}
AFTERSHIP_SUBTAGS: dict[str, tuple[TrackingStatus, ExceptionCategory | None]] = {
    "Exception_002": (S.EXCEPTION, C.ADDRESS_ISSUE),  # customer moved
    "Exception_003": (S.EXCEPTION, C.REFUSED),
    "Exception_004": (S.EXCEPTION, C.CUSTOMS_HOLD),
    "Exception_005": (S.EXCEPTION, C.CARRIER_DELAY),  # external factors
    "Exception_006": (S.EXCEPTION, C.CUSTOMS_HOLD),  # held for payment (duties)
    "Exception_007": (S.EXCEPTION, C.ADDRESS_ISSUE),
    "Exception_008": (S.EXCEPTION, C.CARRIER_DELAY),  # pickup missed
    "Exception_009": (S.EXCEPTION, C.HELD_BY_CARRIER_SECURITY),  # rejected by carrier
    "Exception_010": (S.RETURN_TO_SENDER, C.RETURN_TO_SENDER),
    "Exception_011": (S.RETURN_TO_SENDER, C.RETURN_TO_SENDER),
    "Exception_012": (S.EXCEPTION, C.DAMAGED),
    "Exception_013": (S.EXCEPTION, C.LOST),
    "Exception_016": (S.EXCEPTION, C.CARRIER_DELAY),
    "Exception_017": (S.EXCEPTION, C.WEATHER_DELAY),
    "Exception_018": (S.EXCEPTION, C.CUSTOMS_HOLD),
}
# Sendcloud's numeric ids are kept raw; its status *message* is what we map, by phrase.
SENDCLOUD_PHRASES: tuple[tuple[str, TrackingStatus, ExceptionCategory | None], ...] = (
    ("awaiting customer pickup", S.AVAILABLE_FOR_PICKUP, None),
    ("ready for pickup", S.AVAILABLE_FOR_PICKUP, None),
    ("collected by customer", S.DELIVERED, None),
    ("delivered", S.DELIVERED, None),
    ("driver en route", S.OUT_FOR_DELIVERY, None),
    ("out for delivery", S.OUT_FOR_DELIVERY, None),
    ("delivery attempt failed", S.EXCEPTION, C.RECIPIENT_UNAVAILABLE),
    ("unable to deliver", S.EXCEPTION, C.OTHER_EXCEPTION),
    ("address invalid", S.EXCEPTION, C.ADDRESS_ISSUE),
    ("returned to sender", S.RETURN_TO_SENDER, C.RETURN_TO_SENDER),
    ("cancel", S.CANCELLED, C.CANCELLED),
    ("en route", S.IN_TRANSIT, None),
    ("sorting", S.IN_TRANSIT, None),
    ("in transit", S.IN_TRANSIT, None),
    ("announced", S.INFO_RECEIVED, None),
    ("ready to send", S.INFO_RECEIVED, None),
)


class _HmacSignedSource:
    """A platform that signs the raw body with a shared secret: only the header and the
    digest's encoding differ between them."""

    code = ""
    signature_header = ""
    signature_encoding: Literal["hex", "base64"] = "hex"

    def __init__(self, secret: str | None) -> None:
        self.secret = secret

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        verify_hmac(
            carrier=self.code,
            secret=self.secret,
            body=body,
            presented=header(headers, self.signature_header),
            encoding=self.signature_encoding,
        )


class AfterShipSource(_HmacSignedSource):
    code = "aftership"
    signature_header = "aftership-hmac-sha256"
    signature_encoding = "base64"

    def parse(self, headers: Mapping[str, str], body: bytes) -> list[TrackingEvent]:
        data = load_json_object(self.code, body)
        msg = data.get("msg")
        if not isinstance(msg, dict) or not msg.get("tracking_number"):
            raise WebhookPayloadError("aftership webhook without msg.tracking_number")
        carrier = str(msg.get("slug") or "aftership")
        number = str(msg["tracking_number"])
        events = []
        for point in msg.get("checkpoints") or []:
            if not isinstance(point, dict):
                raise WebhookPayloadError("aftership checkpoint is not an object")
            tag, subtag = str(point.get("tag") or ""), str(point.get("subtag") or "")
            status, category = AFTERSHIP_SUBTAGS.get(subtag) or AFTERSHIP_TAGS.get(
                tag, (S.UNKNOWN, None)
            )
            events.append(
                _event(
                    carrier,
                    number,
                    point.get("checkpoint_time"),
                    status,
                    category,
                    raw_code=subtag or tag,
                    text=str(point.get("message") or ""),
                    city=point.get("city"),
                    country=point.get("country_region"),
                    postal=point.get("zip"),
                )
            )
        return events


class SendcloudSource(_HmacSignedSource):
    code = "sendcloud"
    signature_header = "Sendcloud-Signature"
    signature_encoding = "hex"

    def parse(self, headers: Mapping[str, str], body: bytes) -> list[TrackingEvent]:
        data = load_json_object(self.code, body)
        if data.get("action") != "parcel_status_changed":
            return []
        parcel = data.get("parcel")
        if not isinstance(parcel, dict) or not parcel.get("tracking_number"):
            raise WebhookPayloadError("sendcloud webhook without parcel.tracking_number")
        status_obj = parcel.get("status") if isinstance(parcel.get("status"), dict) else {}
        message = str(status_obj.get("message") or "")
        status, category = S.UNKNOWN, None
        for phrase, mapped, cat in SENDCLOUD_PHRASES:
            if phrase in message.lower():
                status, category = mapped, cat
                break
        carrier_obj = parcel.get("carrier") if isinstance(parcel.get("carrier"), dict) else {}
        stamp = data.get("timestamp")
        when = (
            datetime.fromtimestamp(int(stamp) / 1000, UTC)
            if isinstance(stamp, int | float)
            else None
        )
        return [
            _event(
                str(carrier_obj.get("code") or "sendcloud"),
                str(parcel["tracking_number"]),
                when,
                status,
                category,
                raw_code=str(status_obj.get("id", "")),
                text=message,
            )
        ]


def _event(
    carrier: str,
    number: str,
    when: Any,
    status: TrackingStatus,
    category: ExceptionCategory | None,
    *,
    raw_code: str,
    text: str,
    city: Any = None,
    country: Any = None,
    postal: Any = None,
) -> TrackingEvent:
    moment = _time(when)
    country_code = str(country).upper() if isinstance(country, str) else None
    location = {
        "city": city or None,
        "postal_code": postal or None,
        "country_code": country_code if country_code in ISO_COUNTRIES else None,
    }
    digest = hashlib.sha256(f"{carrier}|{number}|{moment.isoformat()}|{raw_code}|{text}".encode())
    try:
        return TrackingEvent(
            carrier=carrier,
            tracking_number=number,
            occurred_at=moment,
            status=status,
            raw_code=raw_code or None,
            raw_description=text,
            exception_category=category,
            location=location if any(location.values()) else None,
            carrier_event_id=digest.hexdigest()[:40],
        )
    except ValueError as exc:
        raise WebhookPayloadError(f"{carrier} event is malformed: {exc}") from None


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        raise WebhookPayloadError("event without a timestamp")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WebhookPayloadError(f"unreadable timestamp {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

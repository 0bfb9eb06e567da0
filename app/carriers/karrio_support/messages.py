"""karrio ``Message`` lists + the HTTP exchanges we observed → exactly one ``CarrierError``.

karrio never raises; it returns ``(result, [Message])`` and drops the HTTP status. Transport
facts decide retryability first (timeout, connection, 429, 5xx, 401/403), because a carrier's
error text on a 503 is not a reason to give up. Only then are carrier messages read for what the
carrier rejected, and which canonical field it was about.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from app.carriers.errors import (
    CarrierAddressError,
    CarrierAuthError,
    CarrierConfigError,
    CarrierError,
    CarrierNotSupportedError,
    CarrierParcelError,
    CarrierRateLimitedError,
    CarrierRejectedError,
    CarrierResponseError,
    CarrierServiceError,
    CarrierTimeoutError,
    CarrierUnavailableError,
)
from app.carriers.karrio_support.runtime import Exchange

SDK_INTERNAL = "SHIPPING_SDK_INTERNAL_ERROR"
SDK_NOT_SUPPORTED = "SHIPPING_SDK_NON_SUPPORTED_ERROR"


@dataclass(frozen=True)
class CarrierMessage:
    """A karrio message reduced to what we use."""

    code: str | None
    message: str
    level: str
    details: Mapping[str, Any]

    @classmethod
    def of(cls, msg: Any) -> CarrierMessage:
        return cls(
            code=str(msg.code) if getattr(msg, "code", None) is not None else None,
            message=str(getattr(msg, "message", "") or ""),
            level=str(getattr(msg, "level", None) or "error").lower(),
            details=dict(getattr(msg, "details", None) or {}),
        )

    @property
    def is_error(self) -> bool:
        return self.level == "error"


def errors_only(messages: Iterable[Any]) -> list[CarrierMessage]:
    return [m for m in (CarrierMessage.of(x) for x in messages) if m.is_error]


# --- field inference -----------------------------------------------------------------------

_SIDE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ship\s*from|shipfrom|from_address|shipper|sender|origin", re.I), "shipper"),
    (
        re.compile(r"ship\s*to|shipto|to_address|recipient|consignee|receiver|destination", re.I),
        "recipient",
    ),
)
_FIELD_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"postal|zip|post\s*code|postcode", re.I), "postal_code"),
    (re.compile(r"street|address\s*line|addressline|address1|street1", re.I), "street1"),
    (re.compile(r"\bcity\b|town", re.I), "city"),
    (re.compile(r"state|province", re.I), "state_code"),
    (re.compile(r"country", re.I), "country_code"),
    (re.compile(r"phone", re.I), "phone"),
)
_PARCEL = re.compile(r"weight|overweight|too heavy|heavier|\bkg\b|\blbs?\b", re.I)
_DIMS = re.compile(r"dimension|length|girth|too large|oversize|\bsize\b", re.I)
_SERVICE = re.compile(r"service|product code|mail ?class|not available for this", re.I)
_ADDRESS = re.compile(r"address|postal|zip|city|street|state|province|country", re.I)


def infer_field(
    text: str, *, carrier_field: str | None = None, aliases: Mapping[str, str] | None = None
) -> str | None:
    """The canonical field a carrier error is about: an explicit carrier field path when the
    carrier gives one (mapped through ``aliases``), otherwise keywords in its message."""
    if carrier_field:
        mapped = _alias(carrier_field, aliases or {})
        if mapped:
            return mapped
    if _PARCEL.search(text):
        return "parcels.weight"
    if _DIMS.search(text) and not _ADDRESS.search(text):
        return "parcels.dimensions"
    if _ADDRESS.search(text):
        side = next((s for rx, s in _SIDE_RULES if rx.search(text)), "recipient")
        part = next((f for rx, f in _FIELD_RULES if rx.search(text)), None)
        return f"{side}.{part}" if part else side
    if _SERVICE.search(text):
        return "service"
    return None


def _alias(path: str, aliases: Mapping[str, str]) -> str | None:
    parts = [p for p in re.split(r"[.\[\]/]+", path) if p and not p.isdigit()]
    mapped = [aliases.get(p, aliases.get(p.lower(), p)) for p in parts]
    return ".".join(m for m in mapped if m) or None


def rejected_class(field: str | None) -> type[CarrierRejectedError]:
    if field is None:
        return CarrierRejectedError
    if field.startswith(("recipient", "shipper")):
        return CarrierAddressError
    if field.startswith("parcels"):
        return CarrierParcelError
    if field == "service":
        return CarrierServiceError
    return CarrierRejectedError


# --- retry-after -----------------------------------------------------------------------------


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# --- the mapping -----------------------------------------------------------------------------


def error_for(
    *,
    carrier: str,
    operation: str,
    messages: Sequence[Any],
    exchanges: Sequence[Exchange],
    aliases: Mapping[str, str] | None = None,
    extract_field: Any = None,
) -> CarrierError | None:
    """The error this outcome amounts to, or None if there is nothing to raise."""
    errs = errors_only(messages)
    first = errs[0] if errs else None
    words = "; ".join(f"{m.code}: {m.message}" if m.code else m.message for m in errs)[:500]

    blocked = next((x for x in exchanges if x.error == "forbidden_host"), None)
    if blocked:
        return CarrierConfigError(blocked.error_detail or "forbidden host", carrier=carrier)
    failed = next((x for x in reversed(exchanges) if x.error), None)
    if failed and failed.error == "timeout":
        return CarrierTimeoutError(
            f"{carrier} {operation}: no answer within the timeout ({failed.method} {failed.path})",
            carrier=carrier,
        )
    if failed:
        return CarrierUnavailableError(
            f"{carrier} {operation}: cannot connect ({failed.error_detail})", carrier=carrier
        )
    bad = next((x for x in reversed(exchanges) if x.status and x.status >= 400), None)
    if bad is not None:
        status = bad.status or 0
        body_text = _body_text(bad)
        carrier_words = words or body_text
        common = {
            "carrier": carrier,
            "carrier_code": first.code if first else None,
            "carrier_message": carrier_words or None,
            "http_status": status,
        }
        if status == 429:
            retry_after = retry_after_seconds(bad.header("Retry-After"))
            return CarrierRateLimitedError(
                f"{carrier} {operation}: rate limited"
                + (f", retry after {retry_after:g} s" if retry_after is not None else ""),
                retry_after=retry_after,
                **common,
            )
        if status in (401, 403):
            return CarrierAuthError(f"{carrier} {operation}: credentials refused", **common)
        if status >= 500 or status in (408, 502, 503, 504):
            return CarrierUnavailableError(
                f"{carrier} {operation}: carrier error {status}", **common
            )
        return _rejection(
            carrier,
            operation,
            errs,
            carrier_words,
            common,
            aliases,
            extract_field,
            hint_text=f"{words} {body_text}",
        )
    if first is None:
        return None
    if first.code == SDK_NOT_SUPPORTED:
        return CarrierNotSupportedError(
            f"{carrier} {operation}: not supported by the connector ({first.message})",
            carrier=carrier,
        )
    if first.code == SDK_INTERNAL:
        if "timed out" in first.message.lower():
            return CarrierTimeoutError(f"{carrier} {operation}: timed out", carrier=carrier)
        return CarrierResponseError(
            f"{carrier} {operation}: could not read the carrier's answer ({first.message})",
            carrier=carrier,
            carrier_message=first.message,
        )
    common = {"carrier": carrier, "carrier_code": first.code, "carrier_message": words}
    return _rejection(carrier, operation, errs, words, common, aliases, extract_field)


def _rejection(
    carrier: str,
    operation: str,
    errs: Sequence[CarrierMessage],
    words: str,
    common: dict[str, Any],
    aliases: Mapping[str, str] | None,
    extract_field: Any,
    hint_text: str | None = None,
) -> CarrierRejectedError:
    carrier_field = None
    if extract_field is not None:
        carrier_field = next((f for f in (extract_field(m) for m in errs) if f), None)
    # The SDK's message can drop the carrier's detail (MyDHL's additionalDetails); the raw
    # body is read too when looking for the field.
    field = infer_field(hint_text or words, carrier_field=carrier_field, aliases=aliases)
    cls = rejected_class(field)
    summary = words or "request refused"
    return cls(
        f"{carrier} {operation} rejected" + (f" ({field})" if field else "") + f": {summary}",
        field=field,
        **common,
    )


def _body_text(exchange: Exchange) -> str:
    text = exchange.body[:2000].decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300]
    return json.dumps(data, separators=(",", ":"))[:300]


def raise_for(**kwargs: Any) -> None:
    err = error_for(**kwargs)
    if err is not None:
        raise err

"""Shared webhook plumbing: header lookup, HMAC checks, timestamp windows, JSON decoding.

Signatures are always checked over the raw body bytes (re-serialising parsed JSON changes the
bytes) and compared with ``hmac.compare_digest`` so response time leaks nothing about how much of
a forged signature matched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from app.carriers.errors import WebhookPayloadError, WebhookSignatureError
from app.carriers.metrics import WEBHOOKS_REJECTED

DEFAULT_WINDOW = timedelta(minutes=5)
MAX_BODY_BYTES = 1024 * 1024


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def hmac_sha256(secret: str | bytes, body: bytes, *, nfkd: bool = False) -> bytes:
    if isinstance(secret, str):
        secret = (unicodedata.normalize("NFKD", secret) if nfkd else secret).encode("utf-8")
    return hmac.new(secret, body, hashlib.sha256).digest()


def verify_hmac(
    *,
    carrier: str,
    secret: str | None,
    body: bytes,
    presented: str | None,
    encoding: Literal["hex", "base64"],
    prefix: str = "",
    nfkd: bool = False,
) -> None:
    """Raise ``WebhookSignatureError`` unless ``presented`` is the HMAC-SHA256 of ``body``."""
    if not secret:
        reject(carrier, "no_secret", "no webhook secret is configured for this account")
    if not presented:
        reject(carrier, "missing", "the signature header is missing")
    assert secret is not None and presented is not None
    value = presented.strip()
    if prefix:
        if not value.startswith(prefix):
            reject(carrier, "signature", f"the signature does not start with {prefix!r}")
        value = value[len(prefix) :]
    digest = hmac_sha256(secret, body, nfkd=nfkd)
    # Compare canonical encodings, not decoded bytes: decoding accepts other spellings of the
    # same digest (upper-case hex, base64 with stray trailing bits), and a verifier should accept
    # exactly one signature per body.
    expected = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")
    if not hmac.compare_digest(value.encode("utf-8", "replace"), expected.encode("ascii")):
        reject(carrier, "signature", "the signature does not match the body")


def verify_shared_token(*, carrier: str, secret: str | None, presented: str | None) -> None:
    """For schemes that echo a shared credential instead of signing: constant-time equality."""
    if not secret:
        reject(carrier, "no_secret", "no webhook secret is configured for this account")
    if not presented:
        reject(carrier, "missing", "the credential header is missing")
    assert secret is not None and presented is not None
    if not hmac.compare_digest(presented.strip().encode(), secret.encode()):
        reject(carrier, "signature", "the credential does not match")


def check_window(
    *,
    carrier: str,
    sent_at: datetime,
    now: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
) -> None:
    """Reject replays: the sender's timestamp must be within ``window`` of our clock."""
    now = now or datetime.now(UTC)
    if abs(now - sent_at) > window:
        reject(
            carrier, "stale", f"the timestamp is outside the {int(window.total_seconds())} s window"
        )


def reject(carrier: str, reason: str, message: str) -> None:
    WEBHOOKS_REJECTED.labels(carrier=carrier, reason=reason).inc()
    raise WebhookSignatureError(f"{carrier} webhook rejected: {message}")


def load_json_object(carrier: str, body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or ``WebhookPayloadError`` (never anything else)."""
    if len(body) > MAX_BODY_BYTES:
        WEBHOOKS_REJECTED.labels(carrier=carrier, reason="payload").inc()
        raise WebhookPayloadError(f"{carrier} webhook body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        WEBHOOKS_REJECTED.labels(carrier=carrier, reason="payload").inc()
        raise WebhookPayloadError(f"{carrier} webhook body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        WEBHOOKS_REJECTED.labels(carrier=carrier, reason="payload").inc()
        raise WebhookPayloadError(f"{carrier} webhook body is not a JSON object")
    return data

"""Personal data and secrets kept out of logs, including excerpts of raw carrier payloads.

Carriers spell the same fields many ways (``AttentionName``, ``personName``, ``addressLine1``,
``postalCode``, ``phoneNumber``, ``streetLines``), so keys are split into words (camelCase,
snake_case, digits dropped) and judged by their words rather than looked up verbatim:

* address words (street, address, zip, postal, city, …), phone and e-mail words → personal;
* ``name`` alone, or after a person word (``personName``, ``AttentionName``, ``contact_name``,
  ``CompanyName``) → personal; ``service_name`` and ``carrier_name`` stay readable;
* secret words (password, secret, token, authorization, api key, …) → secret.

Free text is scrubbed of e-mail addresses, phone numbers, Waybill API keys, bearer tokens and
secrets in URL query strings.
``payload_excerpt`` redacts a raw body *before* cutting it to length, so a cut can never separate
a value from the key that marks it as personal. This module imports nothing from the project, so
the logging setup can use it without an import cycle.
"""

from __future__ import annotations

import itertools
import json
import re
from functools import lru_cache
from typing import Any

REDACTED = "[redacted]"

ADDRESS_WORDS = frozenset(
    {
        "street",
        "streets",
        "address",
        "addresses",
        "addressline",
        "addresslines",
        "zip",
        "zipcode",
        "postal",
        "postcode",
        "city",
        "suburb",
        "recipient",
        "consignee",
        "shipper",
        "sender",
        "addressee",
    }
)
CONTACT_WORDS = frozenset(
    {"phone", "phones", "telephone", "mobile", "fax", "email", "emails", "vat"}
)
SIGNER_WORDS = frozenset({"signer", "signatory", "signee"})
PERSON_PAIRS = frozenset({("signed", "by"), ("received", "by"), ("delivered", "to")})
PERSON_WORDS = frozenset(
    {
        "person",
        "full",
        "first",
        "last",
        "given",
        "family",
        "middle",
        "contact",
        "attention",
        "company",
        "recipient",
        "customer",
        "partner",
        "shipper",
        "consignee",
        "sender",
        "receiver",
        "legal",
        "buyer",
        "addressee",
        "display",
        "user",
        "by",
    }
)
SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "authorization",
        "credential",
        "credentials",
        "pepper",
        "cookie",
        "signature",
    }
)
SECRET_PAIRS = frozenset(
    {("api", "key"), ("access", "key"), ("private", "key"), ("client", "secret")}
)

_EMAIL = re.compile(r'[^\s@"<>,;:()\[\]]+@[^\s@"\'<>,;:()\[\]]+\.[^\s@"\'<>,;:()\[\]]+')
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ()./-]{7,}\d(?!\w)")
API_KEY_PATTERN = re.compile(r"wb_(?:live|test|dev)_[0-9A-Za-z]{6,}_[0-9A-Za-z]{16,}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# Secrets riding in URLs (Odoo's automation webhook carries ``?token=``; clients log URLs).
_URL_SECRET = re.compile(
    r"(?i)([?&](?:token|access_token|api_?key|key|secret|password|passwd|signature|sig)=)"
    r"[^&\s\"'#]+"
)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def key_words(key: str) -> tuple[str, ...]:
    """``AttentionName`` → (attention, name); ``address_line_1`` → (address, line)."""
    spaced = _ACRONYM.sub(r"\1 \2", _CAMEL.sub(r"\1 \2", key))
    words = (w.rstrip("0123456789") for w in _SPLIT.split(spaced.lower()))
    return tuple(w for w in words if w)


@lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    words = key_words(key)
    if any(w in SECRET_WORDS for w in words):
        return True
    return any(pair in SECRET_PAIRS for pair in itertools.pairwise(words))


@lru_cache(maxsize=4096)
def is_pii_key(key: str) -> bool:
    """True for keys whose values are personal data or secrets."""
    words = key_words(key)
    if not words:
        return False
    if is_secret_key(key):
        return True
    for i, word in enumerate(words):
        if word in ADDRESS_WORDS or word in CONTACT_WORDS:
            return True
        if word == "name" and (len(words) == 1 or (i > 0 and words[i - 1] in PERSON_WORDS)):
            return True
        if word.endswith("name") and word[:-4] in PERSON_WORDS:  # "attentionname"
            return True
        if word.startswith("address") or word.startswith("street"):  # "addressline"
            return True
        if word in SIGNER_WORDS:
            return True
    return any(pair in PERSON_PAIRS for pair in itertools.pairwise(words))


IDENTIFIER_WORDS = frozenset({"id", "ids", "code", "number", "numbers", "ref", "reference", "key"})


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    return REDACTED if 8 <= digits <= 15 else match.group(0)  # E.164 has at most 15 digits


def scrub_text(text: str, *, phones: bool = True) -> str:
    """Mask e-mail addresses, phone numbers, API keys and bearer/basic credentials in text.

    A phone number stands alone with 8 to 15 digits: a digit run glued to letters
    (``1Z999AA10123456784``) or longer than E.164 allows (USPS's 22 digits) is an identifier.
    """
    text = API_KEY_PATTERN.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _URL_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _EMAIL.sub(REDACTED, text)
    return _PHONE.sub(_phone, text) if phones else text


def is_identifier_key(key: str) -> bool:
    """``tracking_number``, ``tracking_code``, ``picking_id``: values are ids, not phones."""
    words = key_words(key)
    return bool(words) and words[-1] in IDENTIFIER_WORDS and not is_pii_key(key)


def redact_pii(value: Any, *, key: str | None = None) -> Any:
    """Recursively mask personal data: whole values under personal keys, patterns in text."""
    if key is not None and value not in (None, False, "") and is_pii_key(str(key)):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact_pii(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_pii(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value, phones=key is None or not is_identifier_key(str(key)))
    return value


_JSON_PAIR = re.compile(
    r'"(?P<key>[^"\\]{1,64})"\s*:\s*(?P<value>"(?:[^"\\]|\\.)*"?|[^,}\]\s{\[]+)'
)
_XML_PAIR = re.compile(r"<(?P<tag>[A-Za-z_][\w:.-]{0,63})(?P<attrs>[^>]*)>(?P<value>[^<]*)")
_FORM_PAIR = re.compile(r"(?P<key>[A-Za-z_][\w.-]{0,63})=(?P<value>[^&\s]*)")


def _redact_loose_text(text: str) -> str:
    """Redact PII in text that is not valid JSON (truncated JSON, XML, form bodies)."""

    def json_pair(m: re.Match[str]) -> str:
        if is_pii_key(m.group("key")):
            return f'"{m.group("key")}":"{REDACTED}"'
        return m.group(0)

    def xml_pair(m: re.Match[str]) -> str:
        local = m.group("tag").rsplit(":", 1)[-1]
        if m.group("value").strip() and is_pii_key(local):
            return f"<{m.group('tag')}{m.group('attrs')}>{REDACTED}"
        return m.group(0)

    def form_pair(m: re.Match[str]) -> str:
        if m.group("value") and is_pii_key(m.group("key")):
            return f"{m.group('key')}={REDACTED}"
        return m.group(0)

    text = _JSON_PAIR.sub(json_pair, text)
    text = _XML_PAIR.sub(xml_pair, text)
    text = _FORM_PAIR.sub(form_pair, text)
    return scrub_text(text)


def payload_excerpt(payload: Any, limit: int = 300) -> str:
    """A short, redacted rendering of a raw payload (dict, JSON text or bytes) for a log line."""
    if isinstance(payload, bytes | bytearray):
        payload = bytes(payload).decode("utf-8", errors="replace")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            text = _redact_loose_text(payload.strip())
            return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
    rendered = json.dumps(redact_pii(payload), separators=(",", ":"), default=str)
    return rendered if len(rendered) <= limit else rendered[: max(0, limit - 1)] + "…"

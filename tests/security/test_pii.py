"""Personal data in carrier payloads and log excerpts is masked, whatever the carrier calls it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.security_keys import generate_key
from app.core.security_pii import REDACTED, is_pii_key, payload_excerpt, redact_pii, scrub_text

UPS = {
    "Shipment": {
        "ShipTo": {
            "Name": "Ada Lovelace",
            "AttentionName": "Ada L.",
            "Phone": {"Number": "4930123456"},
            "Address": {"AddressLine": ["1 Main St"], "City": "Berlin", "PostalCode": "10115"},
        },
        "Service": {"Code": "03", "Description": "Ground"},
    }
}
FEDEX = {
    "recipients": [
        {
            "contact": {
                "personName": "Grace Hopper",
                "phoneNumber": "+1 555 010 9999",
                "emailAddress": "grace@example.com",
                "companyName": "Navy",
            },
            "address": {"streetLines": ["2 Side Rd"], "postalCode": "20001", "countryCode": "US"},
        }
    ],
    "serviceType": "FEDEX_GROUND",
    "receivedByName": "G. HOPPER",
}
EASYPOST = {
    "tracking_code": "EZ1000000001",
    "status": "delivered",
    "signed_by": "Alan Turing",
    "to_address": {"name": "Alan Turing", "street1": "3 Park Ln", "zip": "SW1"},
    "carrier_detail": {"service": "Priority", "origin_location": "LONDON GB"},
}

PERSONAL = [
    "Ada Lovelace", "Ada L.", "4930123456", "1 Main St", "Berlin", "10115", "Grace Hopper",
    "555 010 9999", "grace@example.com", "Navy", "2 Side Rd", "20001", "G. HOPPER",
    "Alan Turing", "3 Park Ln", "SW1",
]  # fmt: skip
KEPT = ["Ground", "FEDEX_GROUND", "EZ1000000001", "delivered", "Priority", "US", '"03"']


@pytest.mark.parametrize("payload", [UPS, FEDEX, EASYPOST], ids=["ups", "fedex", "easypost"])
def test_carrier_payloads_lose_personal_data_and_keep_the_rest(payload: dict[str, object]) -> None:
    text = json.dumps(redact_pii(payload))
    assert not [p for p in PERSONAL if p in text]
    assert any(k in text for k in KEPT)


@pytest.mark.parametrize(
    ("key", "personal"),
    [
        ("name", True),
        ("AttentionName", True),
        ("personName", True),
        ("contact_name", True),
        ("CompanyName", True),
        ("addressLine1", True),
        ("street2", True),
        ("postalCode", True),
        ("zip", True),
        ("phoneNumber", True),
        ("emailAddress", True),
        ("signed_by", True),
        ("Authorization", True),
        ("X-API-Key", True),
        ("client_secret", True),
        ("service_name", False),
        ("carrier_name", False),
        ("tracking_number", False),
        ("status", False),
        ("mailClass", False),
        ("key_id", False),
        ("country_code", False),
        ("idempotency_key", False),
    ],
)
def test_keys_are_judged_by_their_words(key: str, personal: bool) -> None:
    assert is_pii_key(key) is personal


def test_excerpt_of_valid_json_is_redacted_then_cut() -> None:
    excerpt = payload_excerpt(json.dumps(FEDEX).encode(), limit=120)
    assert len(excerpt) <= 120 and excerpt.endswith("…")
    assert "Grace" not in excerpt and REDACTED in excerpt


def test_excerpt_of_truncated_json_still_hides_values() -> None:
    raw = json.dumps(EASYPOST)[:-40]  # cut mid-object: not parseable any more
    excerpt = payload_excerpt(raw, limit=1000)
    assert "Alan" not in excerpt and "3 Park Ln" not in excerpt
    assert "EZ1000000001" in excerpt


def test_excerpt_of_xml_and_form_bodies() -> None:
    xml = (
        "<TrackResponse><Shipment><ShipTo><AttentionName>Ada</AttentionName>"
        "<City>Berlin</City><CountryCode>DE</CountryCode></ShipTo></Shipment></TrackResponse>"
    )
    out = payload_excerpt(xml)
    assert "Ada" not in out and "Berlin" not in out and "<CountryCode>DE" in out
    form = b"name=Ada+Lovelace&email=ada%40example.org&status=delivered"
    out = payload_excerpt(form)
    assert "Lovelace" not in out and "example.org" not in out and "status=delivered" in out


def test_api_keys_and_bearer_tokens_in_text_are_masked() -> None:
    key = generate_key()[1]
    out = scrub_text(f"GET /v1/things?api_key={key} Authorization: Bearer abcdefghijklmnop")
    assert key not in out and "abcdefghijklmnop" not in out


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("POST http://h/v1/odoo/webhook?token=sandbox-keyx HTTP/1.1", "sandbox-keyx"),
        ("GET /cb?a=1&access_token=Zx9_long&b=2", "Zx9_long"),
        ("https://h/p?apikey=k3y#frag", "k3y"),
    ],
)
def test_secrets_in_url_query_strings_are_masked(url: str, secret: str) -> None:
    out = scrub_text(url)
    assert secret not in out and REDACTED in out


def test_ordinary_query_parameters_stay_readable() -> None:
    assert scrub_text("GET /v1/shipments?state=booked&limit=5") == (
        "GET /v1/shipments?state=booked&limit=5"
    )


@given(st.emails())
def test_any_email_in_text_is_masked(email: str) -> None:
    assert email not in scrub_text(f"contact {email}, please")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call +49 30 1234567 today", True),
        ("call 030/1234567", True),
        ("(555) 010-9999 ext", True),
        ("usps 9400111899223100000000 in transit", False),  # 22 digits: not a phone
        ("ups 1Z999AA10123456784", False),  # digits glued to letters: an identifier
        ("EZ1000000001", False),
    ],
)
def test_phone_numbers_versus_tracking_numbers(text: str, masked: bool) -> None:
    assert (REDACTED in scrub_text(text)) is masked


def test_identifier_fields_are_not_mistaken_for_phones() -> None:
    out = redact_pii({"tracking_number": "123456789012", "note": "123456789012", "picking_id": 7})
    assert out == {"tracking_number": "123456789012", "note": REDACTED, "picking_id": 7}

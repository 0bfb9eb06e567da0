"""Property tests: webhook parsing fails only with ``WebhookPayloadError``; signature checks
reject any single-byte change to the body."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.carriers.errors import WebhookPayloadError, WebhookSignatureError
from app.carriers.registry import build_adapter

from .conftest import fixture_bytes, make_account

SECRET = "whsec-test-1234"
ADAPTERS = {
    "easypost": build_adapter(make_account("easypost", {"api_key": "k"})),
    "ups": build_adapter(make_account("ups", {"client_id": "c", "client_secret": "s"})),
    "fedex": build_adapter(make_account("fedex", {"api_key": "k", "secret_key": "s"})),
}
SAMPLE_EASYPOST = json.dumps(
    {
        "object": "Event",
        "description": "tracker.updated",
        "result": {
            "object": "Tracker",
            "id": "trk_1",
            "tracking_code": "9400100000000000000000",
            "tracking_details": [
                {
                    "status": "in_transit",
                    "status_detail": "weather_delay",
                    "message": "Delayed due to weather",
                    "datetime": "2026-11-24T10:00:00Z",
                    "tracking_location": {"city": "ATLANTA", "state": "GA", "country": "US"},
                }
            ],
        },
    }
).encode()
SAMPLES = {
    "easypost": SAMPLE_EASYPOST,
    "ups": fixture_bytes("ups", "track_alert_event.json"),
    "fedex": fixture_bytes("fedex", "webhook_event.json"),
}


def _headers(carrier: str, body: bytes) -> dict[str, str]:
    if carrier == "easypost":
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        return {"X-Hmac-Signature": f"hmac-sha256-hex={digest}"}
    if carrier == "fedex":
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
        return {"fdx-signature": base64.b64encode(digest).decode()}
    return {"credential": SECRET}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
PROPS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("carrier", sorted(ADAPTERS))
@PROPS
@given(body=st.binary(max_size=512))
def test_parse_arbitrary_bytes_only_raises_payload_error(carrier, body):
    try:
        events = ADAPTERS[carrier].parse_webhook({}, body)
    except WebhookPayloadError:
        return
    assert isinstance(events, list)


@pytest.mark.parametrize("carrier", sorted(ADAPTERS))
@PROPS
@given(value=json_values)
def test_parse_arbitrary_json_only_raises_payload_error(carrier, value):
    body = json.dumps(value).encode()
    try:
        events = ADAPTERS[carrier].parse_webhook({}, body)
    except WebhookPayloadError:
        return
    assert isinstance(events, list)


@pytest.mark.parametrize("carrier", sorted(ADAPTERS))
@PROPS
@given(data=st.data())
def test_parse_mutated_real_payloads_only_raises_payload_error(carrier, data):
    doc = json.loads(SAMPLES[carrier])
    raw = json.dumps(doc)
    position = data.draw(st.integers(0, len(raw) - 1))
    replacement = data.draw(st.text(max_size=3))
    body = (raw[:position] + replacement + raw[position + 1 :]).encode()
    with contextlib.suppress(WebhookPayloadError):
        ADAPTERS[carrier].parse_webhook({}, body)


@pytest.mark.parametrize("carrier", ["easypost", "fedex"])
@PROPS
@given(data=st.data())
def test_any_single_byte_change_breaks_the_signature(carrier, data):
    body = SAMPLES[carrier]
    headers = _headers(carrier, body)
    adapter = ADAPTERS[carrier]
    adapter.verify_webhook(headers, body)  # the untouched body verifies
    index = data.draw(st.integers(0, len(body) - 1))
    new_byte = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]))
    tampered = body[:index] + bytes([new_byte]) + body[index + 1 :]
    with pytest.raises(WebhookSignatureError):
        adapter.verify_webhook(headers, tampered)


@pytest.mark.parametrize("carrier", sorted(ADAPTERS))
@PROPS
@given(data=st.data())
def test_any_single_byte_change_to_the_signature_is_rejected(carrier, data):
    body = SAMPLES[carrier]
    headers = _headers(carrier, body)
    name, value = next(iter(headers.items()))
    index = data.draw(st.integers(0, len(value) - 1))
    char = data.draw(st.characters(codec="ascii").filter(lambda c: c != value[index]))
    forged = value[:index] + char + value[index + 1 :]
    with pytest.raises(WebhookSignatureError):
        ADAPTERS[carrier].verify_webhook({name: forged}, body)


def test_easypost_parse_sample():
    [event] = ADAPTERS["easypost"].parse_webhook({}, SAMPLE_EASYPOST)
    assert event.exception_category.value == "weather_delay"

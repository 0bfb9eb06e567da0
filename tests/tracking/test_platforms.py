"""AfterShip and Sendcloud pushes: signatures over the raw body, status tables, robust parsing."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.carriers.errors import WebhookPayloadError, WebhookSignatureError
from app.models import ExceptionCategory, TrackingStatus
from app.sync.tracking.platforms import AfterShipSource, SendcloudSource

AFTERSHIP = {
    "event": "tracking_update",
    "msg": {
        "tracking_number": "1Z999AA10123456784",
        "slug": "ups",
        "checkpoints": [
            {
                "checkpoint_time": "2026-11-02T08:00:00+01:00",
                "tag": "InTransit",
                "subtag": "InTransit_002",
                "message": "Arrival Scan",
                "city": "Köln",
                "country_region": "DE",
            },
            {
                "checkpoint_time": "2026-11-03T09:30:00+01:00",
                "tag": "Exception",
                "subtag": "Exception_004",
                "message": "Held in customs",
            },
        ],
    },
}
SENDCLOUD = {
    "action": "parcel_status_changed",
    "timestamp": 1793602800000,
    "parcel": {
        "tracking_number": "3SABC123",
        "status": {"id": 11, "message": "Delivered"},
        "carrier": {"code": "postnl"},
    },
}


def aftership_sig(body: bytes, secret: str = "as-secret") -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def sendcloud_sig(body: bytes, secret: str = "sc-secret") -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_aftership_verifies_and_maps_subtags() -> None:
    body = json.dumps(AFTERSHIP).encode()
    source = AfterShipSource("as-secret")
    source.verify({"aftership-hmac-sha256": aftership_sig(body)}, body)
    events = source.parse({}, body)
    assert [e.status for e in events] == [TrackingStatus.IN_TRANSIT, TrackingStatus.EXCEPTION]
    assert events[1].exception_category is ExceptionCategory.CUSTOMS_HOLD
    assert events[0].location is not None and events[0].location.country_code == "DE"
    assert events[0].raw_code == "InTransit_002" and events[0].raw_description == "Arrival Scan"
    with pytest.raises(WebhookSignatureError):
        source.verify({"aftership-hmac-sha256": aftership_sig(body, "wrong")}, body)


def test_sendcloud_verifies_and_maps_by_message() -> None:
    body = json.dumps(SENDCLOUD).encode()
    source = SendcloudSource("sc-secret")
    source.verify({"Sendcloud-Signature": sendcloud_sig(body)}, body)
    (event,) = source.parse({}, body)
    assert event.status is TrackingStatus.DELIVERED
    assert event.carrier == "postnl" and event.raw_code == "11"
    with pytest.raises(WebhookSignatureError):
        source.verify({}, body)


@given(st.binary(min_size=1, max_size=200), st.integers(min_value=0, max_value=10_000))
def test_any_single_byte_change_breaks_the_signature(body: bytes, position: int) -> None:
    source = SendcloudSource("sc-secret")
    signature = sendcloud_sig(body)
    source.verify({"Sendcloud-Signature": signature}, body)
    index = position % len(body)
    tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
    with pytest.raises(WebhookSignatureError):
        source.verify({"Sendcloud-Signature": signature}, tampered)


@given(
    st.binary(max_size=300)
    | st.text(max_size=300).map(str.encode)
    | st.recursive(
        st.none() | st.integers() | st.text(max_size=20),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "msg",
                        "checkpoints",
                        "tracking_number",
                        "parcel",
                        "action",
                        "status",
                        "tag",
                        "checkpoint_time",
                    ]
                ),
                c,
                max_size=4,
            )
        ),
        max_leaves=12,
    ).map(lambda v: json.dumps(v).encode())
)
def test_parsers_fail_only_with_payload_errors(body: bytes) -> None:
    for source in (AfterShipSource("x"), SendcloudSource("x")):
        with contextlib.suppress(WebhookPayloadError):
            source.parse({}, body)

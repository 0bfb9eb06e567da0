"""FedEx contract: karrio's real request building against golden FedEx responses."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from app.carriers.errors import WebhookSignatureError
from app.carriers.registry import build_adapter
from app.models import CancelStatus, ExceptionCategory, TrackingStatus

from .conftest import fixture_bytes, make_account, us_request

CREDS = {
    "api_key": "fx-key",
    "secret_key": "fx-secret",
    "account_number": "510087020",
    "track_api_key": "fx-track-key",
    "track_secret_key": "fx-track-secret",
}


@pytest.fixture
def fedex(fake_http):
    fake = fake_http("fedex").on("POST", r"/oauth/token", "oauth_token.json")
    return fake, build_adapter(make_account("fedex", CREDS))


def test_rate(fedex):
    fake, adapter = fedex
    fake.on("POST", r"/rate/v1/rates/quotes", "rate_response.json")
    rates = adapter.rate(us_request())
    assert rates[0].service == "fedex_ground"
    assert str(rates[0].total.amount) == "15.61"
    body = fake.calls_to("/rate/v1")[0]["body"]
    assert body["accountNumber"]["value"] == "510087020"


def test_book_multi_piece_labels_per_piece(fedex):
    fake, adapter = fedex
    fake.on("POST", r"/rate/v1/rates/quotes", "rate_response.json")
    fake.on("POST", r"/ship/v1/shipments$", "ship_response_2pc.json")
    request = us_request(parcels=2)
    booking = adapter.book(request, adapter.rate(request)[0], idempotency_key="fx-1")
    assert booking.master_tracking_number == "794644790132"
    assert booking.tracking_numbers == ["794644790132", "794644790143"]
    assert [lbl.tracking_number for lbl in booking.labels] == booking.tracking_numbers
    assert all(lbl.data.startswith(b"%PDF") for lbl in booking.labels)
    assert str(booking.charged.amount) == "31.22"
    ship = fake.calls_to("/ship/v1/shipments")[0]["body"]
    assert len(ship["requestedShipment"]["requestedPackageLineItems"]) == 2
    assert ship["requestedShipment"]["labelSpecification"]["imageType"] == "PDF"


def test_cancel_and_refusal(fedex):
    fake, adapter = fedex
    fake.on("PUT", r"/ship/v1/shipments/cancel", "cancel_response.json")
    assert adapter.cancel("794644790132").status is CancelStatus.CANCELLED
    fake.on("PUT", r"/ship/v1/shipments/cancel", "cancel_refused.json", status=400)
    refused = adapter.cancel("794644790132")
    assert refused.status is CancelStatus.REJECTED
    assert "cannot be cancelled" in refused.reason


def test_track_offsets_and_exception_text(fedex):
    fake, adapter = fedex
    fake.on("POST", r"/track/v1/trackingnumbers", "track_response.json")
    events = adapter.track(["794644790132"])
    assert [e.raw_code for e in events] == ["OC", "PU", "AR", "OD", "DE"]
    last = events[-1]
    assert last.status is TrackingStatus.EXCEPTION
    assert last.exception_category is ExceptionCategory.RECIPIENT_UNAVAILABLE  # from the text
    assert last.occurred_at == datetime(2026, 11, 24, 15, 42, tzinfo=UTC)
    assert events[3].status is TrackingStatus.OUT_FOR_DELIVERY


def test_webhook_signature_and_parse(fedex):
    _, adapter = fedex
    body = fixture_bytes("fedex", "webhook_event.json")
    good = base64.b64encode(hmac.new(b"whsec-test-1234", body, hashlib.sha256).digest()).decode()
    adapter.verify_webhook({"fdx-signature": good}, body)
    with pytest.raises(WebhookSignatureError):
        adapter.verify_webhook({"fdx-signature": good}, body + b" ")
    [event] = adapter.parse_webhook({}, body)
    assert event.exception_category is ExceptionCategory.CUSTOMS_HOLD

"""UPS contract: karrio's real request building against golden UPS responses."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from app.carriers.errors import WebhookSignatureError
from app.carriers.registry import build_adapter
from app.models import CancelStatus, ExceptionCategory, LabelFormat, TrackingStatus

from .conftest import fixture_bytes, fixture_json, make_account, us_request

CREDS = {"client_id": "ups-client", "client_secret": "ups-secret", "account_number": "A1B2C3"}


@pytest.fixture
def ups(fake_http):
    token = fixture_json("ups", "oauth_token.json")
    token["issued_at"] = str(int(time.time() * 1000))  # UPS stamps the issue time
    fake = fake_http("ups").on("POST", r"/security/v1/oauth/token", body=json.dumps(token).encode())
    return fake, build_adapter(make_account("ups", CREDS))


def test_rate_posts_to_shop_and_returns_sorted_quotes(ups):
    fake, adapter = ups
    fake.on("POST", r"/api/rating/v\d+/Shop", "rate_response.json")
    rates = adapter.rate(us_request())
    assert [r.service for r in rates] == ["ups_ground", "ups_2nd_day_air", "ups_next_day_air"]
    assert str(rates[0].total.amount) == "14.52" and rates[0].total.currency == "USD"
    assert rates[0].carrier_account == "test-ups"
    call = fake.calls_to("/Shop")[0]
    assert call["headers"]["Authorization"].startswith("Bearer ")
    shipment = call["body"]["RateRequest"]["Shipment"]
    assert shipment["ShipTo"]["Address"]["PostalCode"] == "30303"
    assert call["timeout"] == 2.0  # our timeout, not karrio's None


def test_token_is_cached_per_account_across_fresh_gateways(ups):
    fake, _ = ups
    adapter = build_adapter(make_account("ups", CREDS, id="test-ups-token-cache"))
    fake.on("POST", r"/Shop", "rate_response.json")
    adapter.rate(us_request())
    adapter.rate(us_request())
    assert len(fake.calls_to("/oauth/token")) == 1


def test_book_two_parcels_gives_a_label_and_number_per_parcel(ups):
    fake, adapter = ups
    fake.on("POST", r"/Shop", "rate_response.json")
    fake.on("POST", r"/api/shipments/v\d+/ship", "ship_response_zpl_2pkg.json")
    request = us_request(parcels=2)
    rate = adapter.rate(request)[0]
    booking = adapter.book(request, rate, idempotency_key="book-1", label_format=LabelFormat.ZPL)
    assert booking.tracking_numbers == ["1Z999AA10123456784", "1Z999AA10123456793"]
    assert [label.parcel_index for label in booking.labels] == [0, 1]
    assert all(
        label.format is LabelFormat.ZPL and label.data.startswith(b"^XA")
        for label in booking.labels
    )
    assert str(booking.charged.amount) == "29.04"
    ship_call = fake.calls_to("/ship")[0]
    assert ship_call["headers"]["Idempotency-key"] == "book-1"
    packages = ship_call["body"]["ShipmentRequest"]["Shipment"]["Package"]
    assert len(packages) == 2


def test_book_pdf_converts_the_carrier_image_per_package(ups):
    fake, adapter = ups
    fake.on("POST", r"/Shop", "rate_response.json")
    fake.on("POST", r"/ship", "ship_response_pdf_1pkg.json")
    request = us_request()
    booking = adapter.book(request, adapter.rate(request)[0], idempotency_key="k")
    assert booking.labels[0].format is LabelFormat.PDF
    assert booking.labels[0].data.startswith(b"%PDF")
    assert str(booking.charged.amount) == "12.90"  # negotiated, not list


def test_cancel_voids_and_refusal_carries_the_carrier_words(ups):
    fake, adapter = ups
    fake.on("DELETE", r"/void/cancel/1Z999AA10123456784", "void_response.json")
    result = adapter.cancel("1Z999AA10123456784")
    assert result.status is CancelStatus.CANCELLED
    fake.on("DELETE", r"/void/cancel/", "void_expired.json", status=400)
    refused = adapter.cancel("1Z999AA10123456784")
    assert refused.status is CancelStatus.REJECTED and not refused.accepted
    assert "can no longer be voided" in refused.reason
    assert refused.carrier_code == "190117"
    assert "28 days" in refused.policy


def test_track_uses_our_table_and_gmt_times(ups):
    fake, adapter = ups
    fake.on("GET", r"/api/track/v1/details/1Z999AA10123456784", "track_response.json")
    events = adapter.track(["1Z999AA10123456784"])
    by_code = {e.raw_code: e for e in events}
    assert by_code["OT"].status is TrackingStatus.OUT_FOR_DELIVERY  # karrio says in_transit
    assert by_code["AR"].exception_category is None  # karrio attaches a reason here
    assert by_code["48"].status is TrackingStatus.EXCEPTION
    assert by_code["48"].exception_category is ExceptionCategory.RECIPIENT_UNAVAILABLE
    assert by_code["48"].occurred_at == datetime(2026, 11, 24, 15, 15, tzinfo=UTC)
    assert by_code["ZZ"].status is TrackingStatus.IN_TRANSIT  # unknown code, known type "I"
    assert by_code["MP"].status is TrackingStatus.INFO_RECEIVED
    assert events == sorted(events, key=lambda e: e.occurred_at)


def test_track_unknown_number_is_empty_not_an_error(ups):
    fake, adapter = ups
    fake.on("GET", r"/api/track/", "track_not_found.json")
    assert adapter.track(["1Z999AA10000000000"]) == []


def test_track_alert_webhook_verified_and_parsed(ups):
    _, adapter = ups
    body = fixture_bytes("ups", "track_alert_event.json")
    adapter.verify_webhook({"Credential": "whsec-test-1234"}, body)
    with pytest.raises(WebhookSignatureError):
        adapter.verify_webhook({"credential": "whsec-test-1235"}, body)
    with pytest.raises(WebhookSignatureError):
        adapter.verify_webhook({}, body)
    [event] = adapter.parse_webhook({}, body)
    assert event.exception_category is ExceptionCategory.RECIPIENT_UNAVAILABLE
    assert event.occurred_at == datetime(2026, 11, 24, 15, 15, tzinfo=UTC)

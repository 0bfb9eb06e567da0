"""DHL Express (MyDHL API) contract against golden responses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.carriers.errors import CarrierNotSupportedError
from app.carriers.registry import build_adapter
from app.models import ExceptionCategory, TrackingStatus

from .conftest import intl_request, make_account

CREDS = {"username": "dhl-user", "password": "dhl-pass", "account_number": "123456789"}


@pytest.fixture
def dhl(fake_http):
    return fake_http("dhl_express"), build_adapter(make_account("dhl_express", CREDS))


def test_rate_and_book_two_pieces(dhl):
    fake, adapter = dhl
    fake.on("POST", r"/rates$", "rate_response.json")
    fake.on("POST", r"/shipments$", "ship_response.json")
    request = intl_request(parcels=2)
    rates = adapter.rate(request)
    assert rates[0].total.currency == "EUR" and str(rates[0].total.amount) == "86.45"
    booking = adapter.book(request, rates[0], idempotency_key="dhl-1")
    assert booking.master_tracking_number == "1234567890"
    assert booking.tracking_numbers == ["JD014600003828820001", "JD014600003828820002"]
    assert booking.labels[0].data.startswith(b"%PDF")
    ship = fake.calls_to("/shipments")[0]
    assert ship["headers"]["Authorization"].startswith("Basic ")
    assert len(ship["body"]["content"]["packages"]) == 2


def test_cancel_is_not_offered(dhl):
    _, adapter = dhl
    assert adapter.capabilities().cancel is False
    with pytest.raises(CarrierNotSupportedError):
        adapter.cancel("1234567890")


def test_track_local_times_with_offsets(dhl):
    fake, adapter = dhl
    fake.on("GET", r"/tracking", "track_response.json")
    events = adapter.track(["1234567890"])
    assert [e.raw_code for e in events] == ["PU", "AF", "CD", "WC"]
    assert events[0].occurred_at == datetime(2026, 11, 22, 9, 10, tzinfo=UTC)
    assert events[2].exception_category is ExceptionCategory.CUSTOMS_HOLD
    assert events[3].status is TrackingStatus.OUT_FOR_DELIVERY
    assert events[1].location.country_code == "GB"

"""EasyPost contract against golden v2 API responses (no sandbox involved)."""

from __future__ import annotations

import pytest

from app.carriers.errors import CarrierAddressError
from app.carriers.registry import build_adapter
from app.models import CancelStatus, TrackingStatus

from .conftest import make_account, us_request


@pytest.fixture
def easypost(fake_http):
    fake = fake_http("easypost")
    return fake, build_adapter(
        make_account("easypost", {"api_key": "EZTK_test"}, server_url="http://127.0.0.1:9/v2")
    )


def test_rate_then_book_buys_the_chosen_rate_and_downloads_the_label(easypost):
    fake, adapter = easypost
    fake.on("POST", r"/v2/shipments$", "shipment_create.json", status=201)
    fake.on("POST", r"/v2/shipments/shp_110000000001/buy$", "shipment_buy.json")
    fake.on("GET", r"/labels/shp_110000000001\.pdf$", "label.pdf")
    request = us_request()
    rates = adapter.rate(request)
    priority = next(r for r in rates if r.service == "easypost_usps_priority")
    booking = adapter.book(request, priority, idempotency_key="ep-1")
    assert booking.master_tracking_number == "9477893287921742180967"
    assert booking.labels[0].data.startswith(b"%PDF")
    buy = fake.calls_to("/buy")[0]
    assert buy["body"]["rate"]["id"] == "rate_110000000004"
    assert buy["headers"]["Idempotency-key"] == "ep-1"
    created = fake.calls_to("/v2/shipments")[0]["body"]["shipment"]
    assert created["to_address"]["zip"] == "30303" and created["parcel"]["weight"] == 32.0


def test_rejected_refund_is_not_reported_as_success(easypost):
    fake, adapter = easypost
    fake.on("POST", r"/refund$", "refund_rejected.json")
    result = adapter.cancel("shp_110000000001")
    assert result.status is CancelStatus.REJECTED  # karrio alone reports success here


def test_track_and_invalid_address(easypost):
    fake, adapter = easypost
    fake.on("POST", r"/v2/trackers$", "tracker.json")
    events = adapter.track(["9477893287921742180967"])
    assert [e.status for e in events][:2] == [
        TrackingStatus.INFO_RECEIVED,
        TrackingStatus.IN_TRANSIT,
    ]
    assert fake.calls_to("/trackers")[0]["body"]["carrier"] == "USPS"
    fake.on("POST", r"/v2/shipments$", "error_invalid_address.json", status=422)
    with pytest.raises(CarrierAddressError) as info:
        adapter.rate(us_request())
    assert info.value.field == "recipient.postal_code"

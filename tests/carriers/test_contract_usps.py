"""USPS (APIs v3) contract against golden responses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.carriers.registry import build_adapter
from app.models import CancelStatus, ExceptionCategory, TrackingStatus

from .conftest import make_account, us_request

CREDS = {"client_id": "usps-client", "client_secret": "usps-secret", "account_number": "1000405525"}


@pytest.fixture
def usps(fake_http):
    fake = fake_http("usps").on("POST", r"/oauth2/v3/token", "oauth_token.json")
    return fake, build_adapter(make_account("usps", CREDS))


def test_rate(usps):
    fake, adapter = usps
    fake.on("POST", r"/shipments/v3/options/search", "rate_response.json")
    rates = adapter.rate(us_request())
    assert rates and str(rates[0].total.amount) == "8.10"


def test_cancel_by_tracking_number(usps):
    fake, adapter = usps
    fake.on("POST", r"/payments/v3/payment-authorization", "payment_authorization.json")
    fake.on("DELETE", r"/labels/v3/label/9400100000000000000000", "cancel_response.json")
    result = adapter.cancel("shp-1", tracking_numbers=["9400100000000000000000"])
    assert result.status is CancelStatus.CANCELLED
    assert fake.calls_to("/labels/v3/label/9400100000000000000000")


def test_track_gmt_and_offset_times(usps):
    fake, adapter = usps
    fake.on("GET", r"/tracking/v3/tracking/", "track_response.json")
    events = adapter.track(["9400100000000000000000"])
    assert [e.raw_code for e in events] == ["GX", "10", "OF", "02"]
    assert events[1].occurred_at == datetime(2026, 11, 23, 9, 12, tzinfo=UTC)  # local + offset
    assert events[-1].status is TrackingStatus.EXCEPTION
    assert events[-1].exception_category is ExceptionCategory.RECIPIENT_UNAVAILABLE

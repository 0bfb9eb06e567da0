"""End to end: the real EasyPost adapter (karrio inside) against the loopback carrier sandbox."""

from __future__ import annotations

import base64
import threading
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.carriers.errors import (
    CarrierAddressError,
    CarrierAuthError,
    CarrierParcelError,
    CarrierRateLimitedError,
    CarrierTimeoutError,
    CarrierUnavailableError,
    WebhookSignatureError,
)
from app.carriers.registry import build_adapter
from app.carriers.sandbox import CarrierSandbox, run_carrier_sandbox, serve_asgi
from app.models import (
    Address,
    CancelStatus,
    ExceptionCategory,
    LabelFormat,
    TrackingEvent,
    TrackingStatus,
)

from .conftest import us_request


@pytest.fixture
def sandbox():
    box = CarrierSandbox(seed=7)
    with run_carrier_sandbox(box):
        yield box


@pytest.fixture
def adapter(sandbox):
    return build_adapter(sandbox.account())


def test_rate_book_pdf_track_cancel(sandbox, adapter):
    request = us_request()
    rates = adapter.rate(request)
    assert rates[0].service == "easypost_usps_groundadvantage"
    booking = adapter.book(request, rates[0], idempotency_key="e2e-1")
    [label] = booking.labels
    assert label.format is LabelFormat.PDF and label.data.startswith(b"%PDF-1.4")
    assert label.data.rstrip().endswith(b"%%EOF")
    assert booking.charged == rates[0].total
    events = adapter.track(booking.tracking_numbers)
    assert [e.status for e in events] == [TrackingStatus.INFO_RECEIVED]
    result = adapter.cancel(booking)
    assert result.status is CancelStatus.REFUND_PENDING  # USPS refunds are reviewed
    again = adapter.cancel(booking)
    assert again.status is CancelStatus.REJECTED and "already been requested" in again.reason
    buy = next(r for r in sandbox.requests if r.path.endswith("/buy"))
    assert buy.headers["idempotency-key"] == "e2e-1"
    assert buy.headers["authorization"] == "<redacted>"


def test_book_zpl_label(adapter):
    request = us_request()
    booking = adapter.book(
        request, adapter.rate(request)[0], idempotency_key="z", label_format=LabelFormat.ZPL
    )
    assert booking.labels[0].format is LabelFormat.ZPL
    assert booking.labels[0].data.startswith(b"^XA") and b"^XZ" in booking.labels[0].data


def test_void_refused_after_first_scan_and_after_window(sandbox, adapter):
    request = us_request()
    scanned = adapter.book(request, adapter.rate(request)[0], idempotency_key="a")
    sandbox.advance(scanned.master_tracking_number, 1)
    refused = adapter.cancel(scanned)
    assert refused.status is CancelStatus.REJECTED and "already scanned" in refused.reason
    old = adapter.book(request, adapter.rate(request)[0], idempotency_key="b")
    sandbox.clock_offset = timedelta(days=31)
    late = adapter.cancel(old)
    assert late.status is CancelStatus.REJECTED and "30 days" in late.reason


def test_strict_fields_and_carrier_limits(sandbox, adapter):
    raw = httpx.post(
        f"{sandbox.base_url}/v2/shipments",
        json={
            "shipment": {
                "to_address": {"city": "Atlanta", "country": "US"},
                "from_address": {},
                "parcel": {},
            }
        },
        auth=(sandbox.api_key, ""),
    )
    assert raw.status_code == 422
    fields = {e["field"] for e in raw.json()["error"]["errors"]}
    assert {
        "to_address.street1",
        "to_address.zip",
        "from_address.street1",
        "parcel.weight",
    } <= fields
    bad_zip = us_request().model_copy(
        update={
            "recipient": Address(
                name="Jane",
                street1="1 Nowhere",
                city="Atlanta",
                state_code="GA",
                postal_code="00000",
                country_code="US",
            )
        }
    )
    with pytest.raises(CarrierAddressError) as info:
        adapter.rate(bad_zip)
    assert info.value.field == "recipient.postal_code" and info.value.upstream_status == 422
    with pytest.raises(CarrierParcelError) as heavy:
        adapter.rate(us_request(weight="200"))
    assert heavy.value.field == "parcels.weight"


def test_rate_limit_timeout_5xx_and_auth(sandbox, adapter):
    sandbox.fail_next("429")
    with pytest.raises(CarrierRateLimitedError) as limited:
        adapter.rate(us_request())
    assert limited.value.retry_after == 1.0
    sandbox.fail_next("503")
    with pytest.raises(CarrierUnavailableError):
        adapter.rate(us_request())
    sandbox.hang_seconds = 1.5
    sandbox.fail_next("timeout")
    slow = build_adapter(sandbox.account(id="sandbox-slow", timeout_seconds=0.3))
    with pytest.raises(CarrierTimeoutError):
        slow.rate(us_request())
    wrong = build_adapter(sandbox.account(id="sandbox-wrong", credentials={"api_key": "nope"}))
    with pytest.raises(CarrierAuthError):
        wrong.rate(us_request())
    sandbox.rate_limit_every = 2
    outcomes = []
    for _ in range(4):
        try:
            adapter.rate(us_request())
            outcomes.append("ok")
        except CarrierRateLimitedError:
            outcomes.append("429")
    assert "429" in outcomes and "ok" in outcomes


class Receiver:
    """A tiny webhook endpoint that verifies and parses with the adapter, like the real one."""

    def __init__(self, adapter) -> None:
        self.adapter = adapter
        self.events: list[TrackingEvent] = []
        self.rejected = 0
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/hooks/easypost", self.handle, methods=["POST"])])

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        try:
            self.adapter.verify_webhook(request.headers, body)
        except WebhookSignatureError:
            with self.lock:
                self.rejected += 1
            return Response(status_code=401)
        events = self.adapter.parse_webhook(request.headers, body)
        with self.lock:
            self.events.extend(events)
        return Response(status_code=204)


@pytest.mark.parametrize(
    ("scenario", "category"),
    [
        ("address_issue", ExceptionCategory.ADDRESS_ISSUE),
        ("recipient_unavailable", ExceptionCategory.RECIPIENT_UNAVAILABLE),
        ("customs_hold", ExceptionCategory.CUSTOMS_HOLD),
        ("weather_delay", ExceptionCategory.WEATHER_DELAY),
        ("damaged", ExceptionCategory.DAMAGED),
        ("lost", ExceptionCategory.LOST),
    ],
)
def test_webhook_push_verified_and_parsed(scenario, category):
    box = CarrierSandbox(seed=3)
    with run_carrier_sandbox(box):
        adapter = build_adapter(box.account())
        receiver = Receiver(adapter)
        with serve_asgi(receiver.app) as hook_base:
            box.webhook_url = f"{hook_base}/hooks/easypost"
            request = us_request()
            booking = adapter.book(request, adapter.rate(request)[0], idempotency_key=scenario)
            deliveries = box.push_tracking(
                booking.master_tracking_number, scenario, duplicates=True, out_of_order=True
            )
    assert deliveries and all(d.status_code == 204 for d in deliveries)
    assert receiver.rejected == 0
    unique = {e.carrier_event_id: e for e in receiver.events}  # duplicates collapse on the id
    assert len(receiver.events) > len(unique)
    assert any(e.exception_category is category for e in unique.values())
    assert all(e.tracking_number == booking.master_tracking_number for e in unique.values())


def test_forged_webhook_rejected_by_receiver():
    box = CarrierSandbox(seed=5, webhook_secret="the-real-secret")
    with run_carrier_sandbox(box):
        adapter = build_adapter(box.account())
        receiver = Receiver(adapter)
        with serve_asgi(receiver.app) as hook_base:
            box.webhook_secret = "an-attackers-guess"
            box.webhook_url = f"{hook_base}/hooks/easypost"
            deliveries = box.push_tracking("9400100000000000000001", "delivered")
    assert all(d.status_code == 401 for d in deliveries)
    assert receiver.events == [] and receiver.rejected == len(deliveries)


def test_png_label_and_basic_auth_shape(sandbox):
    adapter = build_adapter(sandbox.account())
    request = us_request()
    booking = adapter.book(
        request, adapter.rate(request)[0], idempotency_key="png", label_format=LabelFormat.PNG
    )
    assert booking.labels[0].data.startswith(b"\x89PNG")
    token = base64.b64encode(f"{sandbox.api_key}:".encode()).decode()
    ok = httpx.get(
        f"{sandbox.base_url}/v2/shipments/{booking.carrier_shipment_id}",
        headers={"Authorization": f"Basic {token}"},
    )
    assert ok.status_code == 200 and ok.json()["tracking_code"] == booking.master_tracking_number

"""Outbound webhooks: signed, retried with backoff, logged — and fed by real status changes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from track_env import TrackEnv

from app.carriers.sandbox.runner import serve_asgi
from app.store.tables import OutboundDeliveryRow
from app.sync.outbound.service import OutboundDispatcher, Subscriber
from app.sync.tracking.jobs import fan_out_outbound

SECRET = "whsec-test"


class Receiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> JSONResponse:
        self.received.append((dict(request.headers), await request.body()))
        if len(self.received) <= self.fail_first:
            return JSONResponse({"error": "busy"}, status_code=503)
        return JSONResponse({"ok": True})


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver(fail_first=1)
    with serve_asgi(rec.app) as url:
        yield rec, f"{url}/hook"


def verify(headers: dict[str, str], body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in headers["x-waybill-signature"].split(","))
    expected = hmac.new(
        SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


def test_signed_delivery_with_backoff_and_log(tenv: TrackEnv, receiver: Any) -> None:
    rec, url = receiver
    clock = [datetime.now(UTC)]
    dispatcher = OutboundDispatcher(
        db=tenv.ctx.db,
        subscribers=[Subscriber(name="crm", url=url, secret=SecretStr(SECRET))],
        clock=lambda: clock[0],
    )
    assert dispatcher.enqueue("1-0", "shipment.status_changed", {"status": "delivered"}) == 1
    assert dispatcher.enqueue("1-0", "shipment.status_changed", {"status": "delivered"}) == 0
    assert dispatcher.deliver_due() == {"delivered": 0, "retry": 1, "failed": 0}
    assert dispatcher.deliver_due() == {"delivered": 0, "retry": 0, "failed": 0}  # backing off
    clock[0] += timedelta(seconds=31)
    assert dispatcher.deliver_due() == {"delivered": 1, "retry": 0, "failed": 0}
    headers, body = rec.received[-1]
    assert verify(headers, body)
    assert json.loads(body)["data"] == {"status": "delivered"}
    with tenv.ctx.db.session() as s:
        row = s.query(OutboundDeliveryRow).one()
        assert (row.status, row.attempts, row.last_status_code) == ("delivered", 2, 200)


@pytest.mark.redis
def test_status_changes_reach_subscribers(tenv: TrackEnv, receiver: Any) -> None:
    rec, url = receiver
    rec.fail_first = 0
    subs = [{"name": "notify", "url": url, "secret": SECRET, "events": ["shipment.status_changed"]}]
    tenv.ctx.settings = tenv.ctx.settings.model_copy(
        update={"outbound_webhooks": SecretStr(json.dumps(subs))}
    )
    _, _, number = tenv.booked_shipment()
    tenv.carrier_box.push_tracking(number, "delivered")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        fan_out_outbound()
        statuses = [json.loads(b)["data"]["status"] for _, b in rec.received]
        if "delivered" in statuses:
            break
        time.sleep(0.2)
    assert "delivered" in statuses
    assert all(verify(h, b) for h, b in rec.received)

"""Polling quiet shipments: what the carrier says takes the webhook's path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from track_env import TrackEnv

from app.core.events import EventLog
from app.store.tables import ShipmentRow
from app.sync.tracking.jobs import build_projector
from app.sync.tracking.poller import TrackingPoller

pytestmark = pytest.mark.redis


def test_quiet_shipment_is_polled_and_projected(tenv: TrackEnv) -> None:
    shipment_id, _, number = tenv.booked_shipment()
    url, tenv.carrier_box.webhook_url = tenv.carrier_box.webhook_url, None
    tenv.carrier_box.advance(number, 3)  # the carrier knows; nobody pushed
    tenv.carrier_box.webhook_url = url
    log = EventLog(tenv.ctx.redis)
    poller = TrackingPoller(
        db=tenv.ctx.db,
        directory=tenv.ctx.extras["carrier_directory"],
        events=log,
        silent_after=timedelta(hours=12),
        batch=10,
        clock=lambda: datetime.now(UTC) + timedelta(hours=13),
    )
    due = poller.due()
    assert list(due) == ["sandbox-easypost"] and number in due["sandbox-easypost"]
    published = poller.poll()
    assert published["sandbox-easypost"] >= 3
    log.consume("projector", "test", build_projector(tenv.ctx))
    with tenv.ctx.db.session() as s:
        row = s.get(ShipmentRow, shipment_id)
        assert row is not None and row.tracking_status is not None
    fresh = TrackingPoller(
        db=tenv.ctx.db,
        directory=tenv.ctx.extras["carrier_directory"],
        events=log,
        silent_after=timedelta(hours=12),
        batch=10,
    )
    assert fresh.due() == {}  # just heard from: not due again

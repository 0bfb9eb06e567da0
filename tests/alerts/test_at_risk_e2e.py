"""A sandbox shipment that stalls becomes one at-risk activity in Odoo before any exception
scan, and Waybill closes that activity itself when the parcel is delivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from track_env import TrackEnv, wait_until

from app.store.tables import ShipmentRow, SuggestionRow, TrackingEventRow
from app.sync.alerts.at_risk import KIND
from app.sync.alerts.jobs import build_at_risk

pytestmark = pytest.mark.redis


def activities(env: TrackEnv, picking_id: int) -> list[dict[str, Any]]:
    env.writer.drain()
    return env.ctx.odoo.search_read(
        "mail.activity",
        [("res_model", "=", "stock.picking"), ("res_id", "=", picking_id)],
        ["id", "summary", "note"],
    )


def status(env: TrackEnv, shipment_id: str) -> str | None:
    with env.ctx.db.session() as s:
        row = s.get(ShipmentRow, shipment_id)
        return row.tracking_status if row else None


def test_stalled_shipment_gets_an_activity_that_closes_on_delivery(aenv: TrackEnv) -> None:
    shipment_id, picking_id, number = aenv.booked_shipment()
    promised = (datetime.now(UTC) + timedelta(days=3)).date()
    with aenv.ctx.db.session() as s:  # the demo order's own date is in the past
        s.get(ShipmentRow, shipment_id).promised_date = datetime(  # type: ignore[union-attr]
            promised.year, promised.month, promised.day, tzinfo=UTC
        )
    aenv.carrier_box.advance(number, 2)  # label created, accepted at the origin facility
    wait_until(lambda: status(aenv, shipment_id) == "in_transit")
    assert aenv.ctx.queue.join()
    monitor = build_at_risk(aenv.ctx)
    fresh = monitor.check(shipment_id)
    assert fresh is not None and not fresh.at_risk  # just scanned, three days to go
    assert not [a for a in activities(aenv, picking_id) if "At risk" in str(a["summary"])]

    # Nothing more from the carrier: the sweep three days later, hours before the deadline.
    later = fresh.deadline - timedelta(hours=1)
    aenv.ctx.extras["alerts_clock"] = lambda: later  # the carrier's next scans come then too
    report = monitor.sweep(now=later)
    assert report["at_risk"] >= 1
    again = monitor.sweep(now=later + timedelta(minutes=10))  # deduplicated: still one
    assert again["at_risk"] >= 1
    with aenv.ctx.db.session() as s:
        exceptions = s.scalars(
            select(TrackingEventRow).where(
                TrackingEventRow.shipment_id == shipment_id, TrackingEventRow.status == "exception"
            )
        ).all()
        rows = s.scalars(
            select(SuggestionRow).where(
                SuggestionRow.kind == KIND, SuggestionRow.shipment_id == shipment_id
            )
        ).all()
    assert exceptions == []  # flagged before any exception scan
    assert len(rows) == 1 and rows[0].state == "open"
    assert rows[0].payload["probability"] >= rows[0].payload["threshold"]
    found = wait_until(
        lambda: [a for a in activities(aenv, picking_id) if "At risk" in str(a["summary"])]
    )
    assert len(found) == 1
    note = str(found[0]["note"])
    assert "Suggested message" in note and "Case summary" in note
    assert "In transit" in note and promised.isoformat() in note

    aenv.carrier_box.push_tracking(number, "delivered")  # the rest of the journey
    wait_until(lambda: status(aenv, shipment_id) == "delivered")
    assert aenv.ctx.queue.join()
    wait_until(lambda: not [a for a in activities(aenv, picking_id) if a["id"] == found[0]["id"]])
    with aenv.ctx.db.session() as s:
        row = s.get(SuggestionRow, rows[0].id)
        assert row is not None and row.state == "resolved"
        assert row.payload["closed_reason"] == "delivered"
    done = aenv.ctx.odoo.search_read(
        "mail.message",
        [("model", "=", "stock.picking"), ("res_id", "=", picking_id)],
        ["body"],
    )
    assert any("the shipment was delivered" in str(m["body"]) for m in done)

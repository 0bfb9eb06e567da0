"""A carrier exception becomes one Odoo activity for the right team; Odoo's decision is a label."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from track_env import TrackEnv, wait_until

from app.store.tables import FeedbackRow, ShipmentRow, SuggestionRow
from app.sync.exceptions.feedback import sync_activity_outcomes
from app.sync.exceptions.jobs import build_triage

pytestmark = pytest.mark.redis


def picking_activities(tenv: TrackEnv, picking_id: int) -> list[dict]:  # type: ignore[type-arg]
    return tenv.ctx.odoo.search_read(
        "mail.activity",
        [
            ("res_model", "=", "stock.picking"),
            ("res_id", "=", picking_id),
            ("summary", "ilike", "—"),
        ],
        ["id", "summary", "note"],
    )


def test_exception_becomes_one_activity_and_done_is_recorded(tenv: TrackEnv) -> None:
    shipment_id, picking_id, number = tenv.booked_shipment()
    tenv.carrier_box.push_tracking(number, "damaged")

    def triaged() -> SuggestionRow | None:
        with tenv.ctx.db.session() as s:
            return s.scalars(
                select(SuggestionRow).where(
                    SuggestionRow.shipment_id == shipment_id, SuggestionRow.kind == "triage"
                )
            ).first()

    suggestion = wait_until(triaged)
    assert suggestion.payload["category"] == "damaged"
    assert suggestion.payload["routing"]["team"] == "warehouse + claims"
    assert tenv.ctx.queue.join()
    tenv.writer.drain()
    activities = picking_activities(tenv, picking_id)
    assert len(activities) == 1
    assert "warehouse + claims" in activities[0]["summary"]
    assert "open claim" in activities[0]["note"].lower()

    # the same problem reported again updates the activity instead of adding one
    with tenv.ctx.db.session() as s:
        event = {
            "carrier": "easypost",
            "tracking_number": number,
            "raw_code": "DM",
            "raw_description": "Damaged - Item Damaged in Handling, Contact Sender",
        }
    assert build_triage(tenv.ctx).triage(shipment_id, event) == suggestion.id
    tenv.writer.drain()
    assert len(picking_activities(tenv, picking_id)) == 1

    tenv.ctx.odoo.complete_activity(activities[0]["id"], feedback="Claim opened, reshipped")
    outcomes = sync_activity_outcomes(tenv.ctx.db, tenv.ctx.odoo)
    assert [(o.suggestion_id, o.decision) for o in outcomes] == [(suggestion.id, "done")]
    with tenv.ctx.db.session() as s:
        feedback = s.scalars(select(FeedbackRow)).one()
        assert feedback.note == "Claim opened, reshipped"
        assert feedback.label["category"] == "damaged" and feedback.label["confirmed"] is True
        assert s.get(SuggestionRow, suggestion.id).state == "done"
        assert s.get(ShipmentRow, shipment_id).tracking_status == "exception"


def test_cancelled_activity_is_recorded_as_dismissed(tenv: TrackEnv) -> None:
    shipment_id, picking_id, number = tenv.booked_shipment()
    tenv.carrier_box.push_tracking(number, "lost")
    wait_until(lambda: _suggestion_id(tenv, shipment_id))
    assert tenv.ctx.queue.join()
    tenv.writer.drain()
    (activity,) = picking_activities(tenv, picking_id)
    tenv.ctx.odoo.cancel_activity(activity["id"])
    outcomes = sync_activity_outcomes(tenv.ctx.db, tenv.ctx.odoo)
    assert [o.decision for o in outcomes] == ["cancelled"]


def _suggestion_id(tenv: TrackEnv, shipment_id: str) -> str | None:
    with tenv.ctx.db.session() as s:
        return s.scalars(
            select(SuggestionRow.id).where(
                SuggestionRow.shipment_id == shipment_id, SuggestionRow.kind == "triage"
            )
        ).first()

"""A shipment the policy won't decide alone: an Odoo activity for the dispatcher, who approves
it there or picks another quote through the API; both book and record the decision."""

from __future__ import annotations

from booking_env import BookingEnv
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.models import ShipmentState
from app.store.tables import FeedbackRow, SuggestionRow
from app.sync.booking.approval import approve_proposal
from app.sync.exceptions.feedback import sync_activity_outcomes


def held_shipment(benv: BookingEnv) -> tuple[str, int]:
    """A picking whose promise no carrier can keep: the policy asks the dispatcher."""
    intent = benv.intent_for_first_ready()
    assert intent.odoo_picking_id is not None
    picking = benv.odoo.read(
        "stock.picking", [intent.odoo_picking_id], ["sale_id", "scheduled_date"]
    )[0]
    if picking["sale_id"]:
        benv.odoo_box.write(
            "sale.order", [picking["sale_id"][0]], {"commitment_date": picking["scheduled_date"]}
        )
    benv.odoo_box.write(
        "stock.picking",
        [intent.odoo_picking_id],
        {"carrier_id": False, "date_deadline": picking["scheduled_date"]},
    )
    benv.intake.poll_once()
    outcome = benv.booking.book_shipment(intent.id)
    assert outcome.state == ShipmentState.AWAITING_APPROVAL, outcome
    benv.writer.drain()
    return intent.id, intent.odoo_picking_id


def approval_activity(benv: BookingEnv, picking_id: int) -> dict:  # type: ignore[type-arg]
    (activity,) = benv.odoo.search_read(
        "mail.activity",
        [
            ("res_model", "=", "stock.picking"),
            ("res_id", "=", picking_id),
            ("summary", "ilike", "Book "),
        ],
        ["id", "summary"],
    )
    return activity


def test_marking_the_activity_done_books_the_proposal(benv: BookingEnv) -> None:
    shipment_id, picking_id = held_shipment(benv)
    activity = approval_activity(benv, picking_id)
    benv.odoo.complete_activity(activity["id"], feedback="ok, ship it")
    (outcome,) = sync_activity_outcomes(benv.db, benv.odoo)
    assert (outcome.kind, outcome.decision) == ("approval", "done")
    assert approve_proposal(benv.db, outcome.suggestion_id) == shipment_id
    assert benv.booking.book_shipment(shipment_id).state == ShipmentState.BOOKED
    benv.writer.drain()
    assert [a["name"] for a in benv.attachments(picking_id)]
    with benv.db.session() as s:
        chosen = next(r for r in benv.shipment(shipment_id).rates if r.chosen)
        assert activity["summary"].startswith(f"Book {chosen.carrier} {chosen.service}")
        assert s.scalars(select(FeedbackRow)).one().decision == "done"


def test_choosing_another_quote_books_it_and_records_feedback(
    benv: BookingEnv, api: TestClient
) -> None:
    shipment_id, _ = held_shipment(benv)
    rates = benv.shipment(shipment_id).rates
    other = next(r for r in rates if not r.chosen)
    response = api.post(
        f"/v1/shipments/{shipment_id}/choose",
        json={"carrier_account": other.carrier_account, "service": other.service},
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "booked" and response.json()["service"] == other.service
    with benv.db.session() as s:
        feedback = s.scalars(select(FeedbackRow)).one()
        assert feedback.decision == "chose_other"
        assert (
            s.scalars(select(SuggestionRow).where(SuggestionRow.kind == "approval")).one().state
            == "done"
        )
    again = api.post(
        f"/v1/shipments/{shipment_id}/choose",
        json={"carrier_account": other.carrier_account, "service": other.service},
    )
    assert again.status_code == 409
    wrong = api.post(
        f"/v1/shipments/{shipment_id}/choose", json={"carrier_account": "x", "service": "y"}
    )
    assert wrong.status_code in (409, 422)

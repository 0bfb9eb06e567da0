"""Intake end to end: Odoo sandbox → webhook / poll → exactly one persisted intent per picking."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from intake_env import READY_DOMAIN, Env
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.models import ShipmentRequest, ShipmentState
from app.store.tables import AuditRow, OdooHintRow, ShipmentRow
from app.sync.intake.metrics import WEBHOOK_REJECTED
from app.sync.intake.schemas import OdooWebhookPayload

TOKEN = "sandbox-key"


def webhook(picking_id: int, model: str = "stock.picking") -> dict[str, object]:
    """The payload Odoo's "Send Webhook Notification" action builds (reference §4.1)."""
    return {
        "_action": "Send Webhook Notification(#12)",
        "_id": picking_id,
        "_model": model,
        "id": picking_id,
        "state": "assigned",
    }


def shipments(env: Env) -> list[ShipmentRow]:
    with env.db.session() as s:
        query = (
            select(ShipmentRow)
            .options(selectinload(ShipmentRow.parcels))
            .order_by(ShipmentRow.odoo_picking_id, ShipmentRow.revision)
        )
        return list(s.scalars(query))


def count_rows(env: Env, table: type) -> int:
    with env.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def rejected(reason: str) -> float:
    return WEBHOOK_REJECTED.labels(reason)._value.get()


def test_poll_creates_one_intent_per_ready_outgoing_picking(env: Env) -> None:
    ready = env.ready_picking_ids()
    assert len(ready) >= 6, "demo data must hold several ready deliveries (and more than a page)"
    report = env.intake.poll_once()
    assert report.outcomes.get("created") == len(ready)
    assert report.pages >= 2  # page size 5: keyset paging crossed pages
    rows = shipments(env)
    assert [r.odoo_picking_id for r in rows] == ready
    assert all(r.state in ("intent", "failed") for r in rows)
    intent = next(r for r in rows if r.state == "intent")
    request = ShipmentRequest.model_validate(intent.request)
    assert request.odoo_picking_id == intent.odoo_picking_id
    assert request.shipper.country_code and request.recipient.country_code
    assert intent.parcels and intent.parcels[0].weight_kg > 0

    again = env.intake.poll_once()
    assert again.outcomes.get("created") is None
    assert len(shipments(env)) == len(ready)


def test_webhook_twice_and_poll_yield_one_intent(env: Env, api: TestClient) -> None:
    picking_id = env.ready_picking_ids()[0]
    first = api.post(f"/v1/odoo/webhook?token={TOKEN}", json=webhook(picking_id))
    second = api.post(f"/v1/odoo/webhook?token={TOKEN}", json=webhook(picking_id))
    assert first.status_code == 201, first.text
    assert second.status_code == 200
    assert second.json()["status"] == "duplicate"
    assert second.json()["shipment_id"] == first.json()["shipment_id"]
    env.intake.poll_once()
    same = [r for r in shipments(env) if r.odoo_picking_id == picking_id]
    assert len(same) == 1
    assert "X-Request-ID" in first.headers
    assert same[0].correlation_id == first.headers["X-Request-ID"]


def test_concurrent_webhook_and_poll_race_to_one_intent(env: Env) -> None:
    picking_id = env.ready_picking_ids()[0]
    payload = OdooWebhookPayload.model_validate(webhook(picking_id))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def hit() -> None:
        barrier.wait()
        try:
            env.intake.handle_hint(payload)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len([r for r in shipments(env) if r.odoo_picking_id == picking_id]) == 1


def test_insert_losing_the_race_after_its_read_reports_the_winner(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other channel commits the same picking between this run's read and its insert: the
    unique key refuses the second row and the outcome names the row that won."""
    from app.sync.intake.service import IntakeService

    picking_id = env.ready_picking_ids()[0]
    payload = OdooWebhookPayload.model_validate(webhook(picking_id))
    first = env.intake.handle_hint(payload)
    assert first.status == "created"
    monkeypatch.setattr(IntakeService, "_latest", lambda *_args: None)  # the read saw nothing
    second = env.intake.reread_and_ingest(payload, channel="poll")
    assert (second.status, second.shipment_id) == ("duplicate", first.shipment_id)
    assert len([r for r in shipments(env) if r.odoo_picking_id == picking_id]) == 1
    monkeypatch.undo()
    # the session that lost is usable again: a later edit still refreshes the intent
    assert env.intake.handle_hint(payload).status in ("duplicate", "refreshed")


@pytest.mark.parametrize(
    ("body", "status", "code", "reason"),
    [
        (b"{not json", 400, "malformed_body", "malformed"),
        (b"[1, 2]", 400, "malformed_body", "malformed"),
        (b'{"_model": "stock.picking"}', 422, "validation_error", "invalid"),
        (b'{"_model": "stock.picking", "_id": -4}', 422, "validation_error", "invalid"),
        (b'{"_model": "res.partner", "_id": 3}', 422, "unsupported_model", "unsupported_model"),
    ],
)
def test_bad_webhook_bodies_are_refused_and_change_nothing(
    env: Env, api: TestClient, body: bytes, status: int, code: str, reason: str
) -> None:
    before = rejected(reason)
    response = api.post(
        f"/v1/odoo/webhook?token={TOKEN}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert response.json()["code"] == code
    assert set(response.json()) == {"code", "message", "details"}
    assert rejected(reason) == before + 1
    assert count_rows(env, ShipmentRow) == 0
    assert count_rows(env, OdooHintRow) == 0


def test_validation_errors_name_the_field(api: TestClient) -> None:
    response = api.post(f"/v1/odoo/webhook?token={TOKEN}", json={"_model": "stock.picking"})
    fields = [f["field"] for f in response.json()["details"]["fields"]]
    assert fields == ["_id"]


def test_missing_picking_is_404_and_changes_nothing(env: Env, api: TestClient) -> None:
    audit_before = count_rows(env, AuditRow)
    response = api.post(f"/v1/odoo/webhook?token={TOKEN}", json=webhook(987654))
    assert response.status_code == 404
    assert response.json()["code"] == "odoo_record_not_found"
    assert response.json()["details"] == {"model": "stock.picking", "id": 987654}
    assert count_rows(env, ShipmentRow) == 0
    assert count_rows(env, AuditRow) == audit_before


def test_wrong_token_and_oversized_body(env: Env, api: TestClient) -> None:
    assert api.post("/v1/odoo/webhook", json=webhook(1)).status_code == 401
    assert api.post("/v1/odoo/webhook?token=nope", json=webhook(1)).status_code == 401
    huge = b'{"_model": "stock.picking", "_id": 1, "x": "' + b"a" * 300_000 + b'"}'
    response = api.post(f"/v1/odoo/webhook?token={TOKEN}", content=huge)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert count_rows(env, ShipmentRow) == 0


def test_not_ready_and_incoming_pickings_are_ignored(env: Env, api: TestClient) -> None:
    incoming = env.odoo.search("stock.picking", [("picking_type_code", "=", "incoming")], limit=1)
    assert incoming, "demo data must hold a receipt"
    response = api.post(f"/v1/odoo/webhook?token={TOKEN}", json=webhook(incoming[0]))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ignored",
        "picking_id": incoming[0],
        "reason": "not_outgoing",
    }
    assert count_rows(env, ShipmentRow) == 0


def test_odoo_outage_defers_the_hint_then_settles_it(env: Env, api: TestClient) -> None:
    picking_id = env.ready_picking_ids()[0]
    env.sandbox.fail_next(1, "unavailable")
    response = api.post(f"/v1/odoo/webhook?token={TOKEN}", json=webhook(picking_id))
    assert response.status_code == 202
    assert response.json()["status"] == "deferred"
    assert count_rows(env, ShipmentRow) == 0
    assert count_rows(env, OdooHintRow) == 1  # persisted before acknowledging

    assert env.intake.settle_due_hints() == {}  # not due yet
    env.clock.advance(6)
    assert env.intake.settle_due_hints() == {"settled": 1}
    assert [r.odoo_picking_id for r in shipments(env)] == [picking_id]
    with env.db.session() as s:
        hint = s.scalars(select(OdooHintRow)).one()
        assert hint.status == "settled" and hint.attempts == 1


def test_invalid_address_becomes_a_failed_intent_naming_the_field(env: Env) -> None:
    picking_id = env.ready_picking_ids()[0]
    picking = env.odoo.read("stock.picking", [picking_id], ["partner_id"])[0]
    env.sandbox.write("res.partner", [picking["partner_id"][0]], {"country_id": False})
    outcome = env.intake.handle_hint(OdooWebhookPayload.model_validate(webhook(picking_id)))
    assert outcome.status == "created"
    assert outcome.state == ShipmentState.FAILED
    assert outcome.errors is not None and "recipient.country_code" in outcome.errors
    (row,) = shipments(env)
    assert row.error is not None and row.error["code"] == "invalid_picking"
    assert row.request is None


def test_picking_edited_before_booking_refreshes_the_intent(env: Env) -> None:
    env.intake.poll_once()
    picking_id = env.ready_picking_ids()[0]
    carriers = env.odoo.search("delivery.carrier", [], order="id asc")
    env.clock.advance(1)
    env.sandbox.write("stock.picking", [picking_id], {"carrier_id": carriers[-1]})
    report = env.intake.poll_once()
    assert report.outcomes.get("refreshed") == 1
    row = next(r for r in shipments(env) if r.odoo_picking_id == picking_id)
    assert row.odoo_carrier_id == carriers[-1]


def test_cancelled_shipment_gets_a_new_revision_when_ready_again(env: Env) -> None:
    picking_id = env.ready_picking_ids()[0]
    payload = OdooWebhookPayload.model_validate(webhook(picking_id))
    first = env.intake.handle_hint(payload)
    with env.db.session() as s:
        row = s.get(ShipmentRow, first.shipment_id)
        assert row is not None
        row.state = ShipmentState.CANCELLED.value
    second = env.intake.handle_hint(payload)
    assert second.status == "created" and second.shipment_id != first.shipment_id
    assert sorted(r.revision for r in shipments(env)) == [1, 2]


def test_watermark_overlap_rereads_recent_changes(env: Env) -> None:
    for picking_id in env.ready_picking_ids()[:2]:  # the newest changes sit at the watermark
        env.sandbox.write("stock.picking", [picking_id], {"origin": "touched"})
    first = env.intake.poll_once()
    assert first.watermark is not None
    with env.db.session() as s:
        s.query(ShipmentRow).delete()  # forget what was seen: only the overlap can bring it back
    since = first.watermark - timedelta(seconds=env.settings.poll_overlap_seconds)
    in_window = env.odoo.search(
        "stock.picking",
        [*READY_DOMAIN, ("write_date", ">=", since.strftime("%Y-%m-%d %H:%M:%S"))],
    )
    assert 0 < len(in_window) < len(env.ready_picking_ids())
    report = env.intake.poll_once()
    assert report.outcomes.get("created") == len(in_window)
    assert sorted(r.odoo_picking_id for r in shipments(env)) == sorted(in_window)


def test_newly_released_picking_is_picked_up_by_the_next_poll(env: Env) -> None:
    env.intake.poll_once()
    released = env.sandbox.release_pickings(1)
    assert released
    report = env.intake.poll_once()
    assert report.outcomes.get("created") == 1
    assert released[0] in [r.odoo_picking_id for r in shipments(env)]


def test_burst_within_one_second_pages_without_loss_or_loop(env: Env) -> None:
    """Odoo keeps microseconds but returns seconds: paging must neither loop nor skip."""
    env.intake.poll_once()
    released = env.sandbox.release_pickings(12)
    assert len(released) >= 6
    report = env.intake.poll_once()
    assert report.outcomes.get("created") == len(released)
    assert report.pages <= len(released) // env.settings.odoo_page_size + 3

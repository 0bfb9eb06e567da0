"""A whole run at DEBUG — Odoo automation webhook, intake, rate shop, booking, write-back,
signed carrier webhooks with an exception, triage, API reads and refusals — leaves no customer
name, street, e-mail, phone, credential or API key in the logs."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from auth_support import api_key_for
from sqlalchemy import select
from track_env import TrackEnv, wait_until

from app.models import TrackingStatus
from app.store.tables import ParcelRow, ShipmentRow
from app.sync.booking.jobs import build_booking

pytestmark = pytest.mark.redis

MIN_NEEDLE = 5  # shorter strings ("Ana") occur by chance inside ordinary words and ids


def personal_data(tenv: TrackEnv) -> dict[str, str]:
    """Every customer name, street, e-mail and phone the Odoo sandbox holds."""
    partners = tenv.ctx.odoo.search_read(
        "res.partner", [], ["name", "street", "street2", "email", "phone"]
    )
    found: dict[str, str] = {}
    for partner in partners:
        for field in ("name", "street", "street2", "email", "phone"):
            value = partner.get(field)
            if isinstance(value, str) and len(value.strip()) >= MIN_NEEDLE:
                found[value.strip()] = f"res.partner.{field}"
    return found


def secrets(tenv: TrackEnv, waybill_key: str) -> dict[str, str]:
    settings = tenv.ctx.settings
    return {
        settings.odoo_api_key.get_secret_value(): "Odoo API key",
        settings.odoo_webhook_token.get_secret_value(): "Odoo webhook token",
        tenv.carrier_box.api_key: "carrier API key",
        tenv.carrier_box.webhook_secret: "carrier webhook secret",
        waybill_key: "Waybill API key",
        waybill_key.rsplit("_", 1)[-1]: "Waybill API key secret part",
    }


def booked(tenv: TrackEnv, count: int) -> list[tuple[str, str]]:
    """Book ``count`` intents with the carrier sandbox: (shipment id, tracking number)."""
    with tenv.ctx.db.session() as session:
        ids = session.scalars(
            select(ShipmentRow.id).where(ShipmentRow.state == "intent").limit(count)
        ).all()
    booking = build_booking(tenv.ctx)
    result = []
    for shipment_id in ids:
        assert booking.book_shipment(shipment_id).state == "booked"
        with tenv.ctx.db.session() as session:
            number = session.scalars(
                select(ParcelRow.tracking_number).where(ParcelRow.shipment_id == shipment_id)
            ).first()
        result.append((shipment_id, str(number)))
    return result


def test_end_to_end_run_logs_no_personal_data_or_secrets(
    tenv: TrackEnv, json_logs: Callable[[], str]
) -> None:
    box = tenv.odoo_box
    token = tenv.ctx.settings.odoo_webhook_token.get_secret_value()
    box.set_automation_webhook(
        f"{tenv.base_url}/v1/odoo/webhook?token={token}",
        ["id", "name", "state", "partner_id", "picking_type_code"],
    )
    box.release_pickings(3)
    box.wait_for_webhooks()
    tenv.intake.poll_once()
    shipments = booked(tenv, 3)
    assert len(shipments) >= 2
    tenv.writer.drain()

    (first_id, first_no), (second_id, second_no) = shipments[:2]
    tenv.carrier_box.push_tracking(first_no, "address_issue", duplicates=True)
    tenv.carrier_box.push_tracking(second_no, "delivered", out_of_order=True)

    def status(shipment_id: str) -> str | None:
        with tenv.ctx.db.session() as session:
            return session.get(ShipmentRow, shipment_id).tracking_status  # type: ignore[union-attr]

    wait_until(lambda: status(second_id) == TrackingStatus.DELIVERED.value)
    wait_until(lambda: status(first_id) is not None)
    assert tenv.ctx.queue.join()
    tenv.writer.drain()

    key = api_key_for(tenv.ctx, "support")
    with httpx.Client(base_url=tenv.base_url, timeout=10) as api:
        assert api.get(f"/v1/shipments/{first_id}", headers={"X-API-Key": key}).is_success
        assert api.get(f"/v1/shipments/{first_id}/eta", headers={"X-API-Key": key}).is_success
        assert api.get("/v1/audit", headers={"X-API-Key": key}).status_code == 403
        assert api.get("/v1/audit", headers={"X-API-Key": key + "x"}).status_code == 401
        assert api.post(f"/v1/odoo/webhook?token={token}x", json={}).status_code in (401, 403)
        forged = api.post("/v1/webhooks/easypost", content=b'{"id": "evt_1"}')
        assert forged.status_code == 401

    logs = json_logs()
    lines = [line for line in logs.splitlines() if line.strip()]
    # the scan means something only if the run really logged, with correlation ids
    assert len(lines) > 50, logs[-2000:]
    assert sum('"correlation_id"' in line for line in lines) > 20

    needles = {**personal_data(tenv), **secrets(tenv, key)}
    kinds = set(needles.values())
    assert {"res.partner.name", "res.partner.street", "res.partner.email"} <= kinds, kinds
    lowered = logs.lower()
    leaks = {
        what: needle
        for needle, what in needles.items()
        if re.search(re.escape(needle.lower()), lowered)
    }
    where = [line[:400] for line in lines if any(n.lower() in line.lower() for n in leaks.values())]
    assert not leaks, (leaks, where[:5])

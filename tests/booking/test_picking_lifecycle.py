"""Backorders, customer returns and cancellations, from the Odoo picking to the carrier."""

from __future__ import annotations

import json

from booking_env import BookingEnv

from app.models import ShipmentState
from app.store.tables import ShipmentRow


def _picking_type(benv: BookingEnv, code: str) -> int:
    return benv.odoo.search("stock.picking.type", [("code", "=", code)], limit=1)[0]


def _copy_picking(benv: BookingEnv, source_id: int, **vals: object) -> int:
    """A new picking for the same customer and goods, as Odoo's backorder/return flows make."""
    src = benv.odoo.read(
        "stock.picking", [source_id], ["partner_id", "carrier_id", "name", "move_ids"]
    )[0]
    moves = benv.odoo.read("stock.move", src["move_ids"], ["product_id", "product_uom_qty"])
    picking_id = benv.odoo_box.create(
        "stock.picking",
        {
            "picking_type_id": _picking_type(benv, "outgoing"),
            "partner_id": src["partner_id"][0],
            "carrier_id": src["carrier_id"][0] if src["carrier_id"] else False,
            "move_ids": [
                (
                    0,
                    0,
                    {
                        "product_id": m["product_id"][0],
                        "name": "goods",
                        "product_uom_qty": m["product_uom_qty"],
                    },
                )
                for m in moves
            ],
            **vals,
        },
    )
    benv.odoo_box.mark_ready(picking_id)
    return picking_id


def _book_and_write(benv: BookingEnv, shipment_id: str) -> ShipmentRow:
    assert benv.booking.book_shipment(shipment_id).state == ShipmentState.BOOKED
    benv.writer.drain()
    return benv.shipment(shipment_id)


def test_backorder_gets_its_own_shipment(benv: BookingEnv) -> None:
    first = benv.intent_for_first_ready()
    assert first.odoo_picking_id is not None
    _book_and_write(benv, first.id)
    name = benv.odoo.read("stock.picking", [first.odoo_picking_id], ["name"])[0]["name"]
    backorder_id = _copy_picking(
        benv, first.odoo_picking_id, backorder_id=first.odoo_picking_id, origin=name
    )
    assert benv.intake.poll_once().outcomes.get("created") == 1
    second = next(r for r in benv.shipments() if r.odoo_picking_id == backorder_id)
    assert second.request is not None
    assert second.request["metadata"]["backorder_of"] == first.odoo_picking_id
    booked = _book_and_write(benv, second.id)
    assert benv.picking(backorder_id)["carrier_tracking_ref"] == booked.parcels[0].tracking_number
    assert benv.picking(first.odoo_picking_id)["carrier_tracking_ref"] != (
        booked.parcels[0].tracking_number
    )
    assert benv.buys() == 2


def test_customer_return_gets_a_return_label(benv: BookingEnv) -> None:
    shipped = benv.intent_for_first_ready()
    assert shipped.odoo_picking_id is not None
    _book_and_write(benv, shipped.id)
    name = benv.odoo.read("stock.picking", [shipped.odoo_picking_id], ["name"])[0]["name"]
    return_id = _copy_picking(
        benv,
        shipped.odoo_picking_id,
        origin=f"Return of {name}",
        picking_type_id=_picking_type(benv, "incoming"),
    )
    assert benv.intake.poll_once().outcomes.get("created") == 1
    ret = next(r for r in benv.shipments() if r.odoo_picking_id == return_id)
    assert ret.request is not None and ret.request["is_return"] is True
    assert ret.request["recipient"] == shipped.request["shipper"]  # back to the warehouse
    _book_and_write(benv, ret.id)
    names = [a["name"] for a in benv.attachments(return_id)]
    assert names and all(n.startswith("LabelReturn-") for n in names)


def test_vendor_receipts_are_not_shipped(benv: BookingEnv) -> None:
    report = benv.intake.poll_once()
    receipts = benv.odoo.search("stock.picking", [("picking_type_code", "=", "incoming")])
    assert receipts
    assert not [r for r in benv.shipments() if r.odoo_picking_id in receipts]
    assert report.outcomes.get("ignored", 0) >= 1


def test_cancelled_picking_voids_the_label(benv: BookingEnv) -> None:
    intent = benv.intent_for_first_ready()
    assert intent.odoo_picking_id is not None
    _book_and_write(benv, intent.id)
    benv.odoo_box.write("stock.picking", [intent.odoo_picking_id], {"state": "cancel"})
    cancelled: list[str] = []
    benv.intake.on_cancelled = cancelled.append
    assert benv.intake.poll_once().outcomes.get("cancel_requested") == 1
    assert cancelled == [intent.id]
    outcome = benv.booking.cancel_shipment(intent.id)
    assert outcome.accepted and outcome.state == ShipmentState.CANCELLED
    report = benv.writer.drain()
    assert report.applied == 2 and not report.blocked_aggregates, report
    picking = benv.picking(intent.odoo_picking_id)
    assert not picking["carrier_tracking_ref"]
    assert any("Label voided" in m for m in benv.messages(intent.odoo_picking_id))
    assert benv.booking.cancel_shipment(intent.id).detail == "already"


def test_carrier_refusing_to_void_is_put_to_a_person(benv: BookingEnv) -> None:
    intent = benv.intent_for_first_ready()
    assert intent.odoo_picking_id is not None
    booked = _book_and_write(benv, intent.id)
    benv.carrier_box.advance(booked.parcels[0].tracking_number or "", 2)  # scanned: too late
    outcome = benv.booking.cancel_shipment(intent.id)
    assert not outcome.accepted and outcome.state == ShipmentState.BOOKED
    row = benv.shipment(intent.id)
    assert row.error is not None and row.error["code"] == "cancel_rejected"
    benv.writer.drain()
    activities = benv.odoo.search_read(
        "mail.activity",
        [("res_model", "=", "stock.picking"), ("res_id", "=", intent.odoo_picking_id)],
        ["summary", "note"],
    )
    activities = [a for a in activities if a["summary"] == "Carrier refused to void the label"]
    assert len(activities) == 1
    assert row.error["reason"] and row.error["reason"] in activities[0]["note"]


def test_cancelling_before_booking_buys_nothing(benv: BookingEnv) -> None:
    intent = benv.intent_for_first_ready()
    assert intent.odoo_picking_id is not None
    benv.odoo_box.write("stock.picking", [intent.odoo_picking_id], {"state": "cancel"})
    assert benv.intake.poll_once().outcomes.get("cancelled") == 1
    assert benv.shipment(intent.id).state == ShipmentState.CANCELLED
    assert benv.booking.book_shipment(intent.id).state == ShipmentState.CANCELLED
    assert benv.buys() == 0


def test_cross_border_picking_ships_with_a_customs_declaration(benv: BookingEnv) -> None:
    from app.demo import DEMO_CUSTOMS
    from app.sync.intake.customs import load_catalog

    benv.intake.catalog = {}
    benv.intake.poll_once()
    abroad = [
        r
        for r in benv.shipments()
        if r.error and any(k.startswith("customs.items") for k in r.error.get("fields", {}))
    ]
    assert abroad, "demo data must hold cross-border pickings"
    assert "WAYBILL_CUSTOMS_CATALOG" in next(iter(abroad[0].error["fields"].values()))

    benv.intake.catalog = load_catalog(json.dumps(DEMO_CUSTOMS))
    picking_id = abroad[0].odoo_picking_id
    assert picking_id is not None
    benv.odoo_box.write("stock.picking", [picking_id], {"origin": "customs data added"})
    assert benv.intake.poll_once().outcomes.get("refreshed", 0) >= 1
    row = benv.shipment(abroad[0].id)
    assert row.state == "intent" and row.request is not None
    items = row.request["customs"]["items"]
    assert items and all(len(i["hs_code"]) >= 6 for i in items)
    assert benv.booking.book_shipment(row.id).state == ShipmentState.BOOKED
    sent = [r.body for r in benv.carrier_box.requests if r.path.endswith("/shipments")]
    assert sent[-1]["shipment"]["customs_info"]["customs_items"]

"""The outbox drain in waves: many pickings' writes, each picking's in order, label uploads of
a wave in one ``create``, and a failed batch that neither loses nor doubles a label."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.db import Database
from app.core.ids import new_id
from app.store.tables import LabelRow, OutboxRow, ParcelRow, ShipmentRow
from app.sync.odoo import OdooClient
from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server
from app.sync.writeback.outbox import (
    KIND_PICKING_LABELS,
    KIND_PICKING_SHIPPED,
    enqueue_write,
    picking_aggregate,
    queue_picking_message,
)
from app.sync.writeback.writer import OdooWriter


@dataclass
class Env:
    box: OdooSandbox
    writer: OdooWriter
    db: Database
    pickings: list[int]


@pytest.fixture
def env(db: Database) -> Iterator[Env]:
    box = OdooSandbox(version="17.0", seed=4, demo_data=True)
    with run_sandbox_server(box, host="127.0.0.1", port=0) as url:
        odoo = OdooClient(
            url=url, db=box.db, username=box.login, api_key=box.api_key, retry_attempts=1
        )
        yield Env(box, OdooWriter(db=db, odoo=odoo), db, box.release_pickings(6))
        odoo.close()


def queue_booking(env: Env, picking_id: int, *, shipped: bool = True, parcels: int = 2) -> None:
    """What a booking owes Odoo: tracking ref and price, the labels, the chatter message."""
    with env.db.session() as session:
        row = ShipmentRow(
            id=new_id("shp"),
            source="test",
            source_ref=f"stock.picking:{picking_id}",
            reference=f"P{picking_id}",
            odoo_picking_id=picking_id,
            state="booked",
            source_snapshot={},
            correlation_id="cid",
            parcels=[
                ParcelRow(index=i, weight_kg=1, tracking_number=f"T{picking_id}-{i}")
                for i in range(parcels)
            ],
            labels=[
                LabelRow(
                    parcel_index=i,
                    tracking_number=f"T{picking_id}-{i}",
                    format="pdf",
                    data=b"%PDF label",
                )
                for i in range(parcels)
            ],
        )
        session.add(row)
        session.flush()
        aggregate = picking_aggregate(picking_id)
        if shipped:
            enqueue_write(
                session,
                aggregate=aggregate,
                kind=KIND_PICKING_SHIPPED,
                dedupe_key=f"{picking_id}:shipped",
                payload={
                    "picking_id": picking_id,
                    "tracking_ref": f"T{picking_id}-0",
                    "price": "7.5",
                    "currency": "USD",
                },
            )
        enqueue_write(
            session,
            aggregate=aggregate,
            kind=KIND_PICKING_LABELS,
            dedupe_key=f"{picking_id}:labels",
            payload={
                "picking_id": picking_id,
                "label_ids": [x.id for x in row.labels],
                "prefix": "LabelShipping-sandbox",
            },
        )
        queue_picking_message(session, picking_id, f"{picking_id}:booked", "<p>Shipment booked</p>")


def labels_in_odoo(env: Env) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {p: [] for p in env.pickings}
    for a in env.box.records("ir.attachment"):
        if a.get("res_model") == "stock.picking" and a.get("res_id") in found:
            found[a["res_id"]].append(a["name"])
    return found


def test_one_create_for_the_labels_of_a_wave_and_every_write_once(env: Env) -> None:
    for picking_id in env.pickings:
        queue_booking(env, picking_id)
    env.box.reset_rpc_calls()

    report = env.writer.drain()

    calls = env.box.rpc_calls
    assert report.applied == 3 * len(env.pickings) and not report.blocked_aggregates
    assert calls[("ir.attachment", "create")] == 1
    assert calls[("stock.picking", "write")] == calls[("stock.picking", "message_post")] == 6
    assert all(len(names) == 2 for names in labels_in_odoo(env).values())
    with env.db.session() as s:
        assert None not in set(s.scalars(select(LabelRow.odoo_attachment_id)))
    assert env.writer.drain().applied == 0  # nothing left, nothing written twice


def test_a_batch_that_fails_in_transit_is_retried_without_doubling(env: Env) -> None:
    for picking_id in env.pickings:
        queue_booking(env, picking_id, shipped=False)
    env.box.fail_next(1, "unavailable")  # the first call of the drain: the batched upload

    first = env.writer.drain()

    assert first.retried == len(env.pickings) and first.applied == 0
    later = datetime.now(UTC) + timedelta(minutes=5)
    env.writer.clock = lambda: later
    second = env.writer.drain()
    assert second.applied == 2 * len(env.pickings)
    assert all(len(names) == 2 for names in labels_in_odoo(env).values())
    with env.db.session() as s:
        statuses = set(s.scalars(select(OutboxRow.status)))
    assert statuses == {"sent"}

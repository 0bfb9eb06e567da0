"""The outbox drain in waves: many pickings' writes, each picking's in order, label uploads of
a wave in one ``create``, and a failed batch that neither loses nor doubles a label."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.db import Database
from app.core.ids import new_id
from app.store.tables import LabelRow, OutboxRow, ParcelRow, ShipmentRow, SuggestionRow
from app.sync.odoo import OdooClient
from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server
from app.sync.odoo_sandbox.models import xmlid_res_id
from app.sync.writeback import writer as writer_module
from app.sync.writeback.outbox import (
    KIND_PICKING_LABELS,
    KIND_PICKING_SHIPPED,
    enqueue_write,
    picking_aggregate,
    queue_picking_activity,
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


def notes_in_odoo(env: Env) -> dict[int, list[str]]:
    """The Waybill references of the internal notes on each picking, as Odoo shows them."""
    note = env.box.run(lambda odoo_env: xmlid_res_id(odoo_env, "mail.mt_note"))
    found: dict[int, list[str]] = {p: [] for p in env.pickings}
    for m in env.box.records("mail.message"):
        if m.get("model") == "stock.picking" and m.get("res_id") in found:
            assert m["subtype_id"] == note and m["message_type"] == "comment"
            assert m["author_id"]  # the integration user's partner, as message_post sets it
            found[m["res_id"]].extend(re.findall(r"Waybill ref ([^<]+)<", m["body"]))
    return found


def test_one_create_for_the_labels_of_a_wave_and_every_write_once(env: Env) -> None:
    for picking_id in env.pickings:
        queue_booking(env, picking_id)
    env.box.reset_rpc_calls()

    report = env.writer.drain()

    calls = env.box.rpc_calls
    assert report.applied == 3 * len(env.pickings) and not report.blocked_aggregates
    assert calls[("ir.attachment", "create")] == 1
    assert calls[("mail.message", "create")] == 1 and not calls[("stock.picking", "message_post")]
    assert calls[("stock.picking", "write")] == 6
    assert all(len(names) == 2 for names in labels_in_odoo(env).values())
    assert notes_in_odoo(env) == {p: [f"{p}:booked"] for p in env.pickings}
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


def test_a_deleted_picking_fails_only_its_own_note(env: Env) -> None:
    """Odoo refuses the whole batched ``create`` when one document is gone; the others are
    then posted one by one and the missing one is set aside for a person."""
    with env.db.session() as session:
        for picking_id in env.pickings:
            queue_picking_message(session, picking_id, f"{picking_id}:m", "<p>In transit</p>")
    gone = env.pickings[2]
    env.box.unlink("stock.picking", [gone])

    report = env.writer.drain()

    assert report.applied == len(env.pickings) - 1 and report.dead == 1
    found = notes_in_odoo(env)
    assert found.pop(gone) == [] and all(refs == [f"{p}:m"] for p, refs in found.items())


def test_activities_of_a_wave_in_one_create_with_their_ids_kept(env: Env) -> None:
    with env.db.session() as session:
        suggestions = []
        for picking_id in env.pickings:
            suggestion = SuggestionRow(
                id=new_id("sug"), kind="triage", dedupe_key=str(picking_id), payload={}
            )
            session.add(suggestion)
            suggestions.append(suggestion.id)
            queue_picking_activity(
                session,
                picking_id,
                suggestion.id,
                summary="Address problem",
                note_html="<p>Call the customer</p>",
                suggestion_id=suggestion.id,
            )
    env.box.reset_rpc_calls()

    report = env.writer.drain()

    assert report.applied == len(env.pickings)
    assert env.box.rpc_calls[("mail.activity", "create")] == 1
    activities = {a["res_id"]: a for a in env.box.records("mail.activity")}
    with env.db.session() as s:
        kept = {r.id: r.odoo_activity_id for r in s.scalars(select(SuggestionRow))}
    expected = {sid: activities[p]["id"] for sid, p in zip(suggestions, env.pickings, strict=True)}
    assert kept == expected
    assert all(activities[p]["summary"] == "Address problem" for p in env.pickings)


def test_batches_are_cut_without_splitting_a_record(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most ``CREATE_BATCH_SIZE`` values per call (one Odoo transaction each); a picking's
    two labels always travel together."""
    monkeypatch.setattr(writer_module, "CREATE_BATCH_SIZE", 5)
    for picking_id in env.pickings:
        queue_booking(env, picking_id, shipped=False)
    env.box.reset_rpc_calls()

    env.writer.drain()

    assert env.box.rpc_calls[("ir.attachment", "create")] == 3  # 2 + 2 | 2 + 2 | 2 + 2
    assert all(len(names) == 2 for names in labels_in_odoo(env).values())


def test_settle_waits_while_writes_keep_arriving_and_no_longer_than_allowed(env: Env) -> None:
    """The drain's coalescing window: quiet for ``quiet`` seconds ends it, ``longest`` caps it."""
    now = [0.0]
    naps: list[float] = []
    arrivals = iter(env.pickings[:3])  # a write lands during each of the first three naps

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += seconds
        picking_id = next(arrivals, None)
        if picking_id is not None:
            with env.db.session() as session:
                ref = f"{picking_id}:n{now[0]}"
                queue_picking_message(session, picking_id, ref, "<p>n</p>")

    env.writer.settle(quiet=0.2, longest=5.0, sleep=sleep, monotonic=lambda: now[0])
    assert naps == [0.2] * 4  # three arrivals, then one quiet period

    naps.clear()
    arrivals = iter(env.pickings * 10)
    env.writer.settle(quiet=0.2, longest=0.5, sleep=sleep, monotonic=lambda: now[0])
    assert naps == pytest.approx([0.2, 0.2, 0.1])  # a steady stream: cut at ``longest``

    naps.clear()
    env.writer.settle(quiet=0.0, longest=1.0, sleep=sleep, monotonic=lambda: now[0])
    assert naps == []  # disabled


@pytest.mark.parametrize("chase", [True, False])
def test_a_settled_drain_works_off_its_backlog_and_leaves_newer_writes_to_the_next_run(
    env: Env, monkeypatch: pytest.MonkeyPatch, chase: bool
) -> None:
    with env.db.session() as session:
        for picking_id in env.pickings[:5]:
            queue_picking_message(session, picking_id, f"{picking_id}:a", "<p>a</p>")
    waves: list[int] = []
    apply_wave = env.writer._apply_wave

    def wave(groups: list[list[int]], kinds: dict[int, str]) -> list[str]:
        waves.append(len(groups))
        if len(waves) == 2:  # a write queued while the second pass runs
            with env.db.session() as session:
                queue_picking_message(session, env.pickings[5], "late", "<p>late</p>")
        return apply_wave(groups, kinds)

    monkeypatch.setattr(env.writer, "_apply_wave", wave)

    report = env.writer.drain(limit=3, chase_new_writes=chase)

    # 3 rows (a full page: more may wait), then 2 — and the late one only when chasing
    assert waves == ([3, 2, 1] if chase else [3, 2])
    assert report.applied == (6 if chase else 5)

"""A production-shaped rig for process-level faults: PostgreSQL, a private Redis, the Odoo and
carrier sandboxes on loopback, and ``waybill worker`` subprocesses (RQ, forking work-horses).

Intents come from Odoo pickings through the real intake (``poll_pickings``), bookings run in the
workers, and Odoo write-backs go through the outbox and the ``odoo`` queue — the whole path.
The invariants are read back from the three stores at the end.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from processes import Process, RedisServer, subprocess_env
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.carriers.sandbox import CarrierSandbox
from app.core.context import AppContext
from app.core.dlq import RQDeadLetters
from app.core.queue import JobSpec, RQJobQueue
from app.models import ShipmentState
from app.store.tables import OutboxRow, ShipmentRow
from app.sync.booking.jobs import sweep_stalled_intents
from app.sync.odoo_sandbox import OdooSandbox
from app.sync.writeback.writer import OdooWriter

QUEUES = ["booking", "odoo", "default"]
_JOB_START = re.compile(r"(book-shp_[A-Za-z0-9_-]+)")


class CountingQueue(RQJobQueue):
    """The production queue, counting booking enqueues it refused as duplicates (same job id
    already queued, scheduled or running): each one a second booking that never happened."""

    def __init__(self, connection: Any) -> None:
        super().__init__(connection)
        self.deduplicated = 0

    def enqueue(self, spec: JobSpec) -> str | None:
        job_id = super().enqueue(spec)
        if job_id is None and spec.func.endswith("book_shipment"):
            self.deduplicated += 1
        return job_id


@dataclass
class Fleet:
    ctx: AppContext
    redis: RedisServer
    carrier: CarrierSandbox
    odoo_box: OdooSandbox
    env: dict[str, str]
    workdir: Path
    processes: list[Process]
    workers: list[Process] = field(default_factory=list)
    requeued: int = 0

    def start_worker(self, name: str) -> Process:
        proc = Process(["app.core.worker", *QUEUES], self.env, self.workdir / f"{name}.log")
        self.processes.append(proc)
        self.workers.append(proc)
        return proc

    def sweep(self, older_than_seconds: float = 0.0) -> int:
        """The stalled-intent sweeper, as the scheduler runs it (here with a short cutoff)."""
        count = int(sweep_stalled_intents(older_than_minutes=older_than_seconds / 60)["requeued"])
        self.requeued += count
        return count

    def states(self) -> Counter[str]:
        with self.ctx.db.session() as s:
            rows = s.execute(select(ShipmentRow.state, func.count()).group_by(ShipmentRow.state))
            return Counter(dict(rows.all()))  # type: ignore[arg-type]

    def settled(self, intents: int) -> bool:
        """Every intent booked, held for a person, or dead-lettered."""
        states = self.states()
        done = states.get(ShipmentState.BOOKED.value, 0) + states.get(
            ShipmentState.AWAITING_APPROVAL.value, 0
        )
        return done + len(self.dead_letters()) >= intents

    def dead_letters(self) -> list[Any]:
        return [d for d in RQDeadLetters(self.ctx.redis).list() if d.job.endswith("book_shipment")]

    @property
    def deduplicated(self) -> int:
        return self.ctx.queue.deduplicated if isinstance(self.ctx.queue, CountingQueue) else 0

    def job_runs(self) -> int:
        """Booking job executions, counted from the workers' logs (RQ logs each dequeue)."""
        runs = 0
        for proc in self.workers:
            for line in proc.output().splitlines():
                if "book_shipment" in line and _JOB_START.search(line) and "Worker" in line:
                    runs += 1
        return runs


def carrier_accounts_json(carrier: CarrierSandbox) -> str:
    account = carrier.account(timeout_seconds=3.0)
    return json.dumps(
        [
            {
                "id": account.id,
                "carrier": account.carrier,
                "credentials": account.secrets(),
                "server_url": account.server_url,
                "test_mode": True,
                "webhook_secret": carrier.webhook_secret,
                "timeout_seconds": account.timeout_seconds,
            }
        ]
    )


def worker_env(
    *, db_url: str, redis: RedisServer, carrier: CarrierSandbox, odoo_box: OdooSandbox,
    odoo_url: str, workdir: Path,
) -> dict[str, str]:  # fmt: skip
    return subprocess_env(
        env="test",
        log_json="false",
        database_url=db_url,
        redis_url=redis.url,
        odoo_url=odoo_url,
        odoo_db=odoo_box.db,
        odoo_username=odoo_box.login,
        odoo_api_key=odoo_box.api_key,
        odoo_retry_attempts="2",
        carrier_accounts=carrier_accounts_json(carrier),
        auto_book="true",
        data_dir=str(workdir / "var"),
        mlflow_tracking_uri=f"sqlite:///{workdir / 'mlflow.db'}",
        worker_heartbeat_seconds="1",
        worker_abandon_after_seconds="2",
        worker_maintenance_seconds="1",
    )


@dataclass
class Figures:
    scenario: str
    intents: int
    booked: int
    held_for_dispatcher: int
    dead_lettered: int
    labels_bought: int
    purchase_attempts: int
    booking_job_runs: int
    duplicates_avoided: int
    sweeper_requeued: int
    seconds_to_drain: float
    extra: dict[str, Any] = field(default_factory=dict)

    def print(self) -> None:
        print(json.dumps({k: v for k, v in self.__dict__.items() if k != "extra"} | self.extra))

    @classmethod
    def of_run(
        cls,
        fleet: Fleet,
        scenario: str,
        *,
        intents: int,
        counts: dict[str, int],
        seconds_to_drain: float,
        sweeper_requeued: int,
        extra: dict[str, Any],
    ) -> Figures:
        """The figures every scenario reports, read off the fleet after it settled."""
        runs = fleet.job_runs()
        return cls(
            scenario=scenario,
            intents=intents,
            booked=counts["booked"],
            held_for_dispatcher=counts["held"],
            dead_lettered=counts["dead"],
            labels_bought=counts["labels"],
            purchase_attempts=sum(
                1 for r in fleet.carrier.requests if r.method == "POST" and r.path.endswith("/buy")
            ),
            booking_job_runs=runs,
            # a booking asked for again while still queued/running, or run again after it was done
            duplicates_avoided=fleet.deduplicated + max(0, runs - intents),
            sweeper_requeued=sweeper_requeued,
            seconds_to_drain=seconds_to_drain,
            extra=extra,
        )


def check_invariants(fleet: Fleet, ids: list[str]) -> dict[str, int]:
    """Every intent booked once, held for a person with its reason, or dead-lettered with its
    reason; labels bought = parcels booked (+ labels of held intents, whose purchase outcome a
    person must check); every Odoo write applied exactly once. Returns the figures' counts."""
    # Whatever the outbox still holds (a drain enqueued into a Redis that restarted, a drain
    # killed holding a lease) is applied by the next scheduled drain: run them, letting leases
    # and back-offs lapse as an hour would.
    clock = [datetime.now(UTC)]
    writer = OdooWriter(db=fleet.ctx.db, odoo=fleet.ctx.odoo, clock=lambda: clock[0])
    for _ in range(10):
        writer.drain()
        clock[0] += timedelta(hours=1)
    dead = {d.args[0]: d.reason for d in fleet.dead_letters()}
    purchases: Counter[str] = Counter()
    for sh in fleet.carrier.shipments.values():
        if sh.get("selected_rate"):
            purchases[str(sh.get("reference"))] += 1
    booked = held = held_with_label = booked_labels = 0
    with fleet.ctx.db.session() as s:
        rows = s.scalars(
            select(ShipmentRow)
            .options(selectinload(ShipmentRow.parcels))
            .where(ShipmentRow.id.in_(ids))
        ).all()
        assert len(rows) == len(ids), "an intent vanished"
        for row in rows:
            # one label per parcel (a carrier without multi-parcel shipments gets one per box)
            bought = purchases.pop(str(row.reference), 0)
            if row.state == ShipmentState.BOOKED.value:
                booked += 1
                booked_labels += bought
                assert bought == len(row.parcels), f"{row.id}: {bought} labels, not one a parcel"
                _assert_odoo_written_once(fleet, row)
            elif row.state == ShipmentState.AWAITING_APPROVAL.value:
                held += 1
                held_with_label += bought
                assert bought <= len(row.parcels), f"{row.id}: labels bought twice"
                assert row.odoo_picking_id is not None
                assert _messages(fleet, row.odoo_picking_id, "")  # the reason, on the picking
            else:
                assert row.id in dead, f"{row.id} is {row.state}: neither booked, held nor dead"
                assert dead[row.id], "a dead letter without its reason"
                assert bought == 0
    assert not purchases, f"labels bought for no intent: {purchases}"
    labels = booked_labels + held_with_label
    with fleet.ctx.db.session() as s:
        stuck = s.execute(
            select(
                OutboxRow.kind, OutboxRow.status, OutboxRow.attempts, OutboxRow.last_error
            ).where(OutboxRow.status.not_in(("sent", "skipped")))
        ).all()
    assert not stuck, f"Odoo writes not applied: {stuck[:5]}"
    return {
        "booked": booked,
        "held": held,
        "held_with_label": held_with_label,
        "dead": len(dead),
        "labels": labels,
        "booked_parcels": booked_labels,
    }


def _messages(fleet: Fleet, picking_id: int, needle: str) -> list[dict[str, Any]]:
    found = fleet.ctx.odoo.search_read(
        "mail.message", [("model", "=", "stock.picking"), ("res_id", "=", picking_id)], ["body"]
    )
    return [m for m in found if needle in str(m["body"])]


def _assert_odoo_written_once(fleet: Fleet, row: ShipmentRow) -> None:
    assert row.odoo_picking_id is not None
    booked_msgs = _messages(fleet, row.odoo_picking_id, "Shipment booked")
    assert len(booked_msgs) == 1, f"picking {row.odoo_picking_id}: {len(booked_msgs)} messages"
    attachments = fleet.ctx.odoo.search(
        "ir.attachment",
        [("res_model", "=", "stock.picking"), ("res_id", "=", row.odoo_picking_id)],
    )
    assert len(attachments) == len(row.parcels)
    picking = fleet.ctx.odoo.read("stock.picking", [row.odoo_picking_id], ["carrier_tracking_ref"])
    numbers = [p.tracking_number for p in row.parcels]
    assert picking[0]["carrier_tracking_ref"] == ",".join(n for n in numbers if n)


def wait_settled(fleet: Fleet, intents: int, timeout: float) -> float:
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if fleet.settled(intents):
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"not settled after {timeout} s: {dict(fleet.states())}")

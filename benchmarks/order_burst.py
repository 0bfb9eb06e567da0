"""Order-release burst: N ready pickings at once → booked, labelled and written back to Odoo.

``python -m benchmarks.order_burst [--size 2000] [--baseline-size 40]
[--api-workers N --job-workers M]``

The service path: one ``write_date`` poll cycle (pages of 500, related records read once per
page) creates the intents; each new intent enqueues its booking job (rate + buy at the carrier);
booked shipments queue their Odoo writes in the outbox and wake the drain job. The run ends when
every intent is booked and the outbox is empty.

The baseline is what a synchronous ERP connector does, in the same run and with the same code:
one picking at a time — re-read it (and its partner, order, carrier), rate, buy, then write the
tracking number, the label and the chatter message — on ``--baseline-size`` further pickings.
Its cost per picking does not depend on how many follow, so its rate stands for the whole burst.

Two topologies (``benchmarks.topology``):

* in-process (default): the poll in the benchmark's thread, bookings and the outbox drain on
  the in-process job queue (``--workers`` threads), all in one process and one GIL.
* production (``--job-workers M``; ``--api-workers`` is accepted for symmetry but the burst
  does not go through the HTTP API): the poll, the bookings and the drain are RQ jobs run by
  ``M`` ``waybill worker`` processes (one forked work-horse per job) on the real Redis and
  PostgreSQL, configured by ``WAYBILL_*`` variables. The benchmark process enqueues the poll
  job, waits, and — as the periodic scheduler would — enqueues a drain when jobs are idle but
  outbox rows are left (``drain_nudges``). The ship-from partner is resolved once beforehand
  and handed over as ``WAYBILL_ODOO_SHIPPER_PARTNER_ID`` (in-process it is resolved before the
  count starts too). CPU is the service processes' (``service_cpu_seconds``). The sequential
  baseline runs in the benchmark process with the same settings (the same directory, with its
  Redis circuit breakers): it is latency-bound either way.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core.context import AppContext
from app.core.queue import InProcessJobQueue, JobSpec
from app.models import ShipmentState
from app.store.tables import LabelRow, OutboxRow, ShipmentRow
from app.sync.booking.jobs import carrier_directory, enqueue_drain
from app.sync.booking.policy import DefaultPolicy
from app.sync.booking.service import BookingService
from app.sync.intake.schemas import OdooWebhookPayload
from app.sync.intake.service import IntakeService
from app.sync.writeback.outbox import KIND_PICKING_LABELS
from app.sync.writeback.writer import OdooWriter
from benchmarks.harness import (
    ResourceMeter,
    Stack,
    bench_database,
    bench_redis,
    benchmark_parser,
    percentiles,
    ratio,
    run_and_emit,
    service_stack,
    wait_until,
)
from benchmarks.topology import (
    CpuMeter,
    Topology,
    job_workers,
    service_processes,
    topology_from_args,
)

BOOK_FUNC = "benchmarks.order_burst.book_job"
POLL_FUNC = "benchmarks.order_burst.poll_job"
POLL_JOB_ID = "bench-poll"
BOOKED_MESSAGE = "Shipment booked"


def booking_service(ctx: AppContext) -> BookingService:
    """The service's booking path with the default policy (the recommender is not measured)."""
    return BookingService(
        db=ctx.db,
        directory=carrier_directory(ctx),
        policy=DefaultPolicy(),
        on_writes_queued=lambda: enqueue_drain(ctx),
        rate_workers=ctx.settings.rate_shop_workers,
    )


def book_job(shipment_id: str) -> dict[str, Any]:
    """The booking job as the queue runs it (resolved by name, like ``BOOK_JOB``)."""
    from app.core.context import get_context

    return booking_service(get_context()).book_shipment(shipment_id).__dict__


def poll_job() -> dict[str, Any]:
    """The intake poll as an RQ job (production topology): each new intent queues its booking,
    as ``app.sync.intake.jobs.poll_pickings`` does with the benchmark's booking job."""
    from app.core.context import get_context

    ctx = get_context()
    intake = IntakeService(
        db=ctx.db,
        odoo=ctx.odoo,
        settings=ctx.settings,
        on_new_intent=lambda sid: _enqueue_booking(ctx, sid),
    )
    poll = intake.poll_once()
    return {"pages": poll.pages, "seen": poll.seen}


class Finished:
    """Done when no job is queued or running and the outbox is empty. Rows left while the jobs
    are idle (with RQ, a drain requested while another held the drain lock is skipped) get a
    drain, as the scheduler's next cycle would give them; ``nudges`` counts those."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.nudges = 0

    def __call__(self) -> bool:
        if not self.stack.join(timeout=0.5):
            return False
        if _pending_writes(self.stack) == 0:
            return True
        if not isinstance(self.stack.queue, InProcessJobQueue):
            self.nudges += 1
            enqueue_drain(self.stack.ctx)
        return False


def _enqueue_booking(ctx: AppContext, shipment_id: str) -> None:
    ctx.queue.enqueue(
        JobSpec(
            BOOK_FUNC,
            (shipment_id,),
            job_id=f"book-{shipment_id}",
            queue="booking",
            retry_intervals=(1, 2, 4, 8),
        )
    )


def _pending_writes(stack: Stack) -> int:
    with stack.ctx.db.session() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.status.in_(("pending", "in_flight")))
            )
            or 0
        )


def run_burst(
    stack: Stack, size: int, *, timeout: float, topology: Topology | None = None
) -> dict[str, Any]:
    ctx = stack.ctx
    picking_ids = stack.odoo_box.release_pickings(size)
    intake = IntakeService(
        db=ctx.db,
        odoo=ctx.odoo,
        settings=ctx.settings,
        on_new_intent=lambda sid: _enqueue_booking(ctx, sid),
    )
    shipper = intake.shipper_partner_id  # resolved once at start-up in the service
    finished_when = Finished(stack)
    if topology is None:
        rpc_before = stack.rpc_total()
        started_at = datetime.now(UTC)
        with ResourceMeter() as meter:
            t0 = time.perf_counter()
            poll_result = intake.poll_once()
            poll = {"pages": poll_result.pages, "seen": poll_result.seen}
            finished = wait_until(finished_when, timeout=timeout, interval=0.2)
            wall = time.perf_counter() - t0
        resources = meter.report()
    else:
        env = {**stack.env}
        if shipper:
            env["WAYBILL_ODOO_SHIPPER_PARTNER_ID"] = str(shipper)
        with (
            service_processes() as procs,
            job_workers(
                topology.job_workers,
                stack.job_queues,
                env=topology.worker_env(env),
                processes=procs,
                redis_conn=ctx.redis,
            ),
        ):
            rpc_before = stack.rpc_total()
            started_at = datetime.now(UTC)
            with CpuMeter(procs) as cpu, ResourceMeter() as meter:
                t0 = time.perf_counter()
                ctx.queue.enqueue(JobSpec(POLL_FUNC, job_id=POLL_JOB_ID, queue="intake"))
                finished = wait_until(finished_when, timeout=timeout, interval=0.2)
                wall = time.perf_counter() - t0
            poll = _rq_result(stack, POLL_JOB_ID)
        resources = {**cpu.report(), "benchmark_process": meter.report()}
    rpcs = stack.rpc_total() - rpc_before
    with ctx.db.session() as s:
        states = Counter(
            {
                k: v
                for k, v in s.execute(
                    select(ShipmentRow.state, func.count()).group_by(ShipmentRow.state)
                )
            }
        )
        label_times = [
            (t - started_at).total_seconds()
            for t in s.scalars(select(func.min(LabelRow.created_at)).group_by(LabelRow.shipment_id))
        ]
        odoo_times = [
            (t - started_at).total_seconds()
            for t in s.scalars(
                select(OutboxRow.sent_at).where(
                    OutboxRow.kind == KIND_PICKING_LABELS, OutboxRow.sent_at.is_not(None)
                )
            )
        ]
    booked = states.get(ShipmentState.BOOKED.value, 0)
    return {
        "pickings": len(picking_ids),
        "poll": poll,
        "finished": finished,
        "states": dict(states),
        "wall_seconds": round(wall, 2),
        "picks_per_second": round(booked / wall, 2) if wall else None,
        "odoo_rpcs": rpcs,
        "odoo_rpcs_per_picking": round(rpcs / max(booked, 1), 3),
        "time_to_label_seconds": percentiles(label_times, digits=2),
        "time_to_odoo_label_seconds": percentiles(odoo_times, digits=2),
        "dead_letters": stack.dead_letter_count(),
        "drain_nudges": finished_when.nudges,
        "resources": resources,
    }


def _rq_result(stack: Stack, job_id: str) -> dict[str, Any]:
    """A finished RQ job's return value (the poll's pages and pickings seen)."""
    from rq.job import Job

    try:
        value = Job.fetch(job_id, connection=stack.ctx.redis).return_value()
    except Exception as exc:  # expired or failed: reported, not fatal to the figures
        return {"error": type(exc).__name__}
    return dict(value) if isinstance(value, dict) else {"result": repr(value)}


def run_baseline(stack: Stack, size: int) -> dict[str, Any]:
    """One picking at a time, each fully done before the next: read, rate, buy, write back."""
    ctx = stack.ctx
    picking_ids = stack.odoo_box.release_pickings(size)
    intake = IntakeService(db=ctx.db, odoo=ctx.odoo, settings=ctx.settings)
    _ = intake.shipper_partner_id
    booking = BookingService(
        db=ctx.db, directory=carrier_directory(ctx), policy=DefaultPolicy(), rate_workers=1
    )
    writer = OdooWriter(db=ctx.db, odoo=ctx.odoo)
    rpc_before = stack.rpc_total()
    times: list[float] = []
    booked = 0
    t0 = time.perf_counter()
    for picking_id in picking_ids:
        t = time.perf_counter()
        payload = OdooWebhookPayload.model_validate(
            {"_model": "stock.picking", "_id": picking_id, "_action": "on_write"}
        )
        outcome = intake.reread_and_ingest(payload, channel="baseline")
        if outcome.shipment_id and outcome.status == "created":
            result = booking.book_shipment(outcome.shipment_id)
            booked += result.state == ShipmentState.BOOKED.value
            writer.drain()
        times.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    rpcs = stack.rpc_total() - rpc_before
    return {
        "pickings": len(picking_ids),
        "booked": booked,
        "wall_seconds": round(wall, 2),
        "picks_per_second": round(booked / wall, 2) if wall else None,
        "odoo_rpcs_per_picking": round(rpcs / max(booked, 1), 3),
        "time_per_picking_ms": percentiles(times, scale=1000),
    }


def check_invariants(stack: Stack) -> dict[str, Any]:
    """Every booked picking: one label bought, its tracking number, labels and one message in
    Odoo. Read from the sandboxes' own stores, not through the API under test."""
    with stack.ctx.db.session() as s:
        rows = list(
            s.scalars(
                select(ShipmentRow)
                .options(selectinload(ShipmentRow.parcels))
                .where(ShipmentRow.state == ShipmentState.BOOKED.value)
            )
        )
        expected = {
            int(r.odoo_picking_id or 0): (
                ",".join(p.tracking_number or "" for p in r.parcels),
                len(r.parcels),
                r.reference,
            )
            for r in rows
        }
    pickings = {p["id"]: p for p in stack.odoo_box.records("stock.picking")}
    attachments = Counter(
        a["res_id"]
        for a in stack.odoo_box.records("ir.attachment")
        if a.get("res_model") == "stock.picking"
    )
    booked_messages = Counter(
        m["res_id"]
        for m in stack.odoo_box.records("mail.message")
        if m.get("model") == "stock.picking" and BOOKED_MESSAGE in str(m.get("body") or "")
    )
    purchases = stack.purchases()
    wrong_ref = [
        pid for pid, (ref, _, _) in expected.items() if pickings[pid]["carrier_tracking_ref"] != ref
    ]
    wrong_labels = [pid for pid, (_, n, _) in expected.items() if attachments[pid] != n]
    wrong_messages = [pid for pid in expected if booked_messages[pid] != 1]
    # one label bought per parcel (multi-parcel shipments are bought piece by piece)
    parcels_by_ref = Counter({ref: n for _, (_, n, ref) in expected.items()})
    bought_twice = [ref for ref, n in purchases.items() if n > parcels_by_ref.get(ref, 0)]
    not_bought = [ref for ref, n in parcels_by_ref.items() if purchases[ref] != n]
    return {
        "booked_shipments": len(expected),
        "labels_bought": sum(purchases.values()),
        "parcels": sum(parcels_by_ref.values()),
        "bought_more_than_once": len(bought_twice),
        "booked_without_purchase": len(not_bought),
        "odoo_tracking_ref_mismatch": len(wrong_ref),
        "odoo_label_count_mismatch": len(wrong_labels),
        "odoo_booked_message_mismatch": len(wrong_messages),
        "ok": not (bought_twice or not_bought or wrong_ref or wrong_labels or wrong_messages),
    }


def run(
    size: int = 2000,
    baseline_size: int = 40,
    *,
    workers: int = 24,
    db_kind: str = "postgres",
    redis_url: str = "redis://127.0.0.1:6379/11",
    odoo_latency_ms: float = 20.0,
    carrier_latency_ms: float = 80.0,
    timeout: float = 600.0,
    topology: Topology | None = None,
) -> dict[str, Any]:
    with (
        bench_database(db_kind) as db,
        bench_redis(redis_url) as redis_conn,
        service_stack(
            db,
            redis_conn,
            odoo_latency_ms=odoo_latency_ms,
            carrier_latency_ms=carrier_latency_ms,
            workers=workers,
            topology=topology,
        ) as stack,
    ):
        burst = run_burst(stack, size, timeout=timeout, topology=topology)
        invariants = check_invariants(stack)
        rpc_methods = stack.rpc_by_method()
        baseline = run_baseline(stack, baseline_size) if baseline_size else {}
    return {
        "benchmark": "order_burst",
        "settings": {
            "size": size,
            "baseline_size": baseline_size,
            "workers": workers if topology is None else None,
            "topology": topology.describe()
            if topology
            else {"mode": "in-process", "job_threads": workers},
            "db": db_kind,
            "odoo_latency_ms": odoo_latency_ms,
            "carrier_latency_ms": carrier_latency_ms,
        },
        "burst": burst,
        "baseline_sequential": baseline,
        "speedup_vs_baseline": ratio(
            burst["picks_per_second"] or 0, baseline.get("picks_per_second") or 0
        ),
        "odoo_rpcs_by_method_burst": rpc_methods,
        "invariants": invariants,
        "targets": {"speedup_min": 20, "odoo_rpcs_per_picking_max": 2},
    }


def main(argv: list[str] | None = None) -> None:
    parser = benchmark_parser(__doc__, size=2000, topology=True)
    parser.add_argument("--baseline-size", type=int, default=40)
    parser.add_argument("--workers", type=int, default=24)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    run_and_emit(
        lambda: run(
            args.size,
            args.baseline_size,
            workers=args.workers,
            db_kind=args.db,
            redis_url=args.redis_url,
            timeout=args.timeout,
            topology=topology_from_args(args),
        )
    )


if __name__ == "__main__":
    main()

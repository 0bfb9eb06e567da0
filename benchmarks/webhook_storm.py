"""Peak-season tracking storm: signed webhooks through verify → persist → dedupe → normalize →
project → Odoo write-back.

``python -m benchmarks.webhook_storm [--size 50000] [--duplicates 0.3] [--concurrency 16]
[--api-workers N --job-workers M] [--loadgen-processes P] [--client raw|httpx]``

Bodies are EasyPost ``tracker.updated`` Events as the carrier sandbox builds them — each carries
the tracker with every event so far, as EasyPost does — for booked shipments linked to Odoo
pickings; ``--duplicates`` of the deliveries repeat a body, and the lot is shuffled. A separate
load-generator process posts them over ``--concurrency`` connections.

The baseline is a bare FastAPI endpoint that only answers 200, on the same uvicorn settings,
given the same bodies in the same run. "Odoo consistent" means: every event stored once, every
shipment at the status its events derive, and the outbox empty (milestones posted).

Two topologies (``benchmarks.topology``):

* in-process (default): the API (uvicorn in a thread), the projector and the Odoo writer (the
  in-process job queue, ``--workers`` threads) all in the benchmark's process, one GIL; the bare
  endpoint is served the same way.
* production (``--api-workers N --job-workers M``): the API as ``uvicorn`` with ``N`` worker
  processes (``waybill serve --workers N``'s call), projection and Odoo writes in ``M`` RQ
  worker processes (``waybill worker``) on the real Redis and PostgreSQL, configured by
  ``WAYBILL_*`` variables; the bare endpoint is served by the same launcher with the same ``N``
  uvicorn workers. CPU is reported per role (``api``, ``jobs``) for the storm alone and until
  settled.

The load generator (``benchmarks.loadgen``) signs every body before its timed loop and posts
with a bare HTTP/1.1 client over keep-alive connections; ``--loadgen-processes`` splits it over
several processes so the bare baseline measures the server, not the client.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from app.carriers.sandbox import CarrierSandbox
from app.carriers.sandbox.runner import serve_asgi
from app.core.events import EventLog
from app.core.ids import new_id
from app.main import create_app
from app.models import ShipmentState
from app.store.tables import OutboxRow, ParcelRow, ShipmentRow, TrackingEventRow
from app.sync.booking.jobs import enqueue_drain
from app.sync.tracking.jobs import PROJECTOR_GROUP, enqueue_projection
from app.sync.tracking.state import derive
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
    api_server,
    job_workers,
    service_processes,
    topology_from_args,
)

SCENARIO_CYCLE = ("delivered", "delivered", "weather_delay", "recipient_unavailable", "refused")


def bare_app() -> FastAPI:
    """The floor: the same route shape, no work at all."""
    app = FastAPI()

    @app.post("/v1/webhooks/{source}")
    async def accept(source: str) -> JSONResponse:
        return JSONResponse({"status": "accepted", "events": 0})

    return app


def build_bodies(
    size: int, duplicates: float, seed: int
) -> tuple[list[str], dict[str, list[str]], int]:
    """``size`` deliveries: unique Event bodies, then repeats, shuffled.

    Returns the deliveries, the unique bodies per tracking number (in the order they happened)
    and the number of distinct tracking events.
    """
    unique_target = max(1, round(size * (1 - duplicates)))
    box = CarrierSandbox(seed=seed)  # never served: it only writes the bodies
    per_number: dict[str, list[str]] = {}
    unique: list[str] = []
    events = 0
    index = 0
    while len(unique) < unique_target:
        number = f"9400{seed:02d}{index:016d}"
        scenario = SCENARIO_CYCLE[index % len(SCENARIO_CYCLE)]
        index += 1
        box.push_tracking(number, scenario)  # plays the scenario silently (no webhook URL)
        tracker = box.trackers[number]
        steps = len(tracker["tracking_details"])
        bodies = [
            json.dumps(box._event(dict(tracker, tracking_details=tracker["tracking_details"][:k])))
            for k in range(1, steps + 1)
        ][: unique_target - len(unique)]
        per_number[number] = bodies
        unique.extend(bodies)
        events += len(bodies)
    rng = random.Random(seed)
    deliveries = unique + [rng.choice(unique) for _ in range(size - len(unique))]
    rng.shuffle(deliveries)
    return deliveries, per_number, events


def seed_shipments(stack: Stack, numbers: list[str]) -> dict[str, str]:
    """Booked shipments for the tracking numbers, each on its own ready Odoo picking."""
    pickings = stack.odoo_box.release_pickings(len(numbers))
    account = stack.accounts[0]
    by_number: dict[str, str] = {}
    with stack.ctx.db.session() as session:
        for number, picking_id in zip(numbers, pickings, strict=True):
            shipment_id = new_id("shp")
            by_number[number] = shipment_id
            session.add(
                ShipmentRow(
                    id=shipment_id,
                    source="bench",
                    source_ref=f"stock.picking:{picking_id}",
                    revision=1,
                    reference=f"BENCH-{picking_id}",
                    odoo_picking_id=picking_id,
                    state=ShipmentState.BOOKED.value,
                    carrier="usps",
                    carrier_account=account.id,
                    service="Priority",
                    source_snapshot={},
                    correlation_id=new_id("cid"),
                    parcels=[ParcelRow(index=0, weight_kg=1, tracking_number=number)],
                )
            )
    return by_number


@contextmanager
def bodies_file(deliveries: list[str]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="waybill-storm-") as tmp:
        path = Path(tmp) / "bodies.jsonl"
        path.write_text("\n".join(deliveries) + "\n", "utf-8")
        yield path


def drive(
    url: str,
    bodies: Path,
    secret: str,
    concurrency: int,
    *,
    processes: int = 1,
    client: str = "raw",
) -> dict[str, Any]:
    """Run the load generator process against ``url``; its figures come back as JSON."""
    out = bodies.with_suffix(f".{abs(hash(url))}.json")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.loadgen",
            "--url",
            url,
            "--bodies",
            str(bodies),
            "--secret",
            secret,
            "--out",
            str(out),
            "--concurrency",
            str(concurrency),
            "--processes",
            str(processes),
            "--client",
            client,
        ],
        check=True,
        timeout=900,
    )
    result: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return result


def _projection_lag(stack: Stack) -> int:
    """Stream entries the projector group has not acked yet (unread + pending)."""
    log = EventLog(stack.ctx.redis)
    try:
        groups = stack.ctx.redis.xinfo_groups(log.stream)
    except redis.ResponseError:  # no stream yet: nothing published, nothing to wait for
        return 0
    for group in groups:
        if _text(group.get("name")) == PROJECTOR_GROUP:
            return int(group.get("lag") or 0) + int(group.get("pending") or 0)
    return 0


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Settled:
    """The storm is settled when the jobs, the projector's stream lag and the outbox are all
    idle. Entries left in the stream while the queue is idle are what the periodic scheduler
    would pick up: the wait nudges a projection as it does, and counts the nudges — a non-zero
    count means a webhook's own projection trigger was lost."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.nudges = 0
        self.drain_nudges = 0

    def __call__(self) -> bool:
        if not self.stack.join(timeout=0.5):
            return False
        if _projection_lag(self.stack):
            self.nudges += 1
            enqueue_projection(self.stack.ctx)
            return False
        if _pending_writes(self.stack) == 0:
            return True
        # Writes left while no job runs: with RQ, a drain requested while another held the
        # drain lock was skipped; the scheduler's next cycle drains them. Never needed in-process
        # (its queue re-runs a drain requested during a run).
        self.drain_nudges += 1
        enqueue_drain(self.stack.ctx)
        return False


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


def consistency(
    stack: Stack, per_number: dict[str, list[str]], by_number: dict[str, str], events: int
) -> dict[str, Any]:
    """Compare the store with what the events say, and the outbox with Odoo."""
    adapter = stack.ctx.extras["carrier_directory"].adapter(stack.accounts[0].id)
    expected = {
        by_number[n]: derive(adapter.parse_webhook({}, bodies[-1].encode())).status.value
        for n, bodies in per_number.items()
    }
    with stack.ctx.db.session() as s:
        stored = int(s.scalar(select(func.count()).select_from(TrackingEventRow)) or 0)
        actual = dict(
            s.execute(
                select(ShipmentRow.id, ShipmentRow.tracking_status).where(
                    ShipmentRow.id.in_(list(expected))
                )
            ).all()
        )
        outbox = {
            k: v
            for k, v in s.execute(
                select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
            ).all()
        }
    wrong = sum(1 for sid, status in expected.items() if actual.get(sid) != status)
    with_milestone = Counter(
        m["res_id"]
        for m in stack.odoo_box.records("mail.message")
        if m.get("model") == "stock.picking" and "Waybill ref shp_" in str(m.get("body") or "")
    )
    return {
        "distinct_events": events,
        "events_stored": stored,
        "shipments": len(expected),
        "status_mismatch": wrong,
        "outbox": outbox,
        "pickings_with_milestones": len(with_milestone),
        "ok": stored == events and wrong == 0 and not outbox.get("pending"),
    }


def run(
    size: int = 50_000,
    duplicates: float = 0.3,
    *,
    concurrency: int = 16,
    workers: int = 8,
    db_kind: str = "postgres",
    redis_url: str = "redis://127.0.0.1:6379/11",
    odoo_latency_ms: float = 20.0,
    seed: int = 5,
    timeout: float = 900.0,
    topology: Topology | None = None,
    loadgen_processes: int = 1,
    client: str = "raw",
) -> dict[str, Any]:
    deliveries, per_number, events = build_bodies(size, duplicates, seed)
    load = {"processes": loadgen_processes, "client": client}
    with (
        bench_database(db_kind) as db,
        bench_redis(redis_url) as redis_conn,
        service_stack(
            db, redis_conn, odoo_latency_ms=0, workers=workers, topology=topology
        ) as stack,
        bodies_file(deliveries) as path,
    ):
        by_number = seed_shipments(stack, list(per_number))  # pickings released at no latency
        stack.odoo_box.latency_ms = odoo_latency_ms
        if topology is None:
            measured = _storm_in_process(stack, path, concurrency, load, timeout)
        else:
            measured = _storm_processes(stack, topology, path, concurrency, load, timeout)
        bare, storm, settled, consistent, to_consistent, rpcs, resources = measured
        check = consistency(stack, per_number, by_number, events)
        rpc_methods = stack.rpc_by_method()
    accepted = storm["codes"].get("200", 0)
    storm_rate = accepted / storm["wall_seconds"]
    bare_rate = bare["codes"].get("200", 0) / bare["wall_seconds"]
    return {
        "benchmark": "webhook_storm",
        "settings": {
            "deliveries": len(deliveries),
            "duplicate_share": duplicates,
            "unique_bodies": sum(len(b) for b in per_number.values()),
            "shipments": len(per_number),
            "concurrency": concurrency,
            "topology": topology.describe()
            if topology
            else {"mode": "in-process", "job_threads": workers},
            "workers": workers if topology is None else None,
            "loadgen": load,
            "db": db_kind,
            "odoo_latency_ms": odoo_latency_ms,
        },
        "storm": {
            "codes": storm["codes"],
            "wall_seconds": round(storm["wall_seconds"], 2),
            "events_per_second_accepted": round(storm_rate, 1),
            "ack_latency_ms": percentiles(storm["latencies"], scale=1000),
            "seconds_until_odoo_consistent": round(to_consistent, 2) if consistent else None,
            "projection_nudges": settled.nudges,
            "drain_nudges": settled.drain_nudges,
            "odoo_rpcs": rpcs,
            "odoo_rpcs_per_event": round(rpcs / len(deliveries), 4),
            "resources": resources,
        },
        "baseline_bare_endpoint": {
            "codes": bare["codes"],
            "wall_seconds": round(bare["wall_seconds"], 2),
            "events_per_second": round(bare_rate, 1),
            "ack_latency_ms": percentiles(bare["latencies"], scale=1000),
            **({"resources": bare["resources"]} if "resources" in bare else {}),
        },
        "throughput_vs_bare": ratio(storm_rate, bare_rate),
        "odoo_rpcs_by_method": rpc_methods,
        "consistency": check,
        "targets": {
            "events_per_second_min": 1500,
            "ack_p99_ms_max": 50,
            "throughput_vs_bare_min": 0.4,
            "odoo_rpcs_per_event_max": 0.1,
        },
    }


Measured = tuple[dict[str, Any], dict[str, Any], "Settled", bool, float, int, dict[str, Any]]


def _storm_in_process(
    stack: Stack, path: Path, concurrency: int, load: dict[str, Any], timeout: float
) -> Measured:
    """The service in this process: uvicorn in a thread, the in-process job queue."""
    secret = stack.webhook_secret
    with serve_asgi(bare_app()) as bare_url:
        bare = drive(f"{bare_url}/v1/webhooks/easypost", path, secret, concurrency, **load)
    rpc_before = stack.rpc_total()
    with serve_asgi(create_app(stack.ctx)) as base_url, ResourceMeter() as meter:
        storm = drive(f"{base_url}/v1/webhooks/easypost", path, secret, concurrency, **load)
        t_end = time.perf_counter()
        settled = Settled(stack)
        consistent = wait_until(settled, timeout=timeout, interval=0.2)
        to_consistent = time.perf_counter() - t_end
    rpcs = stack.rpc_total() - rpc_before
    return bare, storm, settled, consistent, to_consistent, rpcs, meter.report()


def _storm_processes(
    stack: Stack,
    topology: Topology,
    path: Path,
    concurrency: int,
    load: dict[str, Any],
    timeout: float,
) -> Measured:
    """The service as deployed: uvicorn worker processes for the API, RQ workers for the
    projection and the Odoo writes. The bare endpoint gets the same number of uvicorn workers."""
    secret = stack.webhook_secret
    api = topology.api_workers
    with service_processes() as procs:
        with (
            api_server(
                "benchmarks.webhook_storm:bare_app",
                workers=api,
                env=stack.env,
                processes=procs,
                role="baseline_api",
            ) as bare_url,
            CpuMeter(procs) as bare_cpu,
        ):
            bare = drive(f"{bare_url}/v1/webhooks/easypost", path, secret, concurrency, **load)
        bare["resources"] = bare_cpu.report()
        with (
            job_workers(
                topology.job_workers,
                stack.job_queues,
                env=topology.worker_env(stack.env),
                processes=procs,
                redis_conn=stack.ctx.redis,
            ),
            api_server("app.main:app", workers=api, env=stack.env, processes=procs) as base_url,
        ):
            rpc_before = stack.rpc_total()
            with CpuMeter(procs) as until_settled, ResourceMeter() as meter:
                with CpuMeter(procs) as during_storm:
                    storm = drive(
                        f"{base_url}/v1/webhooks/easypost", path, secret, concurrency, **load
                    )
                t_end = time.perf_counter()
                settled = Settled(stack)
                consistent = wait_until(settled, timeout=timeout, interval=0.2)
                to_consistent = time.perf_counter() - t_end
            rpcs = stack.rpc_total() - rpc_before
    resources = {
        "during_storm": during_storm.report(),
        "until_settled": until_settled.report(),
        "benchmark_process": meter.report(),
    }
    return bare, storm, settled, consistent, to_consistent, rpcs, resources


def main(argv: list[str] | None = None) -> None:
    parser = benchmark_parser(__doc__, size=50_000, topology=True)
    parser.add_argument("--duplicates", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--loadgen-processes", type=int, default=1)
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    args = parser.parse_args(argv)
    run_and_emit(
        lambda: run(
            args.size,
            args.duplicates,
            concurrency=args.concurrency,
            workers=args.workers,
            db_kind=args.db,
            redis_url=args.redis_url,
            timeout=args.timeout,
            topology=topology_from_args(args),
            loadgen_processes=args.loadgen_processes,
            client=args.client,
        )
    )


if __name__ == "__main__":
    main()

"""End-of-day manifesting: close out the day's labelled shipments across carrier accounts.

``python -m benchmarks.end_of_day [--size 5000] [--carriers 4] [--baseline-size 200]``

The day's shipments are seeded as booked and labelled (booking itself is ``order_burst``'s
subject) across ``--carriers`` accounts; ``ManifestService.close_day`` then groups them per
account, closes each group once and posts one manifest document per account to Odoo (20 ms per
RPC). The baseline closes shipments one at a time — one manifest and one Odoo RPC per shipment,
what a per-picking connector does — on ``--baseline-size`` shipments of a later day.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.core.ids import new_id
from app.models import ShipmentState
from app.store.tables import LabelRow, ParcelRow, ShipmentRow
from app.sync.manifest.service import ManifestService
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
)


def seed_day(stack: Stack, size: int, day: date) -> dict[str, int]:
    """``size`` booked shipments labelled on ``day``, spread over every account (1–3 parcels)."""
    carriers = [int(c["id"]) for c in stack.odoo_box.records("delivery.carrier")]
    labelled_at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    per_account: Counter[str] = Counter()
    with stack.ctx.db.session() as session:
        for i in range(size):
            account = stack.accounts[i % len(stack.accounts)]
            per_account[account.id] += 1
            shipment_id = new_id("shp")
            pieces = 1 + i % 3
            numbers = [f"94{day:%m%d}{i:010d}{k}" for k in range(pieces)]
            session.add(
                ShipmentRow(
                    id=shipment_id,
                    source="bench",
                    source_ref=f"eod:{day.isoformat()}:{i}",
                    revision=1,
                    reference=f"WH/OUT/{i:05d}",
                    odoo_carrier_id=carriers[i % len(carriers)],
                    state=ShipmentState.BOOKED.value,
                    carrier="usps",
                    carrier_account=account.id,
                    service="Priority",
                    source_snapshot={},
                    correlation_id=new_id("cid"),
                    parcels=[
                        ParcelRow(index=k, weight_kg=1, tracking_number=n)
                        for k, n in enumerate(numbers)
                    ],
                    labels=[
                        LabelRow(
                            parcel_index=k,
                            tracking_number=n,
                            format="pdf",
                            data=b"%PDF-1.4 label",
                            created_at=labelled_at,
                        )
                        for k, n in enumerate(numbers)
                    ],
                )
            )
    return dict(per_account)


def run(
    size: int = 5000,
    carriers: int = 4,
    baseline_size: int = 200,
    *,
    db_kind: str = "postgres",
    redis_url: str = "redis://127.0.0.1:6379/11",
    odoo_latency_ms: float = 20.0,
) -> dict[str, Any]:
    day = datetime.now(UTC).date() - timedelta(days=1)
    with (
        bench_database(db_kind) as db,
        bench_redis(redis_url) as redis_conn,
        service_stack(db, redis_conn, odoo_latency_ms=0, carriers=carriers) as stack,
    ):
        per_account = seed_day(stack, size, day)
        stack.odoo_box.latency_ms = odoo_latency_ms
        service = ManifestService(
            db=db, directory=stack.ctx.extras["carrier_directory"], odoo=stack.ctx.odoo
        )
        rpc_before = stack.rpc_total()
        with ResourceMeter() as meter:
            t0 = time.perf_counter()
            records = service.close_day(day)
            wall = time.perf_counter() - t0
        rpcs = stack.rpc_total() - rpc_before
        again = service.close_day(day)  # a re-run lists nothing twice
        listed = Counter(s for r in records for s in r.shipment_ids)
        attachments = [
            a for a in stack.odoo_box.records("ir.attachment") if "Manifest-" in str(a["name"])
        ]

        baseline_day = day - timedelta(days=1)
        seed_day(stack, baseline_size, baseline_day)
        open_groups = service.open_shipments(baseline_day)
        times: list[float] = []
        b0 = time.perf_counter()
        for account, group in open_groups.items():
            for shipment in group:
                t = time.perf_counter()
                service.close_group(account, baseline_day, [shipment])
                times.append(time.perf_counter() - t)
        baseline_wall = time.perf_counter() - b0
    rate = size / wall if wall else 0.0
    baseline_rate = len(times) / baseline_wall if baseline_wall else 0.0
    return {
        "benchmark": "end_of_day",
        "settings": {
            "size": size,
            "carriers": carriers,
            "baseline_size": baseline_size,
            "db": db_kind,
            "odoo_latency_ms": odoo_latency_ms,
        },
        "close_out": {
            "wall_seconds": round(wall, 2),
            "shipments_per_second": round(rate, 1),
            "manifests": [r.to_body() for r in records],
            "odoo_rpcs": rpcs,
            "resources": meter.report(),
        },
        "baseline_per_shipment": {
            "shipments": len(times),
            "wall_seconds": round(baseline_wall, 2),
            "shipments_per_second": round(baseline_rate, 1),
            "time_per_shipment_ms": percentiles(times, scale=1000),
        },
        "speedup_vs_baseline": ratio(rate, baseline_rate),
        "invariants": {
            "seeded_per_account": per_account,
            "listed_once": all(n == 1 for n in listed.values()) and len(listed) == size,
            "rerun_manifests": len(again),
            "odoo_manifest_attachments": len(attachments),
            "ok": len(listed) == size
            and all(n == 1 for n in listed.values())
            and not again
            and len(attachments) == len(records) == carriers,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = benchmark_parser(__doc__, size=5000)
    parser.add_argument("--carriers", type=int, default=4)
    parser.add_argument("--baseline-size", type=int, default=200)
    args = parser.parse_args(argv)
    run_and_emit(
        lambda: run(
            args.size,
            args.carriers,
            args.baseline_size,
            db_kind=args.db,
            redis_url=args.redis_url,
        )
    )


if __name__ == "__main__":
    main()

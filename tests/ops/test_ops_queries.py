"""The page's data on both databases, Redis circuits and both queue backends."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import fakeredis
import pytest
import redis as redis_lib
from ops_support import make_ctx

from app.carriers.accounts import CarrierAccount
from app.core.breaker import CircuitBreaker
from app.core.db import Database
from app.core.queue import JobSpec, RQJobQueue
from app.ops import queries
from app.ops.charts import exceptions_chart, format_seconds, latency_chart
from app.store.tables import LabelRow, ShipmentRow, TrackingEventRow

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _shipment(i: int, created: datetime) -> ShipmentRow:
    return ShipmentRow(
        id=f"shp_{i:04d}",
        source="odoo:test",
        source_ref=f"stock.picking:{i}",
        reference=f"WH/OUT/{i:05d}",
        state="labelled",
        correlation_id=f"wb-{i}",
        created_at=created,
        updated_at=created,
    )


def _label(shipment_id: str, parcel: int, created: datetime) -> LabelRow:
    return LabelRow(
        shipment_id=shipment_id,
        parcel_index=parcel,
        tracking_number=f"1Z{shipment_id}{parcel}",
        format="PDF",
        data=b"%PDF-1.4",
        created_at=created,
    )


def _event(
    i: int, occurred: datetime, received: datetime, category: str | None
) -> TrackingEventRow:
    return TrackingEventRow(
        dedupe_key=f"evt-{i}",
        carrier="ups",
        tracking_number=f"1Z{i}",
        occurred_at=occurred,
        received_at=received,
        status="exception" if category else "in_transit",
        exception_category=category,
    )


def test_percentile_is_nearest_rank() -> None:
    assert queries.percentile([], 0.5) is None
    assert queries.percentile([7.0], 0.9) == 7.0
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert queries.percentile(values, 0.5) == 5.0
    assert queries.percentile(values, 0.9) == 9.0
    assert queries.percentile(list(reversed(values)), 0.9) == 9.0


def test_sla_latencies_and_exception_counts_over_the_last_day(db: Database) -> None:
    ctx = make_ctx(db)
    try:
        with db.session() as session:
            # Ten shipments labelled 10, 20, ... 100 s after creation, within the window.
            for i in range(10):
                created = NOW - timedelta(hours=2, seconds=i)
                session.add(_shipment(i, created))
                session.flush()
                session.add(_label(f"shp_{i:04d}", 0, created + timedelta(seconds=10 * (i + 1))))
                # a second parcel's label later must not count: the first label is the SLA
                session.add(_label(f"shp_{i:04d}", 1, created + timedelta(hours=1)))
            # Labelled two days ago: outside the window.
            old = NOW - timedelta(days=2)
            session.add(_shipment(99, old))
            session.flush()
            session.add(_label("shp_0099", 0, old + timedelta(seconds=5)))
            # Events: lags of 60..600 s; some exceptions; one old; one from a fast clock.
            categories = ["address", "address", "damaged", None, None, None, None, None, None]
            for i, category in enumerate(categories):
                received = NOW - timedelta(minutes=30 + i)
                session.add(_event(i, received - timedelta(seconds=60 * (i + 1)), received,
                                   category))  # fmt: skip
            session.add(_event(50, NOW - timedelta(days=3), NOW - timedelta(days=2), "customs"))
            received = NOW - timedelta(minutes=5)
            session.add(_event(51, received + timedelta(minutes=2), received, "address"))

        label = queries.label_latency(ctx, NOW)
        assert (label.samples, label.p50, label.p90) == (10, 50.0, 90.0)

        tracking = queries.tracking_latency(ctx, NOW)
        assert tracking.samples == 10  # 9 + the fast clock, not the old one
        assert tracking.p50 == 240.0  # [0, 60, 120, ..., 540]: 5th of 10
        assert tracking.p90 == 480.0

        panel = queries.exceptions_by_category(ctx, NOW)
        assert [(c.category, c.count) for c in panel.categories] == [
            ("address", 3),
            ("damaged", 1),
        ]
        assert panel.events_total == 10 and panel.exceptions_total == 4
    finally:
        ctx.queue.close()


def test_an_empty_store_gives_empty_panels(db: Database) -> None:
    ctx = make_ctx(db)
    try:
        snapshot = queries.collect(ctx, NOW)
        assert snapshot.sla.data[0].samples == 0 and snapshot.sla.data[0].p50 is None
        assert snapshot.exceptions.data.categories == []
        assert snapshot.dead_letters.data == [] and snapshot.dead_letters_total == 0
        assert "no samples" in latency_chart(snapshot.sla.data[0], chart_id="c")
    finally:
        ctx.queue.close()


def test_carrier_health_reads_every_circuit_in_redis(sqlite_db: Database) -> None:
    ctx = make_ctx(sqlite_db)
    try:
        conn = ctx.redis
        down = CircuitBreaker(conn, "ups-main", failure_threshold=2)
        down.record_failure()
        down.record_failure()
        CircuitBreaker(conn, "dhl:express").record_failure()  # one failure, still closed
        probing = CircuitBreaker(conn, "fedex-eu")
        probing.record_failure()
        conn.set("waybill:cb:fedex-eu:open", str(time.time() - 120))  # past its cooldown
        rows = {r.account: r for r in queries.carrier_health(ctx)}
        assert rows["ups-main"].state == "open" and rows["ups-main"].opened_at is not None
        assert rows["fedex-eu"].state == "half_open"
        assert rows["dhl:express"].state == "closed" and rows["dhl:express"].recent_failures == 1
        assert queries.carrier_health(ctx)[0].account == "ups-main"  # open first
    finally:
        ctx.queue.close()


def test_configured_accounts_show_as_closed_without_any_circuit_state(
    sqlite_db: Database,
) -> None:
    ctx = make_ctx(sqlite_db)

    directory = SimpleNamespace(accounts={"ups-main": CarrierAccount(id="ups-main", carrier="UPS")})
    ctx.extras["carrier_directory"] = directory
    try:
        rows = queries.carrier_health(ctx)
        assert [(r.account, r.carrier, r.state) for r in rows] == [("ups-main", "ups", "closed")]
    finally:
        ctx.queue.close()


def test_in_process_queue_depth_and_dead_letters_newest_first(sqlite_db: Database) -> None:
    from ops_support import dead_letter

    ctx = make_ctx(sqlite_db)
    try:
        dead_letter(ctx, "first")
        dead_letter(ctx, "second")
        panel = queries.queue_panel(ctx)
        assert panel.backend == "in_process" and panel.workers is None
        assert [(q.name, q.queued) for q in panel.queues] == [("in_process", 0)]
        letters = queries.dead_letter_list(ctx)
        assert [d.args for d in letters] == [["second"], ["first"]]
        assert "customs data missing" in letters[0].reason
    finally:
        ctx.queue.close()


def test_rq_queue_depths_come_from_redis(sqlite_db: Database, redis_conn: redis_lib.Redis) -> None:
    ctx = make_ctx(sqlite_db)
    ctx.queue.close()
    ctx.queue = RQJobQueue(redis_conn)
    ctx.redis = redis_conn
    for tag in ("a", "b", "c"):
        ctx.queue.enqueue(JobSpec("ops_jobs.fail_first", (tag,), queue="booking"))
    panel = queries.queue_panel(ctx)
    depth = {q.name: q for q in panel.queues}
    assert panel.backend == "rq" and panel.workers == 0
    assert depth["booking"].queued == 3 and depth["default"].queued == 0
    assert depth["booking"].failed == 0 and depth["booking"].started == 0


def test_one_broken_dependency_leaves_the_other_panels(sqlite_db: Database) -> None:
    ctx = make_ctx(sqlite_db)
    server = fakeredis.FakeServer()
    server.connected = False  # Redis down
    ctx.redis = fakeredis.FakeRedis(server=server)
    try:
        snapshot = queries.collect(ctx, NOW)
        assert snapshot.carriers.error == "ConnectionError" and snapshot.carriers.data is None
        assert snapshot.queues.error is None  # in-process queue: no Redis involved
        assert snapshot.exceptions.error is None and snapshot.sla.error is None
    finally:
        ctx.queue.close()


def test_charts_escape_labels_and_scale_bars() -> None:
    from app.ops.queries import CategoryCount

    svg = exceptions_chart(
        [CategoryCount("<script>x</script>", 10), CategoryCount("lost", 5)], chart_id="c"
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<rect") == 2
    assert 'width="280.0"' in svg and 'width="140.0"' in svg  # 10 → full width, 5 → half


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "–"), (4.21, "4.2 s"), (90, "1.5 min"), (5400, "1.5 h"), (3 * 86400, "3.0 d")],
)
def test_durations_read_naturally(seconds: float | None, text: str) -> None:
    assert format_seconds(seconds) == text

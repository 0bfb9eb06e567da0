"""Tracking end to end: signed webhooks → inbox → event log (real Redis) → states → Odoo."""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from track_env import TrackEnv, wait_until

from app.core.events import Entry, EventLog
from app.models import ExceptionCategory, TrackingEvent, TrackingStatus
from app.store.tables import ParcelRow, ShipmentRow, TrackingEventRow, WebhookInboxRow
from app.sync.tracking.ingest import event_payload
from app.sync.tracking.jobs import build_projector
from app.sync.tracking.state import derive

pytestmark = pytest.mark.redis


def event_sla_count() -> float:
    name = "waybill_sla_carrier_event_to_odoo_seconds_count"
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        for sample in metric.samples
        if sample.name == name
    )


def count(tenv: TrackEnv, table: type, *where: Any) -> int:
    with tenv.ctx.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def status_of(tenv: TrackEnv, shipment_id: str) -> str | None:
    with tenv.ctx.db.session() as s:
        row = s.get(ShipmentRow, shipment_id)
        return row.tracking_status if row else None


@contextmanager
def silent_carrier(tenv: TrackEnv) -> Iterator[None]:
    """Let the carrier sandbox move a parcel along without pushing webhooks itself."""
    url, tenv.carrier_box.webhook_url = tenv.carrier_box.webhook_url, None
    try:
        yield
    finally:
        tenv.carrier_box.webhook_url = url


def tracker_event(tenv: TrackEnv, number: str) -> bytes:
    with silent_carrier(tenv):
        tenv.carrier_box.advance(number, 1)
    tracker = tenv.carrier_box.trackers[number]
    return json.dumps(tenv.carrier_box._event(tracker)).encode()


def post(
    tenv: TrackEnv, body: bytes, *, signature: str | None = None, source: str = "easypost"
) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "X-Hmac-Signature": signature or tenv.carrier_box.sign(body),
    }
    return httpx.post(
        f"{tenv.base_url}/v1/webhooks/{source}", content=body, headers=headers, timeout=10
    )


def test_same_webhook_three_times_concurrently_is_stored_once(tenv: TrackEnv) -> None:
    shipment_id, picking_id, number = tenv.booked_shipment()
    body = tracker_event(tenv, number)
    results: list[int] = []
    barrier = threading.Barrier(3)

    def send() -> None:
        barrier.wait()
        results.append(post(tenv, body).status_code)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200, 200, 200]
    assert count(tenv, WebhookInboxRow) == 1
    wait_until(lambda: status_of(tenv, shipment_id) is not None)
    assert tenv.ctx.queue.join()
    tenv.writer.drain()
    bodies = [
        str(m["body"])
        for m in tenv.ctx.odoo.search_read(
            "mail.message",
            [("model", "=", "stock.picking"), ("res_id", "=", picking_id)],
            ["body"],
        )
    ]
    assert sum("<small>Tracking" in b for b in bodies) == 1  # one post, however many steps


def test_a_batch_stores_each_body_once_and_publishes_only_new_events(tenv: TrackEnv) -> None:
    """Group commit: one transaction for bodies that arrived together. A body twice in the
    batch and a body stored earlier are answered "duplicate"; neither adds a row nor an event."""
    from app.sync.tracking.jobs import store_webhooks, tracking_ingest

    _, _, number = tenv.booked_shipment()
    bodies = [tracker_event(tenv, number) for _ in range(3)]
    ingest = tracking_ingest(tenv.ctx)

    def checked(body: bytes) -> Any:
        return ingest.check("easypost", {"X-Hmac-Signature": tenv.carrier_box.sign(body)}, body)

    earlier = store_webhooks(tenv.ctx, [checked(bodies[0])])
    log_before = tenv.ctx.redis.xlen(EventLog(tenv.ctx.redis).stream)

    received = store_webhooks(
        tenv.ctx, [checked(b) for b in (bodies[1], bodies[0], bodies[2], bodies[1])]
    )

    assert not earlier[0].duplicate
    assert [r.duplicate for r in received] == [False, True, False, True]
    assert (
        received[0].inbox_id
        and received[2].inbox_id
        and received[0].inbox_id != received[2].inbox_id
    )
    assert count(tenv, WebhookInboxRow) == 3
    with tenv.ctx.db.session() as s:
        assert set(s.scalars(select(WebhookInboxRow.status))) == {"published"}
    new_events = received[0].events + received[2].events
    assert tenv.ctx.redis.xlen(EventLog(tenv.ctx.redis).stream) - log_before == new_events


def test_concurrent_webhooks_are_all_acknowledged_and_stored(tenv: TrackEnv) -> None:
    _, _, number = tenv.booked_shipment()
    bodies = [tracker_event(tenv, number) for _ in range(12)]
    barrier = threading.Barrier(len(bodies))
    answers: list[tuple[int, str]] = []

    def send(body: bytes) -> None:
        barrier.wait()
        response = post(tenv, body)
        answers.append((response.status_code, response.json()["status"]))

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [(200, "accepted")] * len(bodies)
    assert count(tenv, WebhookInboxRow) == len(bodies)


def test_events_known_before_a_batch_cost_no_transaction(
    tenv: TrackEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole-history webhook repeats stored events: the projector reads which ones in one
    query per batch and answers those without opening a transaction each."""
    _, _, number = tenv.booked_shipment()
    event = TrackingEvent(
        carrier="easypost",
        tracking_number=number,
        occurred_at=datetime.now(UTC),
        status=TrackingStatus.IN_TRANSIT,
        raw_description="Arrived at facility",
    )
    data = event_payload(event, source="test", inbox_id=None)
    assert build_projector(tenv.ctx).project(data)

    projector = build_projector(tenv.ctx)
    entries = [Entry(id=f"1-{n}", type="tracking.event", data=data) for n in range(3)]
    projector.prepare(entries)

    def no_session() -> Any:
        raise AssertionError("a known event opened a transaction")

    monkeypatch.setattr(projector.db, "session", no_session)
    assert [projector.project(e.data) for e in entries] == [False, False, False]


@pytest.mark.parametrize(
    ("body", "signature", "status", "code"),
    [
        (b'{"object": "Event"}', "hmac-sha256-hex=" + "0" * 64, 401, "webhook_signature_invalid"),
        (b"{not json", None, 400, "webhook_payload_invalid"),
    ],
)
def test_forged_and_garbage_bodies(
    tenv: TrackEnv, body: bytes, signature: str | None, status: int, code: str
) -> None:
    response = post(tenv, body, signature=signature)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert count(tenv, WebhookInboxRow) == 0


def test_a_full_intake_queue_answers_503_with_retry_after(
    tenv: TrackEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shed, not lost: nothing is stored and the carrier is told when to come back."""
    from app.core.group_commit import GroupCommit, GroupCommitFull

    _, _, number = tenv.booked_shipment()
    body = tracker_event(tenv, number)

    async def full(self: object, item: object) -> object:
        raise GroupCommitFull("64 MiB already wait")

    monkeypatch.setattr(GroupCommit, "submit", full)
    response = post(tenv, body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "intake_busy"
    assert count(tenv, WebhookInboxRow) == 0


def test_ten_megabyte_body_is_refused(tenv: TrackEnv) -> None:
    body = b'{"x": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = post(tenv, body, signature="hmac-sha256-hex=00")
    assert response.status_code == 413
    assert count(tenv, WebhookInboxRow) == 0


@pytest.mark.parametrize("source", ["nosuchcarrier", "Not-A-Source", "x" * 33])
def test_unknown_source_is_404(tenv: TrackEnv, source: str) -> None:
    response = post(tenv, b"{}", source=source)
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_webhook_source"


def test_a_lost_projection_trigger_still_acknowledges_and_projects_later(
    tenv: TrackEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis answering the event log but not the job queue (a failover between the two calls):
    the body is stored, so the carrier gets its 200 and no redelivery; the scheduler's
    periodic projection (run here by hand) reads the events from the log."""
    import redis as redis_lib

    from app.sync.tracking.jobs import enqueue_projection

    shipment_id, _, number = tenv.booked_shipment()
    body = tracker_event(tenv, number)

    def queue_down(*_args: Any, **_kwargs: Any) -> None:
        raise redis_lib.ConnectionError("queue unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(tenv.ctx.queue, "enqueue", queue_down)
        response = post(tenv, body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    assert count(tenv, WebhookInboxRow) == 1
    assert status_of(tenv, shipment_id) is None  # nothing projected yet
    enqueue_projection(tenv.ctx)
    wait_until(lambda: status_of(tenv, shipment_id) is not None)


def test_a_webhook_while_the_event_log_is_down_is_kept_and_republished(
    tenv: TrackEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body is stored as pending (acknowledged: it is ours now), then published and
    projected once the log answers again."""
    import redis as redis_lib

    from app.sync.tracking.jobs import build_ingest, enqueue_projection

    shipment_id, _, number = tenv.booked_shipment()
    body = tracker_event(tenv, number)

    def log_down(*_args: Any, **_kwargs: Any) -> list[str]:
        raise redis_lib.ConnectionError("event log unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(EventLog, "publish_many", log_down)
        response = post(tenv, body)
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    with tenv.ctx.db.session() as s:
        row = s.scalars(select(WebhookInboxRow)).one()
        assert (row.status, row.processed_at) == ("pending", None)
    assert build_ingest(tenv.ctx).republish_pending() == 1
    with tenv.ctx.db.session() as s:
        row = s.scalars(select(WebhookInboxRow)).one()
        assert row.status == "published" and row.processed_at is not None
    enqueue_projection(tenv.ctx)
    wait_until(lambda: status_of(tenv, shipment_id) is not None)


def test_whole_life_with_an_exception_reaches_odoo_in_order(tenv: TrackEnv) -> None:
    shipment_id, picking_id, number = tenv.booked_shipment()
    posted_before = event_sla_count()
    deliveries = tenv.carrier_box.push_tracking(number, "weather_delay")
    assert all(d.status_code == 200 for d in deliveries)
    wait_until(lambda: status_of(tenv, shipment_id) == TrackingStatus.DELIVERED.value)
    assert tenv.ctx.queue.join()
    tenv.writer.drain()
    # one carrier-event → Odoo service-level sample per milestone message that reached Odoo
    assert event_sla_count() > posted_before
    odoo = tenv.ctx.odoo
    bodies = [
        str(m["body"])
        for m in odoo.search_read(
            "mail.message",
            [("model", "=", "stock.picking"), ("res_id", "=", picking_id)],
            ["body"],
            order="id asc",
        )
    ]
    titles = [
        "Label scanned in",
        "in transit",
        "Delivery exception",
        "Out for delivery",
        "Delivered",
    ]
    positions = []
    for title in titles:
        positions.append(next(i for i, b in enumerate(bodies) if title in b))
    assert positions == sorted(positions), bodies
    assert any("weather" in b.lower() for b in bodies)


def test_out_of_order_and_duplicated_pushes_end_delivered(tenv: TrackEnv) -> None:
    shipment_id, _, number = tenv.booked_shipment()
    tenv.carrier_box.push_tracking(number, "delivered", duplicates=True, out_of_order=True)
    wait_until(lambda: status_of(tenv, shipment_id) == TrackingStatus.DELIVERED.value)


def test_replay_rebuilds_the_same_states_from_scratch(tenv: TrackEnv) -> None:
    first, _, n1 = tenv.booked_shipment()
    second, _, n2 = tenv.booked_shipment()
    tenv.carrier_box.push_tracking(n1, "delivered")
    tenv.carrier_box.push_tracking(n2, "lost")
    wait_until(lambda: status_of(tenv, first) == "delivered" and status_of(tenv, second))
    assert tenv.ctx.queue.join()
    before = {first: status_of(tenv, first), second: status_of(tenv, second)}
    with tenv.ctx.db.session() as s:
        s.query(TrackingEventRow).delete()
        s.query(ShipmentRow).update({ShipmentRow.tracking_status: None})
    replayed = EventLog(tenv.ctx.redis).replay(build_projector(tenv.ctx))
    assert replayed > 0
    assert {first: status_of(tenv, first), second: status_of(tenv, second)} == before
    assert before[second] == TrackingStatus.EXCEPTION.value


event_specs = st.lists(
    st.tuples(
        st.sampled_from(list(TrackingStatus)),
        st.integers(0, 96),
        st.sampled_from([None, *ExceptionCategory]),
    ),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event_specs, st.randoms(use_true_random=False))
def test_shuffled_sequence_projects_to_the_in_order_result(
    tenv: TrackEnv,
    specs: list[tuple[TrackingStatus, int, ExceptionCategory | None]],
    rnd: random.Random,
) -> None:
    """Feeding a parcel's events in any order, some twice, gives the in-order status."""
    number = f"PROP{uuid.uuid4().hex[:16].upper()}"
    shipment_id = f"shp_{number}"
    with tenv.ctx.db.session() as s:
        s.add(
            ShipmentRow(
                id=shipment_id,
                source="test",
                source_ref=number,
                revision=1,
                reference=number,
                state="booked",
                correlation_id="wb-prop",
                parcels=[ParcelRow(index=0, weight_kg=1, tracking_number=number)],
            )
        )
    t0 = datetime(2026, 11, 2, tzinfo=UTC)
    events = [
        TrackingEvent(
            carrier="easypost",
            tracking_number=number,
            status=status,
            occurred_at=t0 + timedelta(hours=hours),
            raw_description=f"e{i}",
            exception_category=category,
        )
        for i, (status, hours, category) in enumerate(specs)
    ]
    shuffled = events[:]
    rnd.shuffle(shuffled)
    projector = build_projector(tenv.ctx)
    for event in shuffled + shuffled[:2]:
        projector.project(event_payload(event, source="poll", inbox_id=None))
    assert status_of(tenv, shipment_id) == derive(events).status.value


def test_the_api_builds_webhook_sources_and_adapters_before_the_first_request(
    tenv: TrackEnv,
) -> None:
    """Built inside the event loop on the first webhook, they would hold up every request
    arriving meanwhile."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.sync.booking.directory import CarrierDirectory

    directory = CarrierDirectory([tenv.carrier_box.account()])
    tenv.ctx.extras["carrier_directory"] = directory
    tenv.ctx.extras.pop("tracking_ingest", None)
    with TestClient(create_app(tenv.ctx)):  # runs the lifespan: the API's start
        assert tenv.ctx.extras["tracking_ingest"].sources.directory is directory
        assert set(directory._adapters) == set(directory.accounts)  # built, not on demand


def test_warm_up_skips_an_account_that_cannot_be_built(tenv: TrackEnv) -> None:
    from app.carriers.accounts import CarrierAccount
    from app.sync.booking.directory import CarrierDirectory
    from app.sync.tracking.jobs import warm_webhook_intake

    good = tenv.carrier_box.account()
    broken = CarrierAccount(id="acct-nowhere", carrier="no-such-carrier")
    tenv.ctx.extras["carrier_directory"] = CarrierDirectory([good, broken])
    assert warm_webhook_intake(tenv.ctx) == 1
    assert tenv.ctx.extras["tracking_ingest"].sources.directory.accounts.keys() == {
        good.id,
        broken.id,
    }

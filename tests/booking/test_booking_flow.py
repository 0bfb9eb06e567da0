"""Ready picking → rate shop → book → label → Odoo, against both sandboxes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from booking_env import BookingEnv
from prometheus_client import REGISTRY

from app.carriers.errors import CarrierUnavailableError
from app.models import ShipmentState
from app.sync.booking.service import BookingInProgressError, BookingService
from app.sync.odoo.errors import OdooTransportError


def sla_count(metric: str, carrier: str) -> float:
    return REGISTRY.get_sample_value(f"{metric}_count", {"carrier": carrier}) or 0.0


def five_minutes_later() -> datetime:
    """The writer's clock after its back-off has passed."""
    return datetime.now(UTC) + timedelta(minutes=5)


def test_ready_picking_ends_with_label_tracking_price_and_message(benv: BookingEnv) -> None:
    intent = benv.intent_for_first_ready()
    outcome = benv.booking.book_shipment(intent.id)
    assert outcome.state == ShipmentState.BOOKED, outcome
    row = benv.shipment(intent.id)
    assert row.labels and row.parcels[0].tracking_number
    assert any(r.chosen for r in row.rates) and len(row.rates) >= 2
    assert benv.buys() == 1

    labelled_before = sla_count("waybill_sla_picking_ready_to_label_seconds", "easypost")
    report = benv.writer.drain()
    assert report.applied == 3 and report.rpcs == 3  # write, attachments, message
    # the service level is measured when Odoo has the label, once per picking
    assert sla_count("waybill_sla_picking_ready_to_label_seconds", "easypost") == (
        labelled_before + 1
    )
    picking_id = row.odoo_picking_id
    assert picking_id is not None
    picking = benv.picking(picking_id)
    assert picking["carrier_tracking_ref"] == row.parcels[0].tracking_number
    assert Decimal(str(picking["carrier_price"])) == row.price_amount
    names = [a["name"] for a in benv.attachments(picking_id)]
    assert names and all(n.startswith("LabelShipping-easypost-") for n in names)
    assert any("Shipment booked" in body for body in benv.messages(picking_id))
    assert benv.shipment(intent.id).labels[0].odoo_attachment_id is not None


def test_booking_job_is_idempotent_once_booked(benv: BookingEnv) -> None:
    intent = benv.intent_for_first_ready()
    benv.booking.book_shipment(intent.id)
    again = benv.booking.book_shipment(intent.id)
    assert again.state == ShipmentState.BOOKED and again.detail == "not bookable in this state"
    assert benv.buys() == 1


def test_crash_after_carrier_answer_and_before_odoo_write_writes_odoo_once(
    benv: BookingEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    intent = benv.intent_for_first_ready()
    benv.booking.book_shipment(intent.id)
    odoo = benv.writer.odoo
    real_create = odoo.create

    def create_then_lose_the_answer(*args: object, **kwargs: object) -> object:
        real_create(*args, **kwargs)  # Odoo commits the attachment ...
        raise OdooTransportError("read timeout")  # ... but the answer never reaches us

    monkeypatch.setattr(odoo, "create", create_then_lose_the_answer)
    first = benv.writer.drain()
    assert first.retried == 1 and first.applied == 1  # tracking written, labels uncertain
    monkeypatch.setattr(odoo, "create", real_create)
    benv.writer.clock = lambda: (
        __import__("datetime").datetime.now(__import__("datetime").UTC)
        + __import__("datetime").timedelta(minutes=5)
    )
    second = benv.writer.drain()
    assert second.applied == 2
    picking_id = intent.odoo_picking_id
    assert picking_id is not None
    assert len(benv.attachments(picking_id)) == len(benv.shipment(intent.id).labels)
    assert sum("Shipment booked" in m for m in benv.messages(picking_id)) == 1
    assert benv.booking.book_shipment(intent.id).state == ShipmentState.BOOKED
    assert benv.buys() == 1


def _age_claim(benv: BookingEnv, shipment_id: str) -> None:
    from sqlalchemy import update

    from app.store.tables import ShipmentRow

    with benv.db.session() as session:
        session.execute(
            update(ShipmentRow)
            .where(ShipmentRow.id == shipment_id)
            .values(updated_at=datetime.now(UTC) - timedelta(minutes=10))
        )


def test_crash_between_label_purchase_and_recording_never_buys_twice(
    benv: BookingEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    intent = benv.intent_for_first_ready()

    def crash(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("worker killed")

    monkeypatch.setattr(BookingService, "_record_booking", crash)
    with pytest.raises(SystemExit):
        benv.booking.book_shipment(intent.id)
    assert benv.shipment(intent.id).state == ShipmentState.BOOKING
    monkeypatch.undo()
    benv.booking.claim_wait = 0.2
    with pytest.raises(BookingInProgressError):  # the claim is fresh: maybe still running
        benv.booking.book_shipment(intent.id)
    _age_claim(benv, intent.id)  # a carrier timeout later the run is known dead
    retried = benv.booking.book_shipment(intent.id)
    assert retried.state == ShipmentState.AWAITING_APPROVAL
    assert "earlier booking attempt" in retried.detail
    assert benv.buys() == 1
    benv.writer.drain()
    picking_id = intent.odoo_picking_id
    assert picking_id is not None
    assert any("needs a dispatcher" in m for m in benv.messages(picking_id))


def test_carrier_outage_is_retried_without_losing_the_intent(benv: BookingEnv) -> None:
    intent = benv.intent_for_first_ready()
    benv.carrier_box.fail_next("503", count=1)
    with pytest.raises(CarrierUnavailableError) as err:
        benv.booking.book_shipment(intent.id)
    assert err.value.retryable
    assert benv.shipment(intent.id).state == ShipmentState.INTENT
    assert benv.booking.book_shipment(intent.id).state == ShipmentState.BOOKED
    assert benv.buys() == 1


def test_carrier_rejection_is_surfaced_on_the_picking_and_not_retried(
    benv: BookingEnv,
) -> None:
    benv.intake.poll_once()
    intent = next(
        r
        for r in benv.shipments()
        if r.state == "intent" and r.request and r.request["recipient"]["country_code"] == "US"
    )
    assert intent.odoo_picking_id is not None
    partner = benv.odoo.read("stock.picking", [intent.odoo_picking_id], ["partner_id"])[0]
    benv.odoo_box.write("res.partner", [partner["partner_id"][0]], {"zip": "00000"})
    benv.odoo_box.write("stock.picking", [intent.odoo_picking_id], {"origin": "edited"})
    assert benv.intake.poll_once().outcomes.get("refreshed") == 1
    outcome = benv.booking.book_shipment(intent.id)
    assert outcome.state == ShipmentState.FAILED, outcome
    row = benv.shipment(intent.id)
    assert row.error is not None and row.error["code"] == "carrier_address_invalid"
    assert row.error["field"] == "recipient.postal_code"  # named in Waybill's terms
    assert benv.booking.book_shipment(intent.id).state == ShipmentState.FAILED  # not retried
    assert benv.buys() == 0
    benv.writer.drain()
    messages = benv.messages(intent.odoo_picking_id)
    assert any(
        "No carrier accepts this shipment" in m and "recipient.postal_code" in m for m in messages
    )


def test_heavy_picking_ships_as_several_parcels_with_a_label_each(benv: BookingEnv) -> None:
    intent = benv.intent_for_first_ready()
    assert intent.odoo_picking_id is not None
    benv.odoo_box.write("stock.picking", [intent.odoo_picking_id], {"weight": 50.0})
    benv.intake.poll_once()
    assert len(benv.shipment(intent.id).parcels) == 2  # 30 kg boxes: 2 x 25 kg
    assert benv.booking.book_shipment(intent.id).state == ShipmentState.BOOKED
    row = benv.shipment(intent.id)
    numbers = [p.tracking_number for p in row.parcels]
    assert all(numbers) and len(set(numbers)) == 2
    assert sorted(label.parcel_index for label in row.labels) == [0, 1]
    assert benv.buys() == 2
    benv.writer.drain()
    picking = benv.picking(intent.odoo_picking_id)
    assert picking["carrier_tracking_ref"] == ",".join(numbers)
    assert len(benv.attachments(intent.odoo_picking_id)) == 2


def test_odoo_outage_queues_writes_and_drains_them_in_order(benv: BookingEnv) -> None:
    intent = benv.intent_for_first_ready()
    benv.booking.book_shipment(intent.id)
    benv.odoo_box.fail_next(1, "unavailable")
    first = benv.writer.drain()
    assert first.applied == 0 and first.retried == 1  # the whole picking waits, in order
    benv.writer.clock = five_minutes_later
    assert benv.writer.drain().applied == 3
    assert intent.odoo_picking_id is not None
    assert benv.picking(intent.odoo_picking_id)["carrier_tracking_ref"]


def test_down_carrier_named_in_odoo_is_not_silently_replaced(
    benv: BookingEnv, redis_conn: object
) -> None:
    """The picking asks for UPS Ground; while it is down the intent waits, with a suggestion."""
    from app.core.breaker import CircuitBreaker
    from app.sync.booking.directory import CarrierChoice, CarrierDirectory

    directory = CarrierDirectory(
        [benv.carrier_box.account(), benv.carrier_box.account("backup-easypost")],
        {"UPS Ground": CarrierChoice("sandbox-easypost")},
        breakers=redis_conn,  # type: ignore[arg-type]
    )
    booking = BookingService(db=benv.db, directory=directory)
    intent = benv.intent_for_first_ready()
    assert intent.odoo_picking_id is not None
    ups = benv.odoo.search("delivery.carrier", [("name", "=", "UPS Ground")])[0]
    benv.odoo_box.write("stock.picking", [intent.odoo_picking_id], {"carrier_id": ups})
    benv.intake.poll_once()
    breaker = CircuitBreaker(redis_conn, "sandbox-easypost", failure_threshold=2)  # type: ignore[arg-type]
    breaker.record_failure()
    breaker.record_failure()  # sustained failures: the preferred account's circuit is open
    with pytest.raises(CarrierUnavailableError):
        booking.book_shipment(intent.id)
    assert benv.shipment(intent.id).state == ShipmentState.INTENT
    assert benv.buys() == 0
    benv.writer.drain()
    assert intent.odoo_picking_id is not None
    assert any(
        "is unavailable" in m and "Available now instead" in m
        for m in benv.messages(intent.odoo_picking_id)
    )


def test_two_overlapping_runs_of_one_booking_buy_one_label(benv: BookingEnv) -> None:
    """A job re-queued while its first run still waits on the carrier (Redis lost the queue):
    the compare-and-set claim lets exactly one run call the carrier."""
    import threading

    intent = benv.intent_for_first_ready()
    benv.carrier_box.latency_ms = 300.0
    outcomes: list[object] = []

    def run() -> None:
        try:
            outcomes.append(benv.booking.book_shipment(intent.id).state)
        except Exception as exc:  # in progress / lost the optimistic lock: the job retries
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert benv.buys() == 1
    assert benv.shipment(intent.id).state == ShipmentState.BOOKED
    assert outcomes.count(ShipmentState.BOOKED) >= 1 and len(outcomes) == 3


def test_a_fresh_claim_by_another_run_is_waited_for_not_sent_to_a_person(
    benv: BookingEnv,
) -> None:
    intent = benv.intent_for_first_ready()
    benv.booking.claim_wait = 0.2
    assert benv.booking._claim(intent.id, ShipmentState.INTENT.value)
    assert not benv.booking._claim(intent.id, ShipmentState.INTENT.value)  # only one claim
    with pytest.raises(BookingInProgressError) as raised:
        benv.booking.book_shipment(intent.id)
    assert raised.value.retryable and benv.buys() == 0
    assert benv.shipment(intent.id).state == ShipmentState.BOOKING


def test_a_rerun_waits_in_place_for_a_claim_about_to_lapse(benv: BookingEnv) -> None:
    """Fresh for less than the in-place wait: the re-run waits it out, then hands the unknown
    outcome to a person instead of burning a retry."""
    intent = benv.intent_for_first_ready()
    assert benv.booking._claim(intent.id, ShipmentState.INTENT.value)
    benv.booking.claim_wait = 5.0
    lifetime = benv.booking._claim_lifetime(None)
    with benv.db.session() as session:
        from sqlalchemy import update

        from app.store.tables import ShipmentRow

        session.execute(
            update(ShipmentRow)
            .where(ShipmentRow.id == intent.id)
            .values(updated_at=datetime.now(UTC) - lifetime + timedelta(seconds=1))
        )
    outcome = benv.booking.book_shipment(intent.id)
    assert outcome.state == ShipmentState.AWAITING_APPROVAL and benv.buys() == 0


def test_a_carrier_timeout_sends_the_retry_to_a_person_without_waiting(
    benv: BookingEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This run knows nobody else holds the claim: no point waiting it out."""
    from app.carriers.errors import CarrierOutcomeUnknownError

    intent = benv.intent_for_first_ready()
    benv.booking.claim_wait = 30.0  # would be felt if the retry waited for the claim
    adapter = benv.directory.adapter(next(iter(benv.directory.accounts)))
    real_book = adapter.book

    def buy_then_lose_the_answer(*args: object, **kwargs: object) -> object:
        real_book(*args, **kwargs)  # the carrier sells the label ...
        raise CarrierOutcomeUnknownError("easypost book: no answer within the timeout")

    monkeypatch.setattr(adapter, "book", buy_then_lose_the_answer)
    with pytest.raises(CarrierOutcomeUnknownError):
        benv.booking.book_shipment(intent.id)
    monkeypatch.undo()
    started = time.monotonic()
    retried = benv.booking.book_shipment(intent.id)
    assert retried.state == ShipmentState.AWAITING_APPROVAL
    assert time.monotonic() - started < 10 and benv.buys() == 1


def test_the_purchase_is_fenced_by_a_claim_committed_with_the_choice(
    benv: BookingEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the carrier is asked to buy, the shipment is already ``booking`` with its chosen
    quote stored, and no second run can take it: rating and claiming share one transaction."""
    from app.store.tables import RateRow

    intent = benv.intent_for_first_ready()
    adapter = benv.directory.adapter(next(iter(benv.directory.accounts)))
    inner_type = type(adapter)
    real_book = inner_type.book
    seen: list[tuple[str, int, bool]] = []

    def book(self: object, *args: object, **kwargs: object) -> object:
        row = benv.shipment(intent.id)
        with benv.db.session() as s:
            chosen = s.query(RateRow).filter_by(shipment_id=intent.id, chosen=True).count()
        seen.append((row.state, chosen, benv.booking._claim(intent.id, ShipmentState.RATED.value)))
        return real_book(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(inner_type, "book", book)
    assert benv.booking.book_shipment(intent.id).state == ShipmentState.BOOKED
    assert seen == [(ShipmentState.BOOKING.value, 1, False)]
    assert benv.buys() == 1

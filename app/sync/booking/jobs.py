"""Booking and write-back jobs. They take ids, rebuild what they need, and are safe to repeat."""

from __future__ import annotations

from typing import Any

from app.core.context import AppContext, get_context
from app.core.logging import get_logger
from app.core.queue import JobSpec
from app.sync.alerts.anomalies import booking_advisor
from app.sync.booking.directory import CarrierDirectory
from app.sync.booking.policy import AutoBookRules, RecommenderPolicy
from app.sync.booking.service import BookingService
from app.sync.writeback.writer import OdooWriter

log = get_logger(__name__)
BOOK_JOB = "app.sync.booking.jobs.book_shipment"
DRAIN_JOB = "app.sync.booking.jobs.drain_outbox"
CANCEL_JOB = "app.sync.booking.jobs.cancel_shipment"
DRAIN_LOCK = "waybill:outbox:drain"


def enqueue_booking(ctx: AppContext, shipment_id: str) -> None:
    ctx.queue.enqueue(
        JobSpec(BOOK_JOB, (shipment_id,), job_id=f"book-{shipment_id}", queue="booking")
    )


def enqueue_cancel(ctx: AppContext, shipment_id: str) -> None:
    ctx.queue.enqueue(
        JobSpec(CANCEL_JOB, (shipment_id,), job_id=f"cancel-{shipment_id}", queue="booking")
    )


def enqueue_drain(ctx: AppContext) -> None:
    ctx.queue.enqueue(
        JobSpec(
            DRAIN_JOB,
            (),
            job_id="drain-outbox",
            queue="odoo",
            retry_intervals=(2, 10, 60),
            rerun_if_running=True,
        )
    )


def carrier_directory(ctx: AppContext) -> CarrierDirectory:
    """One directory per process: adapters keep their token caches."""
    directory = ctx.extras.get("carrier_directory")
    if directory is None:
        directory = CarrierDirectory.from_settings(ctx.settings, breakers=ctx.redis)
        ctx.extras["carrier_directory"] = directory
    return directory  # type: ignore[no-any-return]


def recommender_costs(ctx: AppContext) -> Any:
    """The operator's cost model, read once per process (not once per booking)."""
    from app.triage.recommender_costs import CostModel

    costs = ctx.extras.get("recommender_costs")
    if costs is None:
        configured = ctx.settings.recommender_costs
        costs = CostModel.load(configured) if configured else CostModel.from_settings(ctx.settings)
        ctx.extras["recommender_costs"] = costs
    return costs


def recommender_policy(ctx: AppContext) -> RecommenderPolicy:
    """The served recommender (registry champion or baseline) behind the auto-book rules."""
    s = ctx.settings

    def recommender() -> Any:
        from app.triage.recommender import Recommender
        from app.triage.router import model_manager

        try:
            return Recommender.from_manager(model_manager(ctx), recommender_costs(ctx))
        except Exception as exc:  # no model store reachable: the default policy decides
            log.warning("recommender_unavailable", error=type(exc).__name__)
            return None

    allowed = frozenset(s.recommender_allowed_carriers) if s.recommender_allowed_carriers else None
    return RecommenderPolicy(
        recommender,
        AutoBookRules(
            min_on_time=s.recommender_min_on_time,
            max_price_delta=s.recommender_max_price_delta,
            allowed_carriers=allowed,
        ),
        advisor=booking_advisor(ctx.db),
    )


def build_booking(ctx: AppContext) -> BookingService:
    return BookingService(
        db=ctx.db,
        directory=carrier_directory(ctx),
        policy=recommender_policy(ctx),
        on_writes_queued=lambda: enqueue_drain(ctx),
        rate_workers=ctx.settings.rate_shop_workers,
    )


def book_shipment(shipment_id: str) -> dict[str, Any]:
    outcome = build_booking(get_context()).book_shipment(shipment_id)
    return outcome.__dict__


def cancel_shipment(shipment_id: str) -> dict[str, Any]:
    outcome = build_booking(get_context()).cancel_shipment(shipment_id)
    return {
        "shipment_id": outcome.shipment_id,
        "state": outcome.state,
        "accepted": outcome.accepted,
        "detail": outcome.detail,
    }


def drain_outbox() -> dict[str, Any]:
    """One drainer at a time (a Redis lock shared by every worker), in order per picking."""
    ctx = get_context()
    lock = ctx.redis.lock(DRAIN_LOCK, timeout=300, blocking=False)
    if not lock.acquire():
        return {"skipped": "another drain is running"}
    try:
        writer = OdooWriter(db=ctx.db, odoo=ctx.odoo)
        writer.settle(
            quiet=ctx.settings.odoo_write_settle_seconds,
            longest=ctx.settings.odoo_write_settle_max_seconds,
        )
        # Writes queued meanwhile trigger the follow-up run, which settles again first.
        return writer.drain(chase_new_writes=False).to_body()
    finally:
        lock.release()


def sweep_stalled_intents(older_than_minutes: int = 10, limit: int = 500) -> dict[str, Any]:
    """Re-queue bookings whose job vanished (a Redis restart, a lost worker): the intent is in
    the database, so the work is never lost — only its queue entry can be. Job ids dedupe, so a
    booking still queued is not queued twice."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from app.models import ShipmentState
    from app.store.tables import ShipmentRow

    ctx = get_context()
    if not ctx.settings.auto_book:
        return {"requeued": 0}
    cutoff = datetime.now(UTC) - timedelta(minutes=older_than_minutes)
    with ctx.db.session() as session:
        stalled = session.scalars(
            select(ShipmentRow.id)
            .where(
                ShipmentRow.state.in_((ShipmentState.INTENT.value, ShipmentState.RATED.value)),
                ShipmentRow.request.is_not(None),
                ShipmentRow.updated_at < cutoff,
            )
            .limit(limit)
        ).all()
    for shipment_id in stalled:
        enqueue_booking(ctx, shipment_id)
    return {"requeued": len(stalled)}

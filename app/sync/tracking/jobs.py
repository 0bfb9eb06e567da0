"""Tracking jobs: project the event log, republish stored bodies, poll silent shipments."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from app.core.context import AppContext, get_context
from app.core.events import SHIPMENT_STREAM, Entry, EventLog
from app.core.logging import get_logger
from app.core.queue import JobSpec
from app.sync.alerts.jobs import build_at_risk
from app.sync.booking.jobs import carrier_directory, enqueue_drain
from app.sync.eta.jobs import build_eta
from app.sync.exceptions.jobs import build_triage
from app.sync.outbound.service import OutboundDispatcher, load_subscribers
from app.sync.tracking.ingest import Checked, Received, TrackingIngest
from app.sync.tracking.poller import TrackingPoller
from app.sync.tracking.projector import TrackingProjector
from app.sync.tracking.sources import SourceRegistry
from app.sync.tracking.state import TrackingState

log = get_logger(__name__)
PROJECT_JOB = "app.sync.tracking.jobs.project_tracking"
OUTBOUND_JOB = "app.sync.tracking.jobs.fan_out_outbound"
STATUS_CHANGED = "shipment.status_changed"
PROJECTOR_GROUP = "projector"


def build_ingest(ctx: AppContext) -> TrackingIngest:
    secrets = ctx.settings.webhook_platform_secrets
    sources = SourceRegistry.from_json(
        carrier_directory(ctx), secrets.get_secret_value() if secrets else None
    )
    return TrackingIngest(db=ctx.db, sources=sources, events=EventLog(ctx.redis))


def tracking_ingest(ctx: AppContext) -> TrackingIngest:
    """One per process: the source registry is built once, not per webhook (again only when
    the carrier directory it was built from has been replaced)."""
    ingest = ctx.extras.get("tracking_ingest")
    if ingest is None or ingest.sources.directory is not carrier_directory(ctx):
        ingest = ctx.extras["tracking_ingest"] = build_ingest(ctx)
    return ingest  # type: ignore[no-any-return]


def warm_webhook_intake(ctx: AppContext) -> int:
    """Build the webhook sources and every account's adapter before the first request.

    Otherwise the first webhook after a start builds them inside the event loop: karrio's
    imports and gateways take long enough that every request arriving meanwhile waits too, the
    worst latencies of a deploy under load. A failing account is logged and left to fail on
    its own requests, as it would have anyway; it does not keep the API from starting.
    Returns how many adapters are ready.
    """
    try:
        ingest = tracking_ingest(ctx)
    except Exception as exc:  # e.g. malformed account settings: the requests will say so
        log.warning("webhook_intake_warmup_failed", error=str(exc)[:200])
        return 0
    ready = 0
    for account_id in ingest.sources.directory.accounts:
        try:
            ingest.sources.directory.adapter(account_id)
            ready += 1
        except Exception as exc:  # a broken account must not stop the API
            log.warning("carrier_adapter_warmup_failed", account=account_id, error=str(exc)[:200])
    return ready


def store_webhooks(ctx: AppContext, batch: list[Checked]) -> list[Received]:
    """Store checked webhooks together, then trigger the projection once (blocking: call it
    off the event loop — with RQ the trigger is Redis round trips).

    A trigger that fails once the bodies are stored is logged, not raised: the events are
    persisted (inbox rows, and the log unless it is down) and the scheduler's periodic
    projection reads them; raising would answer 500 to bodies we already hold.
    """
    received = tracking_ingest(ctx).store(batch)
    if any(not r.duplicate for r in received):
        try:
            enqueue_projection(ctx)
        except Exception as exc:  # the bodies are stored: acknowledge them
            log.warning("tracking_projection_trigger_deferred", error=type(exc).__name__)
    return received


def build_projector(ctx: AppContext) -> TrackingProjector:
    hooks = ctx.extras.get("tracking_hooks", {})
    shipments = EventLog(ctx.redis, SHIPMENT_STREAM)
    extra_listener = hooks.get("on_status_change")
    triage = build_triage(ctx)
    eta = build_eta(ctx)
    at_risk = build_at_risk(ctx)

    def status_changed(shipment_id: str, state: TrackingState, event: dict[str, Any]) -> None:
        shipments.publish(
            STATUS_CHANGED,
            {
                "shipment_id": shipment_id,
                "status": state.status.value,
                "milestone": state.milestone.value if state.milestone else None,
                "exception_category": state.open_exception.value if state.open_exception else None,
                "occurred_at": state.last_event_at,
                "carrier": event.get("carrier"),
                "tracking_number": event.get("tracking_number"),
                "description": event.get("raw_description"),
            },
        )
        enqueue_outbound(ctx)  # subscribers hear of the change it just published
        for name, listener in (
            ("eta", eta.on_status_change),
            ("triage", triage.on_status_change),
            ("at_risk", at_risk.on_status_change),
        ):
            try:
                listener(shipment_id, state, event)
            except Exception as exc:  # a listener must never block tracking
                log.error(f"{name}_failed", shipment_id=shipment_id, error=type(exc).__name__)
        if extra_listener is not None:
            extra_listener(shipment_id, state, event)

    return TrackingProjector(
        db=ctx.db,
        classify_unknown=hooks.get("classify_unknown"),
        on_status_change=status_changed,
        on_writes_queued=lambda: enqueue_drain(ctx),
    )


def enqueue_projection(ctx: AppContext) -> None:
    ctx.queue.enqueue(
        JobSpec(
            PROJECT_JOB,
            (),
            job_id="project-tracking",
            queue="tracking",
            retry_intervals=(2, 10, 60),
            rerun_if_running=True,
        )
    )


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def project_tracking() -> dict[str, Any]:
    """Drain the projector's consumer group (safe with several workers: entries are split)."""
    ctx = get_context()
    projector = build_projector(ctx)
    handled = EventLog(ctx.redis).consume(PROJECTOR_GROUP, consumer_name(), projector)
    projector.flush()
    return {"handled": handled}


def republish_inbox() -> dict[str, Any]:
    ctx = get_context()
    count = build_ingest(ctx).republish_pending()
    if count:
        enqueue_projection(ctx)
    return {"republished": count}


def poll_tracking() -> dict[str, Any]:
    """Ask carriers about quiet shipments, then project what they said."""
    ctx = get_context()
    poller = TrackingPoller(
        db=ctx.db,
        directory=carrier_directory(ctx),
        events=EventLog(ctx.redis),
        silent_after=timedelta(hours=ctx.settings.tracking_poll_after_hours),
        batch=ctx.settings.tracking_poll_batch,
    )
    published = poller.poll()
    if published:
        enqueue_projection(ctx)
    return {"published": published}


def enqueue_outbound(ctx: AppContext) -> None:
    if ctx.settings.outbound_webhooks is not None:
        ctx.queue.enqueue(
            JobSpec(
                OUTBOUND_JOB,
                (),
                job_id="outbound-webhooks",
                queue="tracking",
                retry_intervals=(5, 30),
                rerun_if_running=True,
            )
        )


def fan_out_outbound() -> dict[str, Any]:
    """Turn new shipment events into delivery rows, then attempt what is due."""
    ctx = get_context()
    raw = ctx.settings.outbound_webhooks
    subscribers = load_subscribers(raw.get_secret_value() if raw else None)
    if not subscribers:
        return {"subscribers": 0}
    dispatcher = ctx.extras.get("outbound") or OutboundDispatcher(
        db=ctx.db, subscribers=subscribers
    )
    ctx.extras["outbound"] = dispatcher

    def enqueue(entry: Entry) -> None:
        dispatcher.enqueue(entry.id, entry.type, entry.data)

    queued = EventLog(ctx.redis, SHIPMENT_STREAM).consume("outbound", consumer_name(), enqueue)
    return {"queued": queued, **dispatcher.deliver_due()}

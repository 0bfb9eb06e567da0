"""Tracking jobs: project the event log, republish stored bodies, poll silent shipments."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from app.core.context import AppContext, get_context
from app.core.events import EventLog
from app.core.queue import JobSpec
from app.sync.booking.jobs import carrier_directory, enqueue_drain
from app.sync.tracking.ingest import TrackingIngest
from app.sync.tracking.poller import TrackingPoller
from app.sync.tracking.projector import TrackingProjector
from app.sync.tracking.sources import SourceRegistry

PROJECT_JOB = "app.sync.tracking.jobs.project_tracking"
PROJECTOR_GROUP = "projector"


def build_ingest(ctx: AppContext) -> TrackingIngest:
    secrets = ctx.settings.webhook_platform_secrets
    sources = SourceRegistry.from_json(
        carrier_directory(ctx), secrets.get_secret_value() if secrets else None
    )
    return TrackingIngest(db=ctx.db, sources=sources, events=EventLog(ctx.redis))


def build_projector(ctx: AppContext) -> TrackingProjector:
    hooks = ctx.extras.get("tracking_hooks", {})
    return TrackingProjector(
        db=ctx.db,
        classify_unknown=hooks.get("classify_unknown"),
        on_status_change=hooks.get("on_status_change"),
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

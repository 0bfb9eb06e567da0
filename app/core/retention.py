"""Retention of raw carrier payloads: kept for debugging and training, then dropped.

A tracking event keeps its normalized fields (status, time, code, location) for good; the raw
carrier payload, which carries names, addresses and signatures, is nulled once it is older than
``WAYBILL_RAW_PAYLOAD_RETENTION_DAYS`` (counted from ``received_at``). Each run writes one audit
row, including runs that found nothing, so the trail shows the purge kept running.

Rows are cleared in batches of primary keys, each in its own short transaction, so a first run
over a large backlog never holds a long lock on ``tracking_events``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import null, select, update

from app.core.audit import record_audit
from app.core.db import Database
from app.core.logging import get_logger
from app.store.tables import TrackingEventRow

log = get_logger(__name__)

DEFAULT_RETENTION_DAYS = 90
RETENTION_ACTOR = "system:retention"
PURGE_ACTION = "retention.purge_raw_payloads"


def retention_period(settings: Any) -> timedelta:
    days = int(getattr(settings, "raw_payload_retention_days", DEFAULT_RETENTION_DAYS))
    if days < 1:
        raise ValueError("raw payload retention must be at least one day")
    return timedelta(days=days)


def purge_raw_payloads(
    db: Database,
    older_than: timedelta | datetime,
    *,
    now: datetime | None = None,
    batch_size: int = 500,
    actor: str = RETENTION_ACTOR,
) -> int:
    """Null ``raw_payload`` of events received before the cutoff; returns how many were cleared.

    ``older_than`` is an age (``timedelta``, counted back from ``now``) or the cutoff itself.
    """
    now = now or datetime.now(UTC)
    cutoff = now - older_than if isinstance(older_than, timedelta) else older_than
    if cutoff.tzinfo is None:
        raise ValueError("the cutoff must be an aware datetime")
    purged = 0
    last_id = 0
    while True:
        with db.session() as session:
            ids = list(
                session.scalars(
                    select(TrackingEventRow.id)
                    .where(TrackingEventRow.received_at < cutoff)
                    .where(TrackingEventRow.raw_payload.is_not(None))
                    .where(TrackingEventRow.id > last_id)
                    .order_by(TrackingEventRow.id)
                    .limit(batch_size)
                )
            )
            if not ids:
                break
            result = session.execute(
                update(TrackingEventRow)
                .where(TrackingEventRow.id.in_(ids))
                .values(raw_payload=null())  # SQL NULL, not the JSON value null
                .execution_options(synchronize_session=False)
            )
            purged += int(result.rowcount or 0)  # type: ignore[attr-defined]
            last_id = ids[-1]
        if len(ids) < batch_size:
            break
    with db.session() as session:
        record_audit(
            session,
            actor=actor,
            action=PURGE_ACTION,
            target_type="tracking_events",
            target_id="raw_payload",
            after={"cutoff": cutoff.isoformat(), "purged": purged},
        )
    log.info("raw_payloads_purged", purged=purged, cutoff=cutoff.isoformat())
    return purged


def purge_job() -> int:
    """Entry point for the scheduler or an RQ job: the configured retention, the shared store."""
    from app.core.context import get_context

    ctx = get_context()
    return purge_raw_payloads(ctx.db, retention_period(ctx.settings))

"""Putting Odoo writes in the outbox, inside the caller's transaction.

A booking that commits its label also commits the writes it owes Odoo; an Odoo outage then only
delays them. ``dedupe_key`` makes a retried job's second enqueue of the same write a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.logging import correlation_id_var
from app.store.tables import OutboxRow

KIND_PICKING_SHIPPED = "picking.shipped"  # carrier_tracking_ref + carrier_price
KIND_PICKING_LABELS = "picking.labels"  # ir.attachment per label
KIND_MESSAGE = "record.message"  # chatter message (message_post)
KIND_ACTIVITY = "record.activity"  # a to-do for a person (mail.activity)
KIND_ACTIVITY_UPDATE = "record.activity_update"  # the same problem again: refresh its activity
KIND_PICKING_VOIDED = "picking.voided"  # tracking ref and price cleared after a void
KIND_ACTIVITY_DONE = "record.activity_done"  # the problem went away: mark the activity done
KINDS = (
    KIND_PICKING_SHIPPED,
    KIND_PICKING_LABELS,
    KIND_MESSAGE,
    KIND_ACTIVITY,
    KIND_ACTIVITY_UPDATE,
    KIND_PICKING_VOIDED,
    KIND_ACTIVITY_DONE,
)


def picking_aggregate(picking_id: int) -> str:
    return f"stock.picking:{picking_id}"


def enqueue_write(
    session: Session, *, aggregate: str, kind: str, payload: dict[str, Any], dedupe_key: str
) -> OutboxRow | None:
    """Add one write to the outbox unless the same write (kind + key) is already there."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    dedupe_key = f"{kind}:{dedupe_key}"
    existing = session.scalars(select(OutboxRow).where(OutboxRow.dedupe_key == dedupe_key)).first()
    if existing is not None:
        return None
    row = OutboxRow(
        aggregate=aggregate,
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        correlation_id=correlation_id_var.get(),
    )
    session.add(row)
    return row


def sla_marker(metric: str, since: datetime | None, carrier: str | None) -> dict[str, Any]:
    """What a write needs to report its service level when Odoo has it (see ``metrics``)."""
    if since is None:
        return {}
    return {"sla": {"metric": metric, "since": since.isoformat(), "carrier": carrier or "unknown"}}


def queue_picking_message(
    session: Session,
    picking_id: int,
    ref: str,
    body_html: str,
    *,
    sla: dict[str, Any] | None = None,
) -> None:
    """A chatter message on a picking, owed to Odoo; ``ref`` makes it exactly-once."""
    enqueue_write(
        session,
        aggregate=picking_aggregate(picking_id),
        kind=KIND_MESSAGE,
        dedupe_key=ref,
        payload={
            "model": "stock.picking",
            "res_id": picking_id,
            "body_html": body_html,
            "ref": ref,
            **(sla or {}),
        },
    )


def queue_picking_activity(session: Session, picking_id: int, ref: str, **fields: Any) -> None:
    """A to-do for a person on a picking (summary, note_html, ...), created once."""
    enqueue_write(
        session,
        aggregate=picking_aggregate(picking_id),
        kind=KIND_ACTIVITY,
        dedupe_key=ref,
        payload={"model": "stock.picking", "res_id": picking_id, "ref": ref, **fields},
    )


def queue_suggestion_activity(
    session: Session,
    *,
    picking_id: int,
    suggestion_id: str,
    activity_id: int | None,
    update: bool,
    moment: datetime,
    fields: dict[str, Any],
    on_create: dict[str, Any],
) -> bool:
    """One Odoo activity per open suggestion on a picking: created once, then refreshed in place.

    ``fields`` (summary, note_html, date_deadline, …) go with both writes; ``on_create`` only
    with the first (activity type, assignee). A refresh before the first activity has reached
    Odoo is dropped — the creation still waiting in the outbox is refreshed by the next one.
    Returns whether a write was queued.
    """
    common = {
        "model": "stock.picking",
        "res_id": picking_id,
        "ref": suggestion_id,
        "suggestion_id": suggestion_id,
        **fields,
    }
    if update:
        if not activity_id:
            return False
        enqueue_write(
            session,
            aggregate=picking_aggregate(picking_id),
            kind=KIND_ACTIVITY_UPDATE,
            dedupe_key=f"{suggestion_id}:update:{moment.isoformat()}",
            payload={**common, "activity_id": activity_id},
        )
        return True
    enqueue_write(
        session,
        aggregate=picking_aggregate(picking_id),
        kind=KIND_ACTIVITY,
        dedupe_key=f"{suggestion_id}:create",
        payload={**common, **on_create},
    )
    return True

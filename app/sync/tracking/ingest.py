"""Webhook intake: verify → parse → persist the raw body → publish events → acknowledge.

Identical redeliveries (carriers retry for a day or more) stop at the inbox's unique
``(source, body_sha256)``; different bodies repeating an event stop at the event's
``dedupe_key`` in the projector. If the event log is unreachable the body is kept with status
``pending`` and republished later: nothing acknowledged is lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.db import Database
from app.core.events import EventLog
from app.core.logging import correlation_id_var, get_logger
from app.models import TrackingEvent
from app.store.tables import WebhookInboxRow
from app.store.types import utcnow
from app.sync.tracking.metrics import WEBHOOKS_RECEIVED
from app.sync.tracking.sources import SourceRegistry

log = get_logger(__name__)
EVENT_TYPE = "tracking.event"
KEPT_HEADERS = ("content-type", "user-agent", "x-timestamp", "x-request-id")


@dataclass
class Received:
    inbox_id: int | None
    duplicate: bool
    events: int


def dedupe_key(event: TrackingEvent) -> str:
    """The carrier's event id when it has one, else a hash of what makes the event itself."""
    if event.carrier_event_id:
        return f"{event.carrier}:{event.carrier_event_id}"[:128]
    basis = "|".join(
        [
            event.carrier,
            event.tracking_number,
            event.occurred_at.isoformat(),
            event.raw_code or "",
            event.raw_description,
            event.status.value,
        ]
    )
    return f"{event.carrier}:h:{hashlib.sha256(basis.encode()).hexdigest()}"[:128]


def event_payload(event: TrackingEvent, *, source: str, inbox_id: int | None) -> dict[str, Any]:
    data = event.model_dump(mode="json")
    data.update(dedupe_key=dedupe_key(event), source=source, inbox_id=inbox_id)
    return data


class TrackingIngest:
    def __init__(self, *, db: Database, sources: SourceRegistry, events: EventLog) -> None:
        self.db = db
        self.sources = sources
        self.events = events

    def receive(self, source: str, headers: Mapping[str, str], body: bytes) -> Received:
        verified = self.sources.verify(source, headers, body)
        parsed = verified.source.parse(headers, body)
        digest = hashlib.sha256(body).hexdigest()
        kept = {k.lower(): v for k, v in headers.items() if k.lower() in KEPT_HEADERS}
        try:
            # One transaction, one commit on the acknowledgement path: the insert stops a
            # redelivery before anything is published; the events go to the log inside the
            # transaction, so the row commits as ``published`` (or ``pending`` when the log is
            # down). If the commit itself fails the webhook is not acknowledged and the carrier
            # retries; events already in the log then repeat, and the projector's dedupe_key
            # absorbs them.
            with self.db.session() as session:
                row = WebhookInboxRow(
                    source=source.lower(),
                    account_id=verified.account_id,
                    body=body,
                    body_sha256=digest,
                    headers=kept,
                    events=len(parsed),
                    correlation_id=correlation_id_var.get(),
                    # written as published: the usual outcome costs one INSERT, no UPDATE
                    status="published",
                    processed_at=utcnow(),
                )
                session.add(row)
                session.flush()
                inbox_id = row.id
                if not self._publish_events(inbox_id, source, parsed):
                    row.status, row.processed_at = "pending", None
        except IntegrityError:
            WEBHOOKS_RECEIVED.labels(source, "duplicate").inc()
            return Received(None, True, len(parsed))
        WEBHOOKS_RECEIVED.labels(source, "accepted").inc()
        return Received(inbox_id, False, len(parsed))

    def _publish_events(self, inbox_id: int, source: str, parsed: list[TrackingEvent]) -> bool:
        try:
            self.events.publish_many(
                EVENT_TYPE,
                [event_payload(event, source=source, inbox_id=inbox_id) for event in parsed],
            )
        except Exception as exc:  # the body is safe in the inbox; republish_pending retries
            log.warning("webhook_publish_deferred", inbox_id=inbox_id, error=type(exc).__name__)
            return False
        return True

    def _publish(self, inbox_id: int, source: str, parsed: list[TrackingEvent]) -> None:
        if not self._publish_events(inbox_id, source, parsed):
            return
        with self.db.session() as session:
            row = session.get(WebhookInboxRow, inbox_id)
            if row is not None:
                row.status, row.processed_at = "published", utcnow()

    def republish_pending(self, *, limit: int = 500) -> int:
        """Bodies stored while the event log was down: parse again and publish."""
        with self.db.session() as session:
            pending = session.execute(
                select(
                    WebhookInboxRow.id,
                    WebhookInboxRow.source,
                    WebhookInboxRow.body,
                    WebhookInboxRow.headers,
                )
                .where(WebhookInboxRow.status == "pending")
                .order_by(WebhookInboxRow.id)
                .limit(limit)
            ).all()
        for inbox_id, source, body, headers in pending:  # verified on arrival already
            self._publish(inbox_id, source, self._parser(source)(headers, body))
        return len(pending)

    def _parser(self, source: str) -> Any:
        if source in self.sources.platforms:
            return self.sources.platforms[source].parse
        account = next(
            a.id for a in self.sources.directory.accounts.values() if a.carrier == source
        )
        return self.sources.directory.adapter(account).parse_webhook

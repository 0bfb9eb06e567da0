"""Webhook intake: verify → parse → persist the raw body → publish events → acknowledge.

Bodies that arrive together are stored together (``store`` takes a batch: one transaction, one
event-log round trip), which is what lets the API answer thousands of webhooks a second.

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

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

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


@dataclass(frozen=True)
class Checked:
    """A webhook whose signature held and whose body parsed: ready to be stored."""

    source: str
    account_id: str | None
    body: bytes
    digest: str
    headers: dict[str, str]
    events: list[TrackingEvent]
    correlation_id: str | None


class TrackingIngest:
    def __init__(self, *, db: Database, sources: SourceRegistry, events: EventLog) -> None:
        self.db = db
        self.sources = sources
        self.events = events

    def check(self, source: str, headers: Mapping[str, str], body: bytes) -> Checked:
        """Verify and parse one body; raises the 4xx a sender must see for its own request."""
        verified = self.sources.verify(source, headers, body)
        return Checked(
            source=source.lower(),
            account_id=verified.account_id,
            body=body,
            digest=hashlib.sha256(body).hexdigest(),
            headers={k.lower(): v for k, v in headers.items() if k.lower() in KEPT_HEADERS},
            events=verified.source.parse(headers, body),
            correlation_id=correlation_id_var.get(),
        )

    def store(self, batch: list[Checked]) -> list[Received]:
        """Persist checked bodies in one transaction (group commit), publish their events in
        one round trip, and say for each whether it was new or a redelivery.

        The inbox rows go in with one ``INSERT … ON CONFLICT DO NOTHING RETURNING``: a
        redelivery stops at the unique ``(source, body_sha256)`` without failing its
        neighbours, and a body twice in one batch is stored once. The rows are written as
        ``published`` — the usual outcome costs no UPDATE — and set back to ``pending`` in the
        same transaction when the event log is down. If the commit fails nobody is
        acknowledged and the senders retry; events already in the log then repeat and the
        projector's ``dedupe_key`` absorbs them.
        """
        first: dict[tuple[str, str], int] = {}
        for index, item in enumerate(batch):
            first.setdefault((item.source, item.digest), index)
        fresh = [batch[i] for i in sorted(first.values())]
        with self.db.session() as session:
            inserted = self._insert(session, fresh)
            stored = [item for item in fresh if (item.source, item.digest) in inserted]
            if stored and not self._publish_events(
                [
                    (inserted[(item.source, item.digest)], item.source, item.events)
                    for item in stored
                ]
            ):
                session.execute(
                    update(WebhookInboxRow)
                    .where(WebhookInboxRow.id.in_(list(inserted.values())))
                    .values(status="pending", processed_at=None)
                )
        results = []
        for index, item in enumerate(batch):
            key = (item.source, item.digest)
            new = first[key] == index and key in inserted
            WEBHOOKS_RECEIVED.labels(item.source, "accepted" if new else "duplicate").inc()
            results.append(Received(inserted[key] if new else None, not new, len(item.events)))
        return results

    def _insert(self, session: Session, items: list[Checked]) -> dict[tuple[str, str], int]:
        if not items:
            return {}
        now = utcnow()
        insert = pg_insert if self.db.engine.dialect.name == "postgresql" else sqlite_insert
        table = WebhookInboxRow.__table__
        # One cached statement run with many parameter sets: SQLAlchemy sends it as one
        # multi-row INSERT (its "insertmanyvalues"), without compiling SQL per batch size.
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["source", "body_sha256"])
            .returning(table.c.id, table.c.source, table.c.body_sha256)
        )
        rows = [
            {
                "source": item.source,
                "account_id": item.account_id,
                "body": item.body,
                "body_sha256": item.digest,
                "headers": item.headers,
                "events": len(item.events),
                "correlation_id": item.correlation_id,
                "status": "published",
                "received_at": now,
                "processed_at": now,
            }
            for item in items
        ]
        result = session.connection().execute(statement, rows)
        return {(source, digest): row_id for row_id, source, digest in result}

    def _publish_events(self, stored: list[tuple[int, str, list[TrackingEvent]]]) -> bool:
        """Every stored body's events to the log in one round trip; False when it is down."""
        try:
            self.events.publish_many(
                EVENT_TYPE,
                [
                    event_payload(event, source=source, inbox_id=inbox_id)
                    for inbox_id, source, events in stored
                    for event in events
                ],
            )
        except Exception as exc:  # the bodies are safe in the inbox; republish_pending retries
            log.warning(
                "webhook_publish_deferred",
                inbox_ids=[inbox_id for inbox_id, _, _ in stored][:20],
                error=type(exc).__name__,
            )
            return False
        return True

    def _publish(self, inbox_id: int, source: str, parsed: list[TrackingEvent]) -> None:
        if not self._publish_events([(inbox_id, source, parsed)]):
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

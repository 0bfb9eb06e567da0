"""Delivering Waybill's events to subscribers (customer notifications, analytics, a CRM).

Each delivery is a row (the delivery log) created when the event is consumed, so a subscriber
outage only delays: attempts back off exponentially (30 s doubling, capped at 6 h) for about two
days before the row is marked ``failed`` for on-call to replay. Bodies are signed like Stripe's:

    X-Waybill-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

so receivers can reject replays outside a time window as well as forgeries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, Field, SecretStr, TypeAdapter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.db import Database
from app.core.logging import get_logger
from app.store.tables import OutboundDeliveryRow

log = get_logger(__name__)

FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
MAX_ATTEMPTS = 14


class Subscriber(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr
    events: list[str] = Field(default_factory=lambda: ["*"])
    timeout_seconds: float = Field(default=5.0, gt=0, le=30)

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


def load_subscribers(raw: str | None) -> list[Subscriber]:
    return TypeAdapter(list[Subscriber]).validate_json(raw) if raw else []


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class OutboundDispatcher:
    def __init__(
        self,
        *,
        db: Database,
        subscribers: list[Subscriber],
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.subscribers = {s.name: s for s in subscribers}
        self.http = http or httpx.Client(follow_redirects=False)
        self.clock = clock

    def enqueue(self, event_id: str, event_type: str, payload: dict[str, Any]) -> int:
        """One delivery row per interested subscriber; a replayed event adds none."""
        created = 0
        for sub in self.subscribers.values():
            if not sub.wants(event_type):
                continue
            try:
                with self.db.session() as session:
                    session.add(
                        OutboundDeliveryRow(
                            subscriber=sub.name,
                            event_id=event_id,
                            event_type=event_type,
                            payload=payload,
                            next_attempt_at=self.clock(),
                        )
                    )
                created += 1
            except IntegrityError:
                continue
        return created

    def deliver_due(self, *, limit: int = 200) -> dict[str, int]:
        now = self.clock()
        with self.db.session() as session:
            due = (
                session.execute(
                    select(OutboundDeliveryRow.id)
                    .where(
                        OutboundDeliveryRow.status == "pending",
                        OutboundDeliveryRow.next_attempt_at <= now,
                    )
                    .order_by(OutboundDeliveryRow.id)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        counts = {"delivered": 0, "retry": 0, "failed": 0}
        for delivery_id in due:
            counts[self._attempt(delivery_id)] += 1
        return counts

    def _attempt(self, delivery_id: int) -> str:
        with self.db.session() as session:
            row = session.get(OutboundDeliveryRow, delivery_id)
            if row is None or row.status != "pending":
                return "delivered"
            sub = self.subscribers.get(row.subscriber)
            body = json.dumps(
                {"id": row.event_id, "type": row.event_type, "data": row.payload}, sort_keys=True
            ).encode()
            event_type, event_id, attempt = row.event_type, row.event_id, row.attempts + 1
        status_code: int | None = None
        error: str | None = None
        if sub is None:
            error = "subscriber no longer configured"
        else:
            stamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "X-Waybill-Event": event_type,
                "X-Waybill-Delivery": f"{event_id}:{delivery_id}",
                "X-Waybill-Signature": sign(sub.secret.get_secret_value(), body, stamp),
            }
            try:
                response = self.http.post(
                    sub.url, content=body, headers=headers, timeout=sub.timeout_seconds
                )
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
        return self._record(delivery_id, attempt, status_code, error)

    def _record(self, delivery_id: int, attempt: int, status: int | None, error: str | None) -> str:
        with self.db.session() as session:
            row = session.get(OutboundDeliveryRow, delivery_id)
            assert row is not None
            row.attempts, row.last_status_code, row.last_error = attempt, status, error
            if error is None:
                row.status, row.delivered_at = "delivered", self.clock()
                return "delivered"
            if attempt >= MAX_ATTEMPTS:
                row.status = "failed"
                log.error(
                    "outbound_webhook_failed",
                    subscriber=row.subscriber,
                    event_id=row.event_id,
                    attempts=attempt,
                    error=error,
                )
                return "failed"
            row.next_attempt_at = self.clock() + min(
                FIRST_BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF
            )
            return "retry"

"""``Idempotency-Key`` for mutating API calls (IETF draft-ietf-httpapi-idempotency-key-header).

    key missing where required              → 400 idempotency_key_missing
    same key, different payload             → 422 idempotency_key_reused
    same key while the first is in flight   → 409 idempotency_key_in_flight
    same key after completion               → the stored response, replayed
    retention                               → 24 h, then the key may be used afresh

A deterministic outcome (success or a 4xx the client must fix) is stored and replayed; a
transient failure (5xx, carrier down) releases the key so the client's retry runs again —
the booking path has its own fence against buying twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.core.db import Database
from app.core.errors import BadRequest, Conflict, Unprocessable
from app.store.tables import IdempotencyKeyRow

RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def require_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise BadRequest(
            "this operation requires an Idempotency-Key header", code="idempotency_key_missing"
        )
    key = key.strip().strip('"')  # the draft sends an sf-string: "abc"
    if len(key) > MAX_KEY_LENGTH:
        raise BadRequest(
            f"Idempotency-Key longer than {MAX_KEY_LENGTH} characters",
            code="idempotency_key_invalid",
        )
    return key


class IdempotencyStore:
    def __init__(self, db: Database, *, retention: timedelta = RETENTION) -> None:
        self.db = db
        self.retention = retention

    def begin(self, scope: str, key: str, request_hash: str) -> StoredResponse | None:
        """Claim the key; ``None`` means go ahead, a ``StoredResponse`` means replay it."""
        now = datetime.now(UTC)
        for _ in range(2):
            try:
                with self.db.session() as session:
                    session.add(
                        IdempotencyKeyRow(
                            scope=scope,
                            key=key,
                            request_hash=request_hash,
                            status="in_flight",
                            created_at=now,
                            expires_at=now + self.retention,
                        )
                    )
                return None
            except IntegrityError:
                pass
            with self.db.session() as session:
                row = session.get(IdempotencyKeyRow, (scope, key))
                if row is None:
                    continue  # released meanwhile: claim again
                if row.expires_at <= now:
                    session.delete(row)
                    continue
                if row.request_hash != request_hash:
                    raise Unprocessable(
                        "this Idempotency-Key was used with a different request",
                        code="idempotency_key_reused",
                    )
                if row.status == "in_flight":
                    raise Conflict(
                        "a request with this Idempotency-Key is still in progress",
                        code="idempotency_key_in_flight",
                    )
                return StoredResponse(row.response_status or 200, row.response_body or {})
        raise Conflict(
            "could not claim the Idempotency-Key; retry", code="idempotency_key_in_flight"
        )

    def complete(self, scope: str, key: str, status: int, body: dict[str, Any]) -> None:
        with self.db.session() as session:
            row = session.get(IdempotencyKeyRow, (scope, key))
            if row is not None:
                row.status = "completed"
                row.response_status = status
                row.response_body = body

    def release(self, scope: str, key: str) -> None:
        with self.db.session() as session:
            row = session.get(IdempotencyKeyRow, (scope, key))
            if row is not None and row.status == "in_flight":
                session.delete(row)

    def purge_expired(self) -> int:
        with self.db.session() as session:
            return (
                session.query(IdempotencyKeyRow)
                .filter(IdempotencyKeyRow.expires_at <= datetime.now(UTC))
                .delete()
            )

"""Reading the audit log: filters and keyset pagination, newest first.

Pagination is by ``id`` (insertion order, strictly increasing) rather than by offset: a page is
one index range scan however deep the caller goes, and rows written while paging never shift a
page. The cursor is opaque to callers (``next_cursor`` of the previous page) so the ordering can
change without breaking them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from app.core.db import Database
from app.core.errors import BadRequest
from app.store.tables import AuditRow

_CURSOR_PREFIX = "audit:v1:"


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    correlation_id: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None


@dataclass(frozen=True)
class AuditFilters:
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(cursor)
        value = int(text[len(_CURSOR_PREFIX) :])
        if value < 1:
            raise ValueError(cursor)
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest(
            "cursor is not a next_cursor of this endpoint", code="invalid_cursor"
        ) from exc


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # naive means UTC


def query_audit(
    db: Database, filters: AuditFilters, *, limit: int = 50, cursor: str | None = None
) -> AuditPage:
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit + 1)
    for column, value in (
        (AuditRow.actor, filters.actor),
        (AuditRow.action, filters.action),
        (AuditRow.target_type, filters.target_type),
        (AuditRow.target_id, filters.target_id),
        (AuditRow.correlation_id, filters.correlation_id),
    ):
        if value is not None:
            query = query.where(column == value)
    since, until = _aware(filters.since), _aware(filters.until)
    if since is not None:
        query = query.where(AuditRow.at >= since)
    if until is not None:
        query = query.where(AuditRow.at < until)
    if cursor:
        query = query.where(AuditRow.id < decode_cursor(cursor))
    with db.session() as session:
        rows = session.scalars(query).all()
        items = [AuditEntry.model_validate(r) for r in rows[:limit]]
    return AuditPage(
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None
    )

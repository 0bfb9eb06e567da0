"""Audit trail: who (API key, system actor) changed what, with before/after summaries."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.core.logging import correlation_id_var
from app.store.tables import AuditRow


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the caller's transaction, so it commits or rolls back with the change."""
    session.add(
        AuditRow(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
            correlation_id=correlation_id_var.get(),
        )
    )

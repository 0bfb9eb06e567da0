"""``GET /v1/audit``: who changed what, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from app.api.deps import get_ctx
from app.core.context import AppContext
from app.core.security import Role, require_roles
from app.core.security_audit import AuditFilters, AuditPage, query_audit

ADMIN = require_roles(Role.ADMIN)
router = APIRouter(prefix="/v1/audit", tags=["audit"], dependencies=[Depends(ADMIN)])

Text = Annotated[str | None, Query(min_length=1, max_length=128)]


@router.get(
    "",
    response_model=AuditPage,
    summary="Audit log, newest first (keyset pagination)",
    responses={400: {"description": "Malformed cursor"}},
)
async def audit_log(
    ctx: Annotated[AppContext, Depends(get_ctx)],
    actor: Text = None,
    action: Text = None,
    target_type: Text = None,
    target_id: Text = None,
    correlation_id: Text = None,
    since: Annotated[
        datetime | None, Query(description="Inclusive, ISO 8601 (no zone means UTC)")
    ] = None,
    until: Annotated[datetime | None, Query(description="Exclusive, ISO 8601")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=128, description="next_cursor")] = None,
) -> AuditPage:
    filters = AuditFilters(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        correlation_id=correlation_id,
        since=since,
        until=until,
    )
    return await run_in_threadpool(query_audit, ctx.db, filters, limit=limit, cursor=cursor)

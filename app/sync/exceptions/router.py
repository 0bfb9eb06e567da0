"""Triage routes: open exception suggestions, and a person's re-categorization."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.api.deps import get_ctx
from app.core.context import AppContext
from app.core.security import Principal, require_roles
from app.models import ExceptionCategory
from app.store.tables import SuggestionRow
from app.sync.exceptions.feedback import record_decision

router = APIRouter(prefix="/v1/triage", tags=["triage"])
Ctx = Annotated[AppContext, Depends(get_ctx)]
People = Annotated[Principal, Depends(require_roles("support", "dispatcher"))]


class FeedbackBody(BaseModel):
    decision: Literal["done", "cancelled", "recategorized"]
    category: ExceptionCategory | None = None
    note: str | None = Field(default=None, max_length=2000)


@router.get("", summary="Exception suggestions (open by default)")
async def suggestions(
    ctx: Ctx,
    _who: People,
    state: Annotated[Literal["open", "done", "dismissed"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    def load() -> list[dict[str, Any]]:
        with ctx.db.session() as session:
            rows = session.scalars(
                select(SuggestionRow)
                .where(SuggestionRow.kind == "triage", SuggestionRow.state == state)
                .order_by(SuggestionRow.created_at.desc())
                .limit(limit)
            ).all()
            return [
                {
                    "id": r.id,
                    "shipment_id": r.shipment_id,
                    "state": r.state,
                    "confidence": r.confidence,
                    "model_version": r.model_version,
                    "odoo_activity_id": r.odoo_activity_id,
                    **(r.payload or {}),
                }
                for r in rows
            ]

    return {"items": await run_in_threadpool(load)}


@router.post("/{suggestion_id}/feedback", summary="Record a person's decision (a training label)")
async def feedback(
    ctx: Ctx,
    principal: People,
    body: FeedbackBody,
    suggestion_id: Annotated[str, Path(max_length=40)],
) -> dict[str, Any]:
    row = await run_in_threadpool(
        lambda: record_decision(
            ctx.db,
            suggestion_id,
            body.decision,
            actor=principal.actor,
            note=body.note,
            category=body.category.value if body.category else None,
        )
    )
    return {"suggestion_id": suggestion_id, "decision": row.decision, "label": row.label}

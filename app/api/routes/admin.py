"""Operations routes for on-call: dead letters (list, show, replay, discard)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.concurrency import run_in_threadpool

from app.api.deps import get_ctx
from app.core.context import AppContext
from app.core.dlq import dead_letters_for
from app.core.security import require_roles

router = APIRouter(
    prefix="/v1/admin", tags=["operations"], dependencies=[Depends(require_roles())]
)  # admin only
Ctx = Annotated[AppContext, Depends(get_ctx)]
DeadId = Annotated[str, Path(max_length=160)]


@router.get("/dlq", summary="Dead-lettered jobs, oldest first")
async def dlq_list(ctx: Ctx) -> dict[str, Any]:
    items = await run_in_threadpool(dead_letters_for(ctx.queue).list)
    return {"items": [i.to_body() for i in items]}


@router.get("/dlq/{dead_id}", summary="One dead letter with its reason")
async def dlq_show(ctx: Ctx, dead_id: DeadId) -> dict[str, Any]:
    return (await run_in_threadpool(dead_letters_for(ctx.queue).show, dead_id)).to_body()


@router.post("/dlq/{dead_id}/replay", summary="Queue the job again (idempotent jobs only)")
async def dlq_replay(ctx: Ctx, dead_id: DeadId) -> dict[str, Any]:
    job_id = await run_in_threadpool(dead_letters_for(ctx.queue).replay, dead_id)
    return {"replayed": dead_id, "job_id": job_id}


@router.delete("/dlq/{dead_id}", summary="Drop a dead letter after handling it by hand")
async def dlq_discard(ctx: Ctx, dead_id: DeadId) -> dict[str, Any]:
    await run_in_threadpool(dead_letters_for(ctx.queue).discard, dead_id)
    return {"discarded": dead_id}

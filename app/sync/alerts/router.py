"""Alert routes: list degradation and at-risk alerts; acknowledge or resolve a degradation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool

from app.api.deps import get_ctx
from app.core.context import AppContext
from app.core.security import Principal, require_roles
from app.sync.alerts.anomalies import act, list_alerts
from app.sync.alerts.service import list_at_risk

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Ctx = Annotated[AppContext, Depends(get_ctx)]
People = Annotated[Principal, Depends(require_roles("support", "dispatcher"))]
AlertId = Annotated[str, Path(max_length=40)]


@router.get("", summary="Degradation alerts and shipments at risk, newest first")
async def alerts(
    ctx: Ctx,
    _who: People,
    kind: Annotated[Literal["all", "anomaly", "at_risk"], Query()] = "all",
    state: Annotated[Literal["open", "acknowledged", "resolved"] | None, Query()] = None,
    scope: Annotated[Literal["carrier", "service", "lane"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    def load() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if kind in ("all", "anomaly"):
            items += list_alerts(ctx.db, state=state, scope=scope, limit=limit)
        if kind in ("all", "at_risk") and scope is None and state != "acknowledged":
            items += list_at_risk(ctx.db, state=state, limit=limit)
        return items[:limit]

    return {"items": await run_in_threadpool(load)}


@router.post("/{alert_id}/ack", summary="Acknowledge a degradation alert (someone is on it)")
async def acknowledge(ctx: Ctx, principal: People, alert_id: AlertId) -> dict[str, Any]:
    return await run_in_threadpool(
        lambda: act(ctx.db, alert_id, "acknowledge", actor=principal.actor)
    )


@router.post("/{alert_id}/resolve", summary="Resolve a degradation alert")
async def resolve(ctx: Ctx, principal: People, alert_id: AlertId) -> dict[str, Any]:
    return await run_in_threadpool(lambda: act(ctx.db, alert_id, "resolve", actor=principal.actor))

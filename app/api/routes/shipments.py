"""Shipment read routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool

from app.api.deps import get_ctx
from app.core.context import AppContext
from app.models import ShipmentState
from app.sync.shipments.schemas import ShipmentDetail, ShipmentPage
from app.sync.shipments.service import get_shipment, list_shipments

router = APIRouter(prefix="/v1/shipments", tags=["shipments"])


@router.get("", response_model=ShipmentPage, summary="Shipments, newest first")
async def shipments(
    ctx: Annotated[AppContext, Depends(get_ctx)],
    state: Annotated[ShipmentState | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[str | None, Query(max_length=40, description="next_cursor")] = None,
) -> ShipmentPage:
    return await run_in_threadpool(
        list_shipments, ctx.db, state=state.value if state else None, limit=limit, before=before
    )


@router.get(
    "/{shipment_id}",
    response_model=ShipmentDetail,
    summary="One shipment",
    responses={404: {"description": "No such shipment"}},
)
async def shipment(
    ctx: Annotated[AppContext, Depends(get_ctx)],
    shipment_id: Annotated[str, Path(max_length=40)],
) -> ShipmentDetail:
    return await run_in_threadpool(get_shipment, ctx.db, shipment_id)

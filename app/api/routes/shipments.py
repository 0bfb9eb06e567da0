"""Shipment routes: read, book (idempotent), quote, cancel, download labels."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from app.api.deps import get_ctx
from app.core.context import AppContext
from app.core.errors import Conflict, Unprocessable, WaybillError
from app.core.idempotency import IdempotencyStore, fingerprint, require_key
from app.core.ratelimit import per_key_rate_limit
from app.core.security import Principal, require_roles
from app.models import ShipmentRequest, ShipmentState
from app.sync.booking.approval import choose_quote
from app.sync.booking.jobs import build_booking
from app.sync.eta.jobs import build_eta
from app.sync.eta.service import latest_eta
from app.sync.shipments import commands
from app.sync.shipments.schemas import CancelView, QuotesView, ShipmentDetail, ShipmentPage
from app.sync.shipments.service import get_label, get_shipment, list_shipments

router = APIRouter(prefix="/v1", tags=["shipments"])
ShipmentId = Annotated[str, Path(max_length=40)]
Ctx = Annotated[AppContext, Depends(get_ctx)]
Reader = Annotated[Principal, Depends(require_roles("dispatcher", "support", "integration"))]
Lister = Annotated[
    Principal, Depends(require_roles("dispatcher", "support", "integration", "data_scientist"))
]
Writer = Annotated[Principal, Depends(require_roles("dispatcher", "integration"))]


@router.get("/shipments", response_model=ShipmentPage, summary="Shipments, newest first")
async def shipments(
    ctx: Ctx,
    _who: Lister,
    state: Annotated[ShipmentState | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[str | None, Query(max_length=40, description="next_cursor")] = None,
) -> ShipmentPage:
    return await run_in_threadpool(
        list_shipments, ctx.db, state=state.value if state else None, limit=limit, before=before
    )


@router.post(
    "/shipments",
    status_code=201,
    summary="Book a shipment now (requires Idempotency-Key)",
    responses={
        201: {"model": ShipmentDetail, "description": "Booked; labels attached"},
        202: {"description": "Stored; a dispatcher must decide (reason given)"},
        400: {"description": "Idempotency-Key missing"},
        409: {"description": "Same key still in flight"},
        422: {"description": "Invalid request, unknown carrier, or the carrier refused"},
        502: {"description": "Carrier unavailable; retry with the same key"},
    },
)
async def book_shipment(
    body: commands.BookShipmentBody,
    ctx: Ctx,
    principal: Writer,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    key = require_key(idempotency_key)
    store = IdempotencyStore(ctx.db)
    scope = f"POST /v1/shipments:{principal.key_id}"  # keys never share idempotency keys
    replay = await run_in_threadpool(
        store.begin, scope, key, fingerprint(body.model_dump(mode="json"))
    )
    if replay is not None:
        return JSONResponse(
            replay.body, status_code=replay.status, headers={"Idempotent-Replayed": "true"}
        )
    try:
        status, payload = await run_in_threadpool(
            commands.book_direct, ctx, body, idempotency_key=key, actor=principal.actor
        )
    except WaybillError as exc:
        if exc.retryable or exc.http_status >= 500:
            await run_in_threadpool(store.release, scope, key)
        else:
            await run_in_threadpool(store.complete, scope, key, exc.http_status, exc.to_body())
        raise
    except BaseException:
        await run_in_threadpool(store.release, scope, key)
        raise
    await run_in_threadpool(store.complete, scope, key, status, payload)
    return JSONResponse(payload, status_code=status)


@router.get(
    "/shipments/{shipment_id}",
    response_model=ShipmentDetail,
    summary="One shipment",
    responses={404: {"description": "No such shipment"}},
)
async def shipment(ctx: Ctx, _who: Reader, shipment_id: ShipmentId) -> ShipmentDetail:
    return await run_in_threadpool(get_shipment, ctx.db, shipment_id)


@router.get(
    "/shipments/{shipment_id}/eta",
    summary="Delivery-time prediction (p10/p50/p90/p95)",
    responses={404: {"description": "No such shipment"}},
)
async def shipment_eta(ctx: Ctx, _who: Reader, shipment_id: ShipmentId) -> dict[str, Any]:
    def load() -> dict[str, Any]:
        get_shipment(ctx.db, shipment_id)  # 404 for an unknown shipment
        stored = latest_eta(ctx.db, shipment_id)
        if stored is None:
            prediction = build_eta(ctx).update(shipment_id)
            stored = latest_eta(ctx.db, shipment_id) if prediction else None
        if stored is None:
            raise Unprocessable("no prediction for this shipment yet", code="eta_unavailable")
        return stored

    return await run_in_threadpool(load)


class ChooseBody(BaseModel):
    carrier_account: str = Field(min_length=1, max_length=64)
    service: str = Field(min_length=1, max_length=64)


@router.post(
    "/shipments/{shipment_id}/choose",
    response_model=ShipmentDetail,
    summary="A dispatcher picks one of the shipment's quotes; it is booked now",
    responses={
        404: {"description": "No such shipment"},
        409: {"description": "Not waiting for a choice"},
        422: {"description": "Not one of the shipment's quotes"},
    },
)
async def choose_quote_route(
    ctx: Ctx, principal: Writer, shipment_id: ShipmentId, body: ChooseBody
) -> ShipmentDetail:
    def run() -> ShipmentDetail:
        choose_quote(
            ctx.db,
            shipment_id,
            account=body.carrier_account,
            service=body.service,
            actor=principal.actor,
        )
        build_booking(ctx).book_shipment(shipment_id)
        return get_shipment(ctx.db, shipment_id)

    return await run_in_threadpool(run)


@router.post(
    "/shipments/{shipment_id}/cancel",
    response_model=CancelView,
    summary="Void the label (or close the intent if nothing was bought)",
    responses={
        404: {"description": "No such shipment"},
        409: {"description": "The carrier refused to void"},
    },
)
async def cancel_shipment(ctx: Ctx, principal: Writer, shipment_id: ShipmentId) -> CancelView:
    result = await run_in_threadpool(commands.cancel, ctx, shipment_id, actor=principal.actor)
    if not result.accepted:
        raise Conflict(
            f"the carrier refused to void: {result.detail}",
            code="cancel_rejected",
            details=result.model_dump(),
        )
    return result


@router.get(
    "/shipments/{shipment_id}/labels/{label_id}",
    summary="Label file (PDF, ZPL, PNG)",
    responses={200: {"content": {"application/pdf": {}, "application/zpl": {}}}},
)
async def label_file(
    ctx: Ctx,
    _who: Reader,
    shipment_id: ShipmentId,
    label_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    data, media, name = await run_in_threadpool(get_label, ctx.db, shipment_id, label_id)
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/rates", response_model=QuotesView, summary="Quotes for a stored shipment")
async def rates_for_shipment(
    ctx: Ctx, _who: Reader, shipment_id: Annotated[str, Query(max_length=40)]
) -> QuotesView:
    return await run_in_threadpool(commands.quote_shipment, ctx, shipment_id)


@router.post("/rates", response_model=QuotesView, summary="Quotes for a shipment request")
async def rates_for_request(
    ctx: Ctx,
    request: ShipmentRequest,
    _who: Writer,
    _budget: Annotated[None, Depends(per_key_rate_limit("rates", per_minute=60))] = None,
) -> QuotesView:
    return await run_in_threadpool(commands.quote, ctx, request)

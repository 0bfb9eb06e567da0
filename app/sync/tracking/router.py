"""``POST /v1/webhooks/{source}``: signed tracking pushes from carriers and platforms."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from app.api.deps import get_ctx
from app.core.context import AppContext
from app.core.errors import WaybillError
from app.core.group_commit import GroupCommit
from app.core.logging import get_logger
from app.sync.intake.router import read_limited
from app.sync.tracking.ingest import Checked, Received
from app.sync.tracking.jobs import store_webhooks, tracking_ingest
from app.sync.tracking.metrics import WEBHOOKS_RECEIVED

log = get_logger(__name__)
router = APIRouter(prefix="/v1/webhooks", tags=["tracking webhooks"])


@router.post(
    "/{source}",
    summary="Tracking webhook (signature-authenticated; no API key)",
    responses={
        400: {"description": "Body is not a tracking event of this source"},
        401: {"description": "Missing or wrong signature"},
        404: {"description": "Unknown source"},
        413: {"description": "Body too large"},
    },
)
async def tracking_webhook(
    request: Request,
    source: Annotated[str, Path(max_length=32, pattern=r"^[a-z0-9_]+$")],
    ctx: Annotated[AppContext, Depends(get_ctx)],
) -> JSONResponse:
    body = await read_limited(request, ctx.settings.webhook_max_body_bytes)
    try:
        # Signature and parsing are the sender's own answer (4xx); storing is shared with the
        # webhooks arriving alongside (one transaction for all of them).
        checked = tracking_ingest(ctx).check(source, request.headers, body)
    except WaybillError as exc:
        WEBHOOKS_RECEIVED.labels(source, exc.code).inc()
        log.warning("tracking_webhook_rejected", source=source, code=exc.code)
        raise
    received = await _group_commit(request, ctx).submit(checked)
    status = "duplicate" if received.duplicate else "accepted"
    return JSONResponse({"status": status, "events": received.events})


def _group_commit(request: Request, ctx: AppContext) -> GroupCommit[Checked, Received]:
    state = request.app.state
    batcher = getattr(state, "tracking_group_commit", None)
    if batcher is None:
        batcher = state.tracking_group_commit = GroupCommit(partial(store_webhooks, ctx))
    return batcher  # type: ignore[no-any-return]

"""``POST /v1/odoo/webhook``: Odoo's automation-rule webhook, treated as a hint.

Odoo's webhook action sends no signature and only ``Content-Type`` (reference §4.1), so the
shared secret travels in the URL configured on the server action (``?token=…``). Odoo gives up
after 1 s and never retries; the answer therefore comes within that budget, and what cannot be
decided in time is stored and settled in the background.
"""

from __future__ import annotations

import hmac
import json

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app.api.deps import get_ctx
from app.api.errors import validation_details
from app.core.context import AppContext
from app.core.errors import BadRequest, PayloadTooLarge, Unauthorized, Unprocessable
from app.core.logging import get_logger
from app.sync.intake.jobs import build_intake
from app.sync.intake.metrics import WEBHOOK_REJECTED
from app.sync.intake.schemas import PICKING_MODEL, OdooWebhookPayload

log = get_logger(__name__)
router = APIRouter(prefix="/v1/odoo", tags=["odoo intake"])

STATUS_BY_OUTCOME = {"created": 201, "deferred": 202}

ERROR_RESPONSES = {
    400: {"description": "Body is not a JSON object"},
    401: {"description": "Missing or wrong token"},
    404: {"description": "The picking does not exist in Odoo"},
    413: {"description": "Body larger than the configured limit"},
    422: {"description": "Payload lacks `_model`/`_id`, or the model is not supported"},
}


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body exceeds {limit} bytes", details={"limit": limit})
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(f"body exceeds {limit} bytes", details={"limit": limit})
    return bytes(body)


def _reject(reason: str, exc: Exception) -> Exception:
    WEBHOOK_REJECTED.labels(reason).inc()
    log.warning("odoo_webhook_rejected", reason=reason)
    return exc


def parse_payload(body: bytes) -> OdooWebhookPayload:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _reject(
            "malformed", BadRequest(f"body is not valid JSON: {exc}", code="malformed_body")
        ) from exc
    if not isinstance(data, dict):
        raise _reject(
            "malformed",
            BadRequest(
                'body must be a JSON object like {"_model": ..., "_id": ...}',
                code="malformed_body",
            ),
        )
    try:
        payload = OdooWebhookPayload.model_validate(data)
    except ValidationError as exc:
        raise _reject(
            "invalid",
            Unprocessable(
                "payload is not an Odoo webhook notification",
                details=validation_details(list(exc.errors())),
            ),
        ) from exc
    if payload.model != PICKING_MODEL:
        raise _reject(
            "unsupported_model",
            Unprocessable(
                f"model {payload.model!r} is not handled; send stock.picking notifications",
                code="unsupported_model",
                details={"model": payload.model, "supported": [PICKING_MODEL]},
            ),
        )
    return payload


@router.post(
    "/webhook",
    summary="Odoo automation-rule webhook (a hint: the picking is re-read)",
    responses=ERROR_RESPONSES,
)
async def odoo_webhook(
    request: Request,
    token: str | None = Query(default=None, description="Shared secret set in the Odoo action"),
    ctx: AppContext = Depends(get_ctx),
) -> JSONResponse:
    expected = ctx.settings.odoo_webhook_token.get_secret_value()
    if not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise _reject("unauthorized", Unauthorized("missing or wrong webhook token"))
    body = await read_limited(request, ctx.settings.webhook_max_body_bytes)
    payload = parse_payload(body)
    outcome = await run_in_threadpool(build_intake(ctx, fast=True).handle_hint, payload)
    return JSONResponse(
        status_code=STATUS_BY_OUTCOME.get(outcome.status, 200), content=outcome.to_body()
    )

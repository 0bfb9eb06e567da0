"""``/v1/keys``: API key management for admins (the bootstrap admin key included).

The key is in the body of the creation response and nowhere else, ever: listings show the id,
name, roles and dates; the response is marked ``Cache-Control: no-store``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.api.deps import get_ctx
from app.core.context import AppContext
from app.core.errors import Unprocessable
from app.core.security import (
    BOOTSTRAP_KEY_ID,
    DEV_KEY_ID,
    Principal,
    Role,
    key_tag,
    require_roles,
    security_config,
)
from app.core.security_keys import create_api_key, list_api_keys, revoke_api_key

ADMIN = require_roles(Role.ADMIN)
router = APIRouter(prefix="/v1/keys", tags=["api keys"], dependencies=[Depends(ADMIN)])
Ctx = Annotated[AppContext, Depends(get_ctx)]
Admin = Annotated[Principal, Depends(ADMIN)]
KeyId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-z]+$")]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class CreateKeyBody(BaseModel):
    name: str = Field(min_length=1, max_length=128, description="Who or what uses the key")
    roles: list[Role] = Field(min_length=1)
    expires_in_days: int | None = Field(
        default=365, ge=1, le=3650, description="Omit with never_expires=true for no expiry"
    )
    never_expires: bool = False
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)


class KeyView(BaseModel):
    id: str
    name: str
    roles: list[str]
    status: str
    created_at: str
    created_by: str
    expires_at: str | None
    revoked_at: str | None
    revoked_by: str | None
    last_used_at: str | None
    rate_limit_per_minute: int | None


class CreatedKeyView(KeyView):
    key: str = Field(description="Shown once; store it now")


class RevokeBody(BaseModel):
    reason: str | None = Field(default=None, max_length=200)


def _create(ctx: AppContext, body: CreateKeyBody, actor: str) -> dict[str, Any]:
    if body.never_expires:
        expires_at = None
    elif body.expires_in_days is None:
        raise Unprocessable("give expires_in_days or never_expires=true", code="invalid_expiry")
    else:
        expires_at = datetime.now(UTC) + timedelta(days=body.expires_in_days)
    created = create_api_key(
        ctx.db,
        pepper=security_config(ctx.settings).pepper,
        name=body.name,
        roles=[r.value for r in body.roles],
        created_by=actor,
        expires_at=expires_at,
        tag=key_tag(ctx.settings),
        rate_limit_per_minute=body.rate_limit_per_minute,
    )
    return {**created.info.to_dict(), "key": created.key}


@router.post(
    "",
    status_code=201,
    response_model=CreatedKeyView,
    summary="Create an API key (the key is shown once, in this response)",
)
async def create_key(ctx: Ctx, principal: Admin, body: CreateKeyBody) -> JSONResponse:
    view = await run_in_threadpool(_create, ctx, body, principal.actor)
    return JSONResponse(view, status_code=201, headers=NO_STORE)


@router.get("", response_model=list[KeyView], summary="API keys (never the keys themselves)")
async def keys(
    ctx: Ctx,
    include_inactive: Annotated[bool, Query(description="Include revoked and expired")] = False,
) -> list[dict[str, Any]]:
    infos = await run_in_threadpool(list_api_keys, ctx.db, include_inactive=include_inactive)
    return [i.to_dict() for i in infos]


@router.post(
    "/{key_id}/revoke",
    response_model=KeyView,
    summary="Revoke an API key at once (idempotent)",
    responses={404: {"description": "No such key"}},
)
async def revoke_key(
    ctx: Ctx, principal: Admin, key_id: KeyId, body: RevokeBody | None = None
) -> dict[str, Any]:
    if key_id in (BOOTSTRAP_KEY_ID, DEV_KEY_ID):
        raise Unprocessable(
            f"the {key_id} key is configured, not stored: change the settings instead",
            code="key_not_revocable",
        )
    info = await run_in_threadpool(
        revoke_api_key, ctx.db, key_id, actor=principal.actor, reason=body.reason if body else None
    )
    return info.to_dict()

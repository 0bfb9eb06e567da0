"""Per-key rate limiting for the API, on the shared Redis token bucket (``app.core.token_bucket``).

Each API key owns a bucket of ``burst`` tokens refilled at ``per_minute / 60`` tokens a second;
a request takes one token or is refused with 429 and ``Retry-After`` (seconds until a token is
back). Every API process spends from the same bucket, so the limit holds across a scaled-out API.

``require_roles`` applies the key's limit on every guarded route; ``per_key_rate_limit`` adds a
tighter budget to one expensive route (e.g. live carrier quotes). When Redis is unreachable the
limiter lets the request through and logs it: losing rate limiting for a minute is better than
losing the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import redis
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from app.core.errors import WaybillError
from app.core.logging import get_logger
from app.core.token_bucket import KEY_PREFIX, TOKEN_BUCKET_LUA, Decision, TokenBucket

if TYPE_CHECKING:
    from app.core.context import AppContext
    from app.core.security import Principal

log = get_logger(__name__)

SCOPE_KEY = "waybill.security"  # a dict in the ASGI scope shared with the challenge middleware
__all__ = [
    "KEY_PREFIX",
    "SCOPE_KEY",
    "TOKEN_BUCKET_LUA",
    "Decision",
    "RateLimited",
    "TokenBucket",
    "enforce_key_limit",
    "per_key_rate_limit",
]


class RateLimited(WaybillError):
    code = "rate_limited"
    http_status = 429


def bucket_for(ctx: AppContext) -> TokenBucket:
    bucket = ctx.extras.get("rate_limiter")
    if bucket is None:
        bucket = ctx.extras["rate_limiter"] = TokenBucket(ctx.redis)
    return bucket  # type: ignore[no-any-return]


def key_limits(settings: Any, principal: Principal) -> tuple[int, float] | None:
    """``(capacity, tokens per second)`` for a key, or ``None`` when limiting is off."""
    per_minute = principal.rate_limit_per_minute or int(
        getattr(settings, "rate_limit_per_minute", 600)
    )
    if per_minute <= 0:
        return None
    burst = int(getattr(settings, "rate_limit_burst", 120))
    return max(1, min(burst, per_minute)), per_minute / 60.0


def _take_or_raise(
    ctx: AppContext,
    name: str,
    capacity: int,
    per_second: float,
    holder: dict[str, Any] | None,
) -> Decision | None:
    try:
        decision = bucket_for(ctx).take(name, capacity=capacity, per_second=per_second)
    except redis.RedisError as exc:
        log.warning("rate_limit_unavailable", error=type(exc).__name__)
        return None
    if not decision.allowed:
        if holder is not None:
            holder["retry_after"] = decision.retry_after_header
        raise RateLimited(
            "too many requests for this API key; retry later",
            details={"retry_after": int(decision.retry_after_header), "limit": decision.limit},
        )
    return decision


def enforce_key_limit(
    ctx: AppContext, principal: Principal, holder: dict[str, Any] | None = None
) -> Decision | None:
    """Spend one token of the key's bucket or raise ``RateLimited`` (429)."""
    limits = key_limits(ctx.settings, principal)
    if limits is None:
        return None
    capacity, per_second = limits
    return _take_or_raise(ctx, f"key:{principal.key_id}", capacity, per_second, holder)


def per_key_rate_limit(
    scope: str, *, per_minute: int, burst: int | None = None
) -> Callable[[Request], Awaitable[None]]:
    """A dependency adding a route-specific budget per key, on top of the key's own limit.

    List it after the route's ``require_roles`` dependency (router dependencies run first), as
    it reads the principal that dependency stored on the request.
    """
    capacity = max(1, burst if burst is not None else per_minute)

    async def dependency(request: Request) -> None:
        principal = getattr(request.state, "principal", None)
        if principal is None:
            raise RuntimeError("per_key_rate_limit needs require_roles to run first")
        ctx = request.app.state.ctx
        holder = request.scope.setdefault(SCOPE_KEY, {})
        await run_in_threadpool(
            _take_or_raise,
            ctx,
            f"{scope}:key:{principal.key_id}",
            capacity,
            per_minute / 60.0,
            holder,
        )

    return dependency

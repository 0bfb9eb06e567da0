"""Per-key rate limiting: a token bucket in Redis, updated by one atomic Lua script.

Each API key owns a bucket of ``burst`` tokens refilled at ``per_minute / 60`` tokens a second;
a request takes one token or is refused with 429 and ``Retry-After`` (seconds until a token is
back). The script reads the clock with Redis ``TIME``, so every API process shares one clock and
two processes racing on the same key cannot both spend the last token. It runs on a real Redis
(5 or later: scripts replicate their effects) and on fakeredis with Lua (the embedded mode).

``require_roles`` applies the key's limit on every guarded route; ``per_key_rate_limit`` adds a
tighter budget to one expensive route (e.g. live carrier quotes). When Redis is unreachable the
limiter lets the request through and logs it: losing rate limiting for a minute is better than
losing the API.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from app.core.errors import WaybillError
from app.core.logging import get_logger

if TYPE_CHECKING:
    from app.core.context import AppContext
    from app.core.security import Principal

log = get_logger(__name__)

SCOPE_KEY = "waybill.security"  # a dict in the ASGI scope shared with the challenge middleware
KEY_PREFIX = "waybill:ratelimit:"

TOKEN_BUCKET_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])          -- tokens per second
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])   -- microseconds
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
tokens = math.min(capacity, tokens + elapsed * rate / 1000000)
local allowed = 0
local wait_us = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait_us = math.ceil((cost - tokens) * 1000000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens),
           'ts', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, string.format('%.6f', tokens), wait_us}
"""


class RateLimited(WaybillError):
    code = "rate_limited"
    http_status = 429


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: float
    retry_after: float  # seconds; 0 when allowed
    limit: int

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


class TokenBucket:
    """Buckets in one Redis; ``take`` is a single round trip (EVALSHA, EVAL on a cold cache)."""

    def __init__(self, conn: redis.Redis, *, prefix: str = KEY_PREFIX) -> None:
        self.conn = conn
        self.prefix = prefix
        self._script = conn.register_script(TOKEN_BUCKET_LUA)

    def take(self, name: str, *, capacity: int, per_second: float, cost: int = 1) -> Decision:
        if capacity < 1 or per_second <= 0:
            raise ValueError("capacity must be >= 1 and per_second > 0")
        allowed, remaining, wait_us = self._script(
            keys=[self.prefix + name], args=[capacity, repr(float(per_second)), cost]
        )
        return Decision(
            allowed=bool(int(allowed)),
            remaining=float(remaining),
            retry_after=int(wait_us) / 1_000_000,
            limit=capacity,
        )

    def reset(self, name: str) -> None:
        self.conn.delete(self.prefix + name)


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

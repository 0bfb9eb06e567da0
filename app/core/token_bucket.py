"""One token bucket in Redis, updated by one atomic Lua script, for every limiter in Waybill.

A bucket holds ``capacity`` tokens refilled at ``per_second``; a caller takes one token or learns
how long until one is back. The script reads the clock with Redis ``TIME``, so every process (API
or worker) shares one clock and two processes racing on the same key cannot both spend the last
token. It runs on a real Redis (5 or later: scripts replicate their effects) and on fakeredis
with Lua (the embedded mode).

Users: the per-API-key limiter (``app.core.ratelimit``) and the per-carrier-account limiter
(``app.core.carrier_limits``); each keeps its buckets under its own key prefix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import redis

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

"""Per-carrier-account rate limits: one Redis token bucket per account, shared by every worker.

Carriers throttle per account (a 429 and, for repeat offenders, a suspended key), so the budget
must hold across all workers and hosts, not per process: the bucket lives in Redis
(``app.core.token_bucket``, the same script the API limiter uses). A call that finds the bucket
empty waits for a token when one is due soon (``max_wait_seconds``); otherwise it is *deferred*:
the caller raises a retryable error and the job backs off. A throttled call never fails an
intent, and never reaches the carrier to earn a real 429.

The default rate comes from settings; an account overrides it in its JSON with
``"options": {"rate_limit": {"per_second": 2, "burst": 5}}`` (``per_second: 0`` turns it off).
When Redis is unreachable the limiter lets the call through and logs it, like the API limiter:
the carrier's own 429s (retryable) remain the backstop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field

from app.core.logging import get_logger
from app.core.token_bucket import TokenBucket

if TYPE_CHECKING:
    from app.carriers.accounts import CarrierAccount
    from app.core.config import Settings

log = get_logger(__name__)

KEY_PREFIX = "waybill:carrier-rate:"
CARRIER_THROTTLED = Counter(
    "waybill_carrier_throttled_total",
    "Carrier calls held back by Waybill's own per-account rate limit "
    "(outcome: waited = delayed, then sent; deferred = the job backs off).",
    ["account", "outcome"],
)


class CarrierRate(BaseModel):
    """A per-account budget: ``burst`` calls at once, refilled at ``per_second``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_second: float = Field(ge=0)
    burst: int = Field(default=1, ge=1)


@dataclass(frozen=True)
class Permit:
    allowed: bool
    waited: float  # seconds spent waiting for a token
    retry_after: float  # seconds until a token is due; 0 when allowed


class AccountLimit:
    """The limiter bound to one account: what ``GuardedAdapter`` calls before each request."""

    def __init__(self, limiter: CarrierRateLimiter, account_id: str, rate: CarrierRate) -> None:
        self.limiter = limiter
        self.account_id = account_id
        self.rate = rate

    def acquire(self) -> Permit:
        return self.limiter.acquire(self.account_id, self.rate)


class CarrierRateLimiter:
    def __init__(
        self,
        conn: redis.Redis,
        *,
        default: CarrierRate | None,
        max_wait_seconds: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bucket = TokenBucket(conn, prefix=KEY_PREFIX)
        self.default = default
        self.max_wait = max_wait_seconds
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Settings, conn: redis.Redis) -> CarrierRateLimiter:
        default = (
            CarrierRate(
                per_second=settings.carrier_rate_per_second, burst=settings.carrier_rate_burst
            )
            if settings.carrier_rate_per_second > 0
            else None
        )
        return cls(conn, default=default, max_wait_seconds=settings.carrier_rate_max_wait_seconds)

    def rate_for(self, account: CarrierAccount) -> CarrierRate | None:
        """The account's own budget when its JSON sets one, else the default; None = unlimited.
        A malformed override raises at start-up, not at the first booking."""
        raw: Any = account.options.get("rate_limit")
        rate = CarrierRate.model_validate(raw) if raw is not None else self.default
        return rate if rate is not None and rate.per_second > 0 else None

    def for_account(self, account: CarrierAccount) -> AccountLimit | None:
        rate = self.rate_for(account)
        return AccountLimit(self, account.id, rate) if rate is not None else None

    def acquire(self, account_id: str, rate: CarrierRate) -> Permit:
        """Take one token, waiting while the next one is due within the remaining wait budget."""
        waited = 0.0
        while True:
            try:
                decision = self.bucket.take(
                    account_id, capacity=rate.burst, per_second=rate.per_second
                )
            except redis.RedisError as exc:
                log.warning("carrier_rate_limit_unavailable", account=account_id, error=str(exc))
                return Permit(True, waited, 0.0)
            if decision.allowed:
                if waited:
                    CARRIER_THROTTLED.labels(account_id, "waited").inc()
                return Permit(True, waited, 0.0)
            if waited + decision.retry_after > self.max_wait:
                CARRIER_THROTTLED.labels(account_id, "deferred").inc()
                log.info(
                    "carrier_call_deferred",
                    account=account_id,
                    retry_after=round(decision.retry_after, 3),
                    waited=round(waited, 3),
                )
                return Permit(False, waited, decision.retry_after)
            pause = max(decision.retry_after, 0.001)
            self._sleep(pause)
            waited += pause

"""A carrier adapter behind its account's circuit breaker and rate limit.

Order per call: the breaker first (an open circuit fails fast without spending a token), then
the account's token bucket (wait briefly, or defer with a retryable error), then the carrier.
Both guards keep their state in Redis; when Redis is unreachable they step aside (log, allow)
rather than turn a Redis hiccup into a failed carrier call — or worse, into an exception after
a label was bought, which would leave its booking in doubt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import redis

from app.carriers.base import CarrierAdapter, Headers
from app.carriers.errors import CarrierError, CarrierRateLimitedError, CarrierUnavailableError
from app.core.breaker import CircuitBreaker
from app.core.carrier_limits import AccountLimit
from app.core.logging import get_logger
from app.models import (
    BookingResult,
    CancelResult,
    CarrierCapabilities,
    LabelFormat,
    Rate,
    ShipmentRequest,
    TrackingEvent,
)

T = TypeVar("T")
log = get_logger(__name__)


class CircuitOpenError(CarrierUnavailableError):
    code = "carrier_circuit_open"


class CarrierThrottledError(CarrierRateLimitedError):
    """Our own per-account budget is spent: nothing was sent, the job backs off and retries."""

    code = "carrier_throttled"


class GuardedAdapter:
    def __init__(
        self,
        inner: CarrierAdapter,
        breaker: CircuitBreaker | None,
        limit: AccountLimit | None = None,
    ) -> None:
        self.inner = inner
        self.breaker = breaker
        self.limit = limit
        self.code = inner.code
        self.account_id = inner.account_id

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._breaker(lambda b: b.allow(), default=True):
            raise CircuitOpenError(
                f"{self.account_id} is failing; calls paused while its circuit is open",
                carrier=self.code,
            )
        if self.limit is not None:
            permit = self.limit.acquire()
            if not permit.allowed:
                raise CarrierThrottledError(
                    f"{self.account_id}: Waybill's rate limit for this account is spent; "
                    "the call is deferred",
                    retry_after=round(permit.retry_after, 3),
                    carrier=self.code,
                )
        try:
            result = fn(*args, **kwargs)
        except CarrierError as exc:
            if exc.retryable:
                self._breaker(lambda b: b.record_failure())
            else:
                self._breaker(lambda b: b.record_success())  # it answered: the carrier is up
            raise
        self._breaker(lambda b: b.record_success())
        return result

    def _breaker(self, op: Callable[[CircuitBreaker], Any], default: Any = None) -> Any:
        if self.breaker is None:
            return default
        try:
            return op(self.breaker)
        except redis.RedisError as exc:
            log.warning("circuit_state_unavailable", account=self.account_id, error=str(exc))
            return default

    def capabilities(self) -> CarrierCapabilities:
        return self.inner.capabilities()

    def rate(self, request: ShipmentRequest) -> list[Rate]:
        return self._call(self.inner.rate, request)

    def book(
        self,
        request: ShipmentRequest,
        rate: Rate,
        *,
        idempotency_key: str,
        label_format: LabelFormat = LabelFormat.PDF,
    ) -> BookingResult:
        return self._call(
            self.inner.book,
            request,
            rate,
            idempotency_key=idempotency_key,
            label_format=label_format,
        )

    def cancel(
        self, booking: BookingResult | str, *, tracking_numbers: list[str] | None = None
    ) -> CancelResult:
        return self._call(self.inner.cancel, booking, tracking_numbers=tracking_numbers)

    def track(self, tracking_numbers: list[str]) -> list[TrackingEvent]:
        return self._call(self.inner.track, tracking_numbers)

    def verify_webhook(self, headers: Headers, body: bytes) -> None:
        self.inner.verify_webhook(headers, body)  # local work: no breaker

    def parse_webhook(self, headers: Headers, body: bytes) -> list[TrackingEvent]:
        return self.inner.parse_webhook(headers, body)

"""A carrier adapter behind its account's circuit breaker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from app.carriers.base import CarrierAdapter, Headers
from app.carriers.errors import CarrierError, CarrierUnavailableError
from app.core.breaker import CircuitBreaker
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


class CircuitOpenError(CarrierUnavailableError):
    code = "carrier_circuit_open"


class GuardedAdapter:
    def __init__(self, inner: CarrierAdapter, breaker: CircuitBreaker) -> None:
        self.inner = inner
        self.breaker = breaker
        self.code = inner.code
        self.account_id = inner.account_id

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self.breaker.allow():
            raise CircuitOpenError(
                f"{self.account_id} is failing; calls paused while its circuit is open",
                carrier=self.code,
            )
        try:
            result = fn(*args, **kwargs)
        except CarrierError as exc:
            if exc.retryable:
                self.breaker.record_failure()
            else:
                self.breaker.record_success()  # it answered: the carrier is up
            raise
        self.breaker.record_success()
        return result

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

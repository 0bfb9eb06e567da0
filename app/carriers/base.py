"""The one interface every carrier adapter implements (DESIGN §6).

Adapters are synchronous on purpose: the SDK underneath blocks on stdlib HTTP and calls
``asyncio.run`` inside some operations, so callers run adapters in RQ jobs or a threadpool
(``anyio.to_thread.run_sync``), never directly in an ``async def``.

Everything crossing this interface is canonical (``app.models``): no SDK objects leak out, which is
what lets one carrier be re-implemented by hand without touching booking or tracking code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from app.models import (
    BookingResult,
    CancelResult,
    CarrierCapabilities,
    LabelFormat,
    Rate,
    ShipmentRequest,
    TrackingEvent,
)

Headers = Mapping[str, str]


@runtime_checkable
class CarrierAdapter(Protocol):
    """A carrier account, spoken to in Waybill's vocabulary.

    Errors are ``app.carriers.errors.CarrierError`` subclasses; ``retryable`` on the class says
    whether backing off can help.
    """

    code: str
    account_id: str

    def capabilities(self) -> CarrierCapabilities:
        """What this account can do; checked by callers before offering an operation."""
        ...

    def rate(self, request: ShipmentRequest) -> list[Rate]:
        """Quotes for every enabled service that can carry ``request``."""
        ...

    def book(
        self,
        request: ShipmentRequest,
        rate: Rate,
        *,
        idempotency_key: str,
        label_format: LabelFormat = LabelFormat.PDF,
    ) -> BookingResult:
        """Buy the label for ``rate``. The key goes to the carrier (header and reference) so a
        retried job never buys twice where the carrier honours it; callers persist the key
        before calling."""
        ...

    def cancel(
        self, booking: BookingResult | str, *, tracking_numbers: list[str] | None = None
    ) -> CancelResult:
        """Void a booking (or a carrier shipment id). A refusal within the carrier's rules comes
        back as ``CancelStatus.REJECTED`` with the carrier's reason; an impossible operation
        raises ``CarrierNotSupportedError``."""
        ...

    def track(self, tracking_numbers: list[str]) -> list[TrackingEvent]:
        """Every event the carrier has for these numbers, normalized, raw code and text kept."""
        ...

    def verify_webhook(self, headers: Headers, body: bytes) -> None:
        """Raise ``WebhookSignatureError`` unless ``body`` is signed by this account's secret.
        Constant-time comparison over the raw bytes; timestamp window where the scheme has one."""
        ...

    def parse_webhook(self, headers: Headers, body: bytes) -> list[TrackingEvent]:
        """Events in a (verified) push; ``WebhookPayloadError`` for anything else."""
        ...

"""``KarrioAdapter``: the shared body of every karrio-backed carrier adapter.

Per operation it builds a fresh gateway (karrio's tracer keeps every request and label for the
gateway's lifetime, so a long-lived gateway is a slow leak), shares one token cache per account,
scopes the HTTP transport (timeout, allowed host, idempotency header, exchange log), then turns
karrio's ``(result, messages)`` into canonical results or one ``CarrierError``.

Synchronous only: karrio blocks on urllib and calls ``asyncio.run`` inside rating and some
tracking paths, which fails inside a running event loop. Call adapters from RQ jobs or a
threadpool (``anyio.to_thread.run_sync``).

Tracking events are parsed by each carrier from the raw responses rather than from karrio's
``TrackingEvent``: karrio stamps carrier-local times with a literal ``Z`` and drops the offsets
carriers send, and its status tables have known defects. The raw code and text are kept.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar
from urllib.parse import urlsplit

import structlog

from app.carriers import convert_location
from app.carriers.accounts import CarrierAccount
from app.carriers.base import Headers
from app.carriers.codes import CodeTable, refine_category
from app.carriers.errors import (
    CarrierAuthError,
    CarrierConfigError,
    CarrierError,
    CarrierNotSupportedError,
    CarrierOutcomeUnknownError,
    CarrierRejectedError,
    CarrierResponseError,
)
from app.carriers.karrio_support import convert
from app.carriers.karrio_support.messages import CarrierMessage, error_for, errors_only
from app.carriers.karrio_support.runtime import Exchange, carrier_call
from app.carriers.karrio_support.settings import build_settings, token_cache
from app.carriers.metrics import CARRIER_CALL_SECONDS, CARRIER_CALLS
from app.models import (
    BookingResult,
    CancelResult,
    CancelStatus,
    CarrierCapabilities,
    Label,
    LabelFormat,
    Money,
    Rate,
    ShipmentRequest,
    TrackingEvent,
)

log = structlog.get_logger(__name__)


class KarrioAdapter:
    """Base for adapters whose wire format is a karrio connector. Subclasses set the class
    attributes and implement ``events_from_payload``; everything else is overridable hooks."""

    code: ClassVar[str]
    karrio_name: ClassVar[str]
    table: ClassVar[CodeTable]
    CAPABILITIES: ClassVar[CarrierCapabilities]
    field_aliases: ClassVar[dict[str, str]] = {}
    label_types: ClassVar[dict[LabelFormat, str]] = {LabelFormat.PDF: "PDF", LabelFormat.ZPL: "ZPL"}
    default_tz: ClassVar[tzinfo | None] = None

    def __init__(self, account: CarrierAccount) -> None:
        if account.carrier != self.code:
            raise CarrierConfigError(
                f"account {account.id!r} is a {account.carrier!r} account, not {self.code!r}",
                carrier=self.code,
            )
        self.account = account
        self.account_id = account.id
        self._cache = token_cache(account)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account_id={self.account_id!r})"

    # --- plumbing ------------------------------------------------------------------------------

    def connector_config(self, label_format: LabelFormat | None = None) -> dict[str, Any]:
        """Per-connector ``config`` options (label type, ...); never ``enforce_zpl``, which sends
        labels to a third-party converter over plain HTTP."""
        return {}

    def gateway(self, label_format: LabelFormat | None = None) -> Any:
        import karrio.sdk as karrio

        settings = build_settings(
            self.karrio_name, self.account, config=self.connector_config(label_format)
        )
        return karrio.gateway[self.karrio_name].create(settings, cache=self._cache)

    def run(
        self,
        operation: str,
        action: Callable[[Any], tuple[Any, list[Any]]],
        *,
        label_format: LabelFormat | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[Any, list[Any], list[Exchange]]:
        """One karrio operation on a fresh gateway, with its HTTP exchanges recorded."""
        started = time.monotonic()
        outcome = "ok"
        try:
            with carrier_call(
                timeout=self.account.timeout_seconds,
                pinned_url=self.account.server_url,
                extra_headers=extra_headers,
            ) as ctx:
                result, messages = action(self.gateway(label_format))
            return result, list(messages or []), list(ctx.exchanges)
        except CarrierError as exc:
            outcome = exc.code
            raise
        finally:
            CARRIER_CALLS.labels(self.code, operation, outcome).inc()
            CARRIER_CALL_SECONDS.labels(self.code, operation).observe(time.monotonic() - started)

    def fail(
        self, operation: str, messages: Sequence[Any], exchanges: Sequence[Exchange]
    ) -> CarrierError | None:
        err = error_for(
            carrier=self.code,
            operation=operation,
            messages=messages,
            exchanges=exchanges,
            aliases=self.field_aliases,
            extract_field=self.carrier_field,
        )
        if err is not None:
            CARRIER_CALLS.labels(self.code, operation, err.code).inc()
            log.warning(
                "carrier_operation_failed",
                carrier=self.code,
                account=self.account_id,
                operation=operation,
                error=err.code,
                upstream_status=err.upstream_status,
                carrier_code=err.carrier_code,
            )
        return err

    def carrier_field(self, message: CarrierMessage) -> str | None:
        """The carrier's own field path in an error message, when it gives one."""
        return None

    # --- capabilities --------------------------------------------------------------------------

    def capabilities(self) -> CarrierCapabilities:
        caps = self.CAPABILITIES
        if self.account.enabled_services:
            services = {
                k: v for k, v in caps.services.items() if k in self.account.enabled_services
            }
            caps = caps.model_copy(update={"services": services})
        return caps

    def require(self, operation: str, supported: bool) -> None:
        if not supported:
            raise CarrierNotSupportedError(
                f"{self.code} does not support {operation}", carrier=self.code
            )

    # --- rate ----------------------------------------------------------------------------------

    def rate(self, request: ShipmentRequest) -> list[Rate]:
        import karrio.sdk as karrio

        self.require("rating", self.CAPABILITIES.rate)
        self.check_parcels(request)
        payload = convert.rate_request(request, services=list(self.account.enabled_services))
        payload["options"].update(self.rate_options(request))
        result, messages, exchanges = self.run(
            "rate", lambda gw: karrio.Rating.fetch(payload).from_(gw).parse()
        )
        rates = [self.to_rate(r) for r in (result or [])]
        rates = [r for r in rates if r is not None]
        if self.account.enabled_services:
            rates = [r for r in rates if r.service in self.account.enabled_services]
        if not rates:
            err = self.fail("rate", messages, exchanges)
            if err is not None:
                raise err
        return sorted(rates, key=lambda r: r.total.amount)

    def rate_options(self, request: ShipmentRequest) -> dict[str, Any]:
        return {}

    def to_rate(self, detail: Any) -> Rate | None:
        total = convert.money(detail.total_charge, detail.currency)
        if total is None or not detail.service:
            return None
        meta = dict(detail.meta or {})
        return Rate(
            carrier=self.code,
            carrier_account=self.account_id,
            service=str(detail.service),
            total=total,
            transit_days=detail.transit_days if isinstance(detail.transit_days, int) else None,
            estimated_delivery=convert.to_date(detail.estimated_delivery),
            rate_id=meta.get("rate_id") or detail.id,
            extra={
                "service_name": meta.get("service_name")
                or self.CAPABILITIES.services.get(str(detail.service)),
                "charges": [
                    {"name": c.name, "amount": str(c.amount), "currency": c.currency}
                    for c in (detail.extra_charges or [])
                ],
            },
        )

    def check_parcels(self, request: ShipmentRequest) -> None:
        caps = self.CAPABILITIES
        if len(request.parcels) > caps.max_parcels:
            raise CarrierNotSupportedError(
                f"{self.code} books at most {caps.max_parcels} parcel(s) per shipment; "
                f"this one has {len(request.parcels)}",
                carrier=self.code,
            )

    # --- book ----------------------------------------------------------------------------------

    def book(
        self,
        request: ShipmentRequest,
        rate: Rate,
        *,
        idempotency_key: str,
        label_format: LabelFormat = LabelFormat.PDF,
    ) -> BookingResult:
        import karrio.sdk as karrio

        self.require("booking", self.CAPABILITIES.book)
        if rate.carrier != self.code or rate.carrier_account != self.account_id:
            raise CarrierConfigError(
                f"rate from {rate.carrier}/{rate.carrier_account} given to "
                f"{self.code}/{self.account_id}",
                carrier=self.code,
            )
        if label_format not in self.CAPABILITIES.label_formats:
            raise CarrierNotSupportedError(
                f"{self.code} cannot print {label_format} labels", carrier=self.code
            )
        if not idempotency_key or len(idempotency_key) > 255:
            raise CarrierConfigError("idempotency_key must be 1-255 characters", carrier=self.code)
        self.check_parcels(request)
        payload = convert.shipment_request(
            request,
            service=rate.service,
            label_type=self.label_types.get(label_format),
            reference=request.reference,
        )
        payload["options"].update(self.book_options(request, rate, label_format))
        payload["metadata"] = {"idempotency_key": idempotency_key}
        result, messages, exchanges = self.run(
            "book",
            lambda gw: karrio.Shipment.create(payload).from_(gw).parse(),
            label_format=label_format,
            extra_headers={"Idempotency-Key": idempotency_key},
        )
        if result is None:
            error = self.fail("book", messages, exchanges) or CarrierResponseError(
                f"{self.code} book: no shipment in the answer", carrier=self.code
            )
            definite = (
                CarrierRejectedError,
                CarrierAuthError,
                CarrierConfigError,
                CarrierNotSupportedError,
            )
            if not isinstance(error, definite) and self.purchase_attempted(exchanges):
                raise CarrierOutcomeUnknownError(
                    f"{self.code} book: the purchase request was sent and the operation then "
                    f"failed ({error.code}); a label may have been bought",
                    carrier=self.code,
                    http_status=error.upstream_status,
                ) from error
            raise error
        return self.to_booking(request, rate, result, exchanges, idempotency_key, label_format)

    #: Request paths that buy a label; a retryable failure after one of them was sent leaves
    #: the purchase's outcome unknown.
    PURCHASE_PATH: ClassVar[re.Pattern[str]] = re.compile(r"/(ship|shipments|labels?)(/|$)")

    def purchase_attempted(self, exchanges: Sequence[Exchange]) -> bool:
        return any(
            e.method.upper() == "POST" and self.PURCHASE_PATH.search(urlsplit(e.url).path)
            for e in exchanges
        )

    def book_options(
        self, request: ShipmentRequest, rate: Rate, label_format: LabelFormat
    ) -> dict[str, Any]:
        return {}

    def to_booking(
        self,
        request: ShipmentRequest,
        rate: Rate,
        details: Any,
        exchanges: Sequence[Exchange],
        idempotency_key: str,
        label_format: LabelFormat,
    ) -> BookingResult:
        master = str(details.tracking_number or details.shipment_identifier)
        numbers = self.parcel_tracking_numbers(details, exchanges, len(request.parcels))
        labels = self.parcel_labels(details, exchanges, numbers, label_format)
        charged = self.charged(details, exchanges)
        extra: dict[str, Any] = {"charged_source": "carrier" if charged else "quote"}
        link = (details.meta or {}).get("carrier_tracking_link")
        if link:
            extra["tracking_url"] = link
        return BookingResult(
            carrier=self.code,
            carrier_account=self.account_id,
            service=rate.service,
            carrier_shipment_id=str(details.shipment_identifier or master),
            master_tracking_number=master,
            tracking_numbers=numbers,
            labels=labels,
            charged=charged or rate.total,
            idempotency_key=idempotency_key,
            booked_at=datetime.now(UTC),
            extra=extra,
        )

    def parcel_tracking_numbers(
        self, details: Any, exchanges: Sequence[Exchange], parcel_count: int
    ) -> list[str]:
        meta = details.meta or {}
        numbers = meta.get("tracking_numbers") or meta.get("package_tracking_numbers") or []
        numbers = [str(n) for n in numbers if n]
        if not numbers:
            numbers = [str(details.tracking_number)]
        return numbers

    def parcel_labels(
        self,
        details: Any,
        exchanges: Sequence[Exchange],
        tracking_numbers: list[str],
        label_format: LabelFormat,
    ) -> list[Label]:
        """Default: the SDK's single (possibly bundled) label document, as parcel 0."""
        data = convert.decode_label(getattr(details.docs, "label", None))
        if not data:
            return []
        return [
            Label(
                tracking_number=tracking_numbers[0],
                format=convert.sniff_format(data, label_format),
                data=data,
                parcel_index=0,
            )
        ]

    def charged(self, details: Any, exchanges: Sequence[Exchange]) -> Money | None:
        selected = getattr(details, "selected_rate", None)
        if selected is not None:
            return convert.money(selected.total_charge, selected.currency)
        return None

    # --- cancel --------------------------------------------------------------------------------

    def cancel(
        self, booking: BookingResult | str, *, tracking_numbers: list[str] | None = None
    ) -> CancelResult:
        import karrio.sdk as karrio

        self.require("cancel", self.CAPABILITIES.cancel)
        if isinstance(booking, BookingResult):
            shipment_id = booking.carrier_shipment_id
            numbers = list(tracking_numbers or booking.tracking_numbers)
        else:
            shipment_id, numbers = booking, list(tracking_numbers or [])
        payload = {"shipment_identifier": self.cancel_identifier(shipment_id, numbers)}
        payload.update(self.cancel_extra(shipment_id, numbers))
        result, messages, exchanges = self.run(
            "cancel", lambda gw: karrio.Shipment.cancel(payload).from_(gw).parse()
        )
        base = {
            "carrier": self.code,
            "carrier_account": self.account_id,
            "carrier_shipment_id": shipment_id,
            "tracking_numbers": numbers,
            "policy": self.CAPABILITIES.cancel_policy,
        }
        err = self.fail("cancel", messages, exchanges)
        if isinstance(err, CarrierRejectedError) or (
            err is None and not getattr(result, "success", False)
        ):
            first = next(iter(errors_only(messages)), None)
            return CancelResult(
                status=CancelStatus.REJECTED,
                reason=(err.carrier_message if err else None)
                or (first.message if first else None)
                or "the carrier did not confirm the void",
                carrier_code=first.code if first else None,
                **base,
            )
        if err is not None:
            raise err
        return CancelResult(status=self.cancel_status(result, exchanges), **base)

    def cancel_identifier(self, shipment_id: str, tracking_numbers: list[str]) -> str:
        return shipment_id

    def cancel_extra(self, shipment_id: str, tracking_numbers: list[str]) -> dict[str, Any]:
        return {}

    def cancel_status(self, result: Any, exchanges: Sequence[Exchange]) -> CancelStatus:
        return CancelStatus.CANCELLED

    # --- track ---------------------------------------------------------------------------------

    def track(self, tracking_numbers: list[str]) -> list[TrackingEvent]:
        import karrio.sdk as karrio

        self.require("tracking", self.CAPABILITIES.track)
        numbers = list(dict.fromkeys(n.strip() for n in tracking_numbers if n and n.strip()))
        if not numbers:
            return []
        payload = {"tracking_numbers": numbers, "options": self.tracking_options(numbers)}
        result, messages, exchanges = self.run(
            "track", lambda gw: karrio.Tracking.fetch(payload).from_(gw).parse()
        )
        events: list[TrackingEvent] = []
        for exchange in exchanges:
            if exchange.status and 200 <= exchange.status < 300 and self.is_tracking(exchange):
                payload_data = _json(exchange.body)
                if payload_data is not None:
                    events.extend(self.events_from_payload(payload_data))
        if not events and not result:
            err = self.fail("track", messages, exchanges)
            if err is not None:
                raise err
        wanted = set(numbers)
        events = [e for e in events if e.tracking_number in wanted] or events
        return sorted(events, key=lambda e: (e.tracking_number, e.occurred_at))

    def tracking_options(self, numbers: list[str]) -> dict[str, Any]:
        return {}

    def is_tracking(self, exchange: Exchange) -> bool:
        """Whether a recorded exchange is a tracking response (not an OAuth call)."""
        return "oauth" not in exchange.path and "token" not in exchange.path

    def events_from_payload(self, payload: Any) -> list[TrackingEvent]:
        raise NotImplementedError

    def event(
        self,
        *,
        tracking_number: str,
        occurred_at: datetime | None,
        codes: Iterable[str | None],
        description: str | None,
        location: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        raw_code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> TrackingEvent | None:
        """One canonical event from raw carrier fields; None when the time is unusable (an
        event without an instant cannot be ordered, and is logged rather than guessed)."""
        if occurred_at is None or not tracking_number:
            log.warning("tracking_event_without_time", carrier=self.code, code=raw_code)
            return None
        candidates = list(codes)
        mapping = self.table.lookup(*candidates, description=description or "")
        return TrackingEvent(
            carrier=self.code,
            tracking_number=str(tracking_number)[:64],
            occurred_at=occurred_at,
            status=mapping.status,
            raw_code=raw_code if raw_code is not None else next((c for c in candidates if c), None),
            raw_description=(description or "").strip(),
            location=convert_location.location(location),
            exception_category=refine_category(mapping.category, description or ""),
            carrier_event_id=event_id,
            extra=extra or {},
        )

    # --- webhooks ------------------------------------------------------------------------------

    def verify_webhook(self, headers: Headers, body: bytes) -> None:
        raise CarrierNotSupportedError(
            f"{self.code} offers no webhook to verify", carrier=self.code
        )

    def parse_webhook(self, headers: Headers, body: bytes) -> list[TrackingEvent]:
        raise CarrierNotSupportedError(f"{self.code} offers no webhook to parse", carrier=self.code)

    @property
    def webhook_secret(self) -> str | None:
        secret = self.account.webhook_secret
        return secret.get_secret_value() if secret is not None else None


def _json(body: bytes) -> Any:
    import json

    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None

"""Carrier errors: one tree, stable codes, retry decided by type.

    UpstreamError (app.core.errors)           code                       retryable
    └── CarrierError                          carrier_error              no
        ├── CarrierUnavailableError           carrier_unavailable        yes  5xx, connection
        │   └── CarrierTimeoutError           carrier_timeout            yes  no answer in time
        ├── CarrierRateLimitedError           carrier_rate_limited       yes  429 (+ retry_after)
        ├── CarrierRejectedError              carrier_rejected           no   the request is wrong
        │   ├── CarrierAddressError           carrier_address_invalid    no   (field = address part)
        │   ├── CarrierParcelError            carrier_parcel_invalid     no   weight/size limits
        │   └── CarrierServiceError           carrier_service_invalid    no   unknown/unavailable
        ├── CarrierAuthError                  carrier_auth               no   401/403, bad keys
        ├── CarrierNotSupportedError          carrier_not_supported      no   the carrier can't
        ├── CarrierConfigError                carrier_config             no   our account/setup
        └── CarrierResponseError              carrier_bad_response       no   unreadable answer

    WaybillError
    ├── Unauthorized
    │   └── WebhookSignatureError             webhook_signature_invalid  -    401 to the sender
    └── BadRequest
        └── WebhookPayloadError               webhook_payload_invalid    -    400 to the sender

The SDK underneath never raises: it returns messages. ``app.carriers.karrio_support.messages``
turns those messages plus the HTTP status it observed into exactly one of these, so a job can
decide to back off (``retryable``) or to hand the shipment to a person (``CarrierRejectedError``
with the offending ``field`` and the carrier's own words).
"""

from __future__ import annotations

from typing import Any, ClassVar

from app.core.errors import BadRequest, Unauthorized, UpstreamError


class CarrierError(UpstreamError):
    """Base for every failure talking to a carrier. Carries the carrier code and its words."""

    code: ClassVar[str] = "carrier_error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        carrier: str | None = None,
        carrier_code: str | None = None,
        carrier_message: str | None = None,
        http_status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        info = dict(details or {})
        info.update(
            {
                k: v
                for k, v in {
                    "carrier": carrier,
                    "carrier_code": carrier_code,
                    "carrier_message": carrier_message,
                    "upstream_status": http_status,
                }.items()
                if v is not None
            }
        )
        super().__init__(message, details=info)
        self.carrier = carrier
        self.carrier_code = carrier_code
        self.carrier_message = carrier_message
        self.upstream_status = http_status


class CarrierUnavailableError(CarrierError):
    """The carrier could not answer (5xx, refused connection): the same call may work later."""

    code = "carrier_unavailable"
    retryable = True


class CarrierTimeoutError(CarrierUnavailableError):
    """No answer within our timeout. For a booking, the label may have been bought: retry with
    the same idempotency key, never a new one."""

    code = "carrier_timeout"


class CarrierOutcomeUnknownError(CarrierTimeoutError):
    """A purchase request reached (or may have reached) the carrier and the operation then failed:
    a label may have been bought. Never retried blindly; a person checks first."""

    code = "carrier_outcome_unknown"


class CarrierRateLimitedError(CarrierError):
    """429: back off for ``retry_after`` seconds (the carrier's Retry-After when it sent one)."""

    code = "carrier_rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        details = dict(kwargs.pop("details", None) or {})
        if retry_after is not None:
            details["retry_after"] = retry_after
        super().__init__(message, details=details, **kwargs)
        self.retry_after = retry_after


class CarrierRejectedError(CarrierError):
    """The carrier refused this request as given; retrying the same payload cannot help.

    ``field`` names the canonical field at fault when it can be told (``recipient.street1``,
    ``parcels.weight``, ``service``), so the dispatcher fixes the right thing.
    """

    code = "carrier_rejected"

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        details = dict(kwargs.pop("details", None) or {})
        if field is not None:
            details["field"] = field
        super().__init__(message, details=details, **kwargs)
        self.field = field


class CarrierAddressError(CarrierRejectedError):
    code = "carrier_address_invalid"


class CarrierParcelError(CarrierRejectedError):
    code = "carrier_parcel_invalid"


class CarrierServiceError(CarrierRejectedError):
    code = "carrier_service_invalid"


class CarrierAuthError(CarrierError):
    """Credentials refused. Not retried: carriers lock accounts after repeated failures."""

    code = "carrier_auth"


class CarrierNotSupportedError(CarrierError):
    """The carrier (or this account) does not offer the operation at all."""

    code = "carrier_not_supported"


class CarrierConfigError(CarrierError):
    """Our side is set up wrongly: unknown carrier code, missing credential, forbidden host."""

    code = "carrier_config"


class CarrierResponseError(CarrierError):
    """The carrier answered with something we cannot read; kept for a person to look at."""

    code = "carrier_bad_response"


class WebhookSignatureError(Unauthorized):
    """A webhook whose signature (or timestamp) does not check out. Never processed."""

    code = "webhook_signature_invalid"


class WebhookPayloadError(BadRequest):
    """A correctly signed webhook whose body is not the carrier's event shape."""

    code = "webhook_payload_invalid"


RETRYABLE: tuple[type[CarrierError], ...] = (CarrierUnavailableError, CarrierRateLimitedError)

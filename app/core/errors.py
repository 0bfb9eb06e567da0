"""One error tree with stable codes, translated to HTTP only at the API boundary.

    WaybillError                      code                 HTTP
    ├── BadRequest                    bad_request          400
    │   └── PayloadTooLarge           payload_too_large    413
    ├── Unauthorized                  unauthorized         401
    ├── Forbidden                     forbidden            403
    ├── NotFound                      not_found            404
    ├── Conflict                      conflict             409
    ├── Unprocessable                 validation_error     422
    └── UpstreamError                 upstream_error       502 (Odoo, carriers)

Services raise these (or a subclass with a more specific ``code``); routers never build error
bodies by hand. ``retryable`` tells jobs whether backing off and trying again can help.
"""

from __future__ import annotations

from typing import Any, ClassVar


class WaybillError(Exception):
    """Base of every error Waybill raises on purpose."""

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500
    retryable: ClassVar[bool] = False

    def __init__(
        self, message: str, *, details: dict[str, Any] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}
        if code is not None:
            self.code = code  # type: ignore[misc]

    def to_body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class BadRequest(WaybillError):
    code = "bad_request"
    http_status = 400


class PayloadTooLarge(BadRequest):
    code = "payload_too_large"
    http_status = 413


class Unauthorized(WaybillError):
    code = "unauthorized"
    http_status = 401


class Forbidden(WaybillError):
    code = "forbidden"
    http_status = 403


class NotFound(WaybillError):
    code = "not_found"
    http_status = 404


class Conflict(WaybillError):
    code = "conflict"
    http_status = 409


class Unprocessable(WaybillError):
    code = "validation_error"
    http_status = 422


class UpstreamError(WaybillError):
    """A system Waybill depends on (Odoo, a carrier) failed; ``retryable`` says if it may pass."""

    code = "upstream_error"
    http_status = 502
    retryable = True  # transient unless a subclass says the upstream rejected the request

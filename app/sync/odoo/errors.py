"""Odoo errors: one tree, built at the transport boundary from each protocol's error shape.

    UpstreamError (app.core.errors)        code
    └── OdooError                          odoo_error
        ├── OdooRetryableError             odoo_retryable          retryable = True
        │   ├── OdooTransportError         odoo_transport_error    connect/read timeout, 429,
        │   │                                                      502/503/504, non-Odoo body
        │   ├── OdooConcurrencyError       odoo_concurrency_error  psycopg2 SerializationFailure,
        │   │                                                      DeadlockDetected,
        │   │                                                      LockNotAvailable; 19.0
        │   │                                                      LockError (409),
        │   │                                                      ConcurrencyError
        │   └── OdooDatabaseError          odoo_database_error     any other psycopg2 error
        └── OdooRejectedError              odoo_rejected           retryable = False
            ├── OdooAuthError              odoo_auth_error         AccessDenied, authenticate()
            │                                                      -> False, JSON-2 401
            ├── OdooAccessError            odoo_access_error       AccessError: ACL, record rule,
            │                                                      group-restricted field,
            │                                                      private method
            ├── OdooMissingError           odoo_missing            MissingError, unknown xml id
            ├── OdooValidationError        odoo_validation_error   UserError, ValidationError
            ├── OdooInvalidRequestError    odoo_invalid_request    ValueError (invalid field,
            │                                                      wrong selection value,
            │                                                      singleton), AttributeError
            │                                                      (unknown method), unknown
            │                                                      model, TypeError, JSON-2 422
            └── OdooServerError            odoo_server_error       any other application fault
                                                                   (NotImplementedError, a
                                                                   result XML-RPC cannot marshal)

Why the split: the reference's client-side policy (odoo-external-api.md §5) is to retry transport
errors and ``psycopg2.errors.*`` only, and never ``odoo.exceptions.*`` nor authentication —
Odoo refuses a remote IP for 60 s after 5 failed logins (§1.4). Whether to back off and try again
is therefore decided by type, never by parsing a message in the caller.

Every error carries, in ``details``: ``odoo_exception`` (the Odoo class as JSON-RPC names it,
e.g. ``builtins.ValueError``), ``odoo_message``, ``protocol``, ``model``, ``method`` and, where it
helps callers branch, a ``reason`` (``invalid_field``, ``wrong_selection``, ``singleton``,
``unknown_method``, ``unknown_model``, ``private_method``, ``xmlid_not_found``,
``login_cooldown``, ``not_implemented``, ``result_not_marshallable`` …). The server traceback is
kept on ``.debug`` but never put in ``details``: details reach API bodies and logs.

``maybe_committed`` is True when the request may have reached Odoo and committed before the
failure (a read timeout, a 502/504, the XML-RPC ``None`` fault). Non-idempotent calls are not
retried by the client in that case; the caller must re-read state first (§5: "client-side
retries must be idempotent: read state before re-sending").
"""

from __future__ import annotations

from typing import Any, ClassVar

from app.core.errors import UpstreamError


class OdooError(UpstreamError):
    """Base of every error raised while talking to Odoo."""

    code: ClassVar[str] = "odoo_error"

    def __init__(
        self,
        message: str,
        *,
        odoo_exception: str | None = None,
        odoo_message: str | None = None,
        protocol: str | None = None,
        model: str | None = None,
        method: str | None = None,
        reason: str | None = None,
        debug: str | None = None,
        maybe_committed: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        details: dict[str, Any] = {
            "odoo_exception": odoo_exception,
            "odoo_message": odoo_message if odoo_message is not None else message,
            "protocol": protocol,
            "model": model,
            "method": method,
        }
        if reason is not None:
            details["reason"] = reason
        if maybe_committed:
            details["maybe_committed"] = True
        if extra:
            details.update(extra)
        super().__init__(message, details=details)
        self.odoo_exception = odoo_exception
        self.odoo_message = details["odoo_message"]
        self.protocol = protocol
        self.model = model
        self.method = method
        self.reason = reason
        self.debug = debug
        self.maybe_committed = maybe_committed


class OdooRetryableError(OdooError):
    """Trying again later can succeed: nothing was (provably) wrong with the request itself."""

    code: ClassVar[str] = "odoo_retryable"
    retryable: ClassVar[bool] = True


class OdooTransportError(OdooRetryableError):
    """Odoo could not be reached or answered with something that is not Odoo (a proxy page)."""

    code: ClassVar[str] = "odoo_transport_error"


class OdooConcurrencyError(OdooRetryableError):
    """A concurrency conflict survived Odoo's own 5 server-side tries (§5); it rolled back."""

    code: ClassVar[str] = "odoo_concurrency_error"


class OdooDatabaseError(OdooRetryableError):
    """Another ``psycopg2`` error reached the client (§5 lists ``psycopg2.errors.*`` as retryable).

    Odoo converts integrity violations into ``ValidationError`` before they reach us, so what is
    left here is operational: a dropped database connection, a statement timeout.
    """

    code: ClassVar[str] = "odoo_database_error"


class OdooRejectedError(OdooError):
    """Odoo understood the request and refused it; the same request will fail the same way."""

    code: ClassVar[str] = "odoo_rejected"
    retryable: ClassVar[bool] = False


class OdooAuthError(OdooRejectedError):
    """Wrong login or key, expired key, or the login cooldown. Never retried (§1.4)."""

    code: ClassVar[str] = "odoo_auth_error"


class OdooAccessError(OdooRejectedError):
    """Authenticated but lacking a right: ACL, record rule, field group, private method."""

    code: ClassVar[str] = "odoo_access_error"


class OdooMissingError(OdooRejectedError):
    """The record (or xml id) does not exist, e.g. ``write`` on a deleted picking."""

    code: ClassVar[str] = "odoo_missing"


class OdooValidationError(OdooRejectedError):
    """A business rule said no: ``UserError``, ``ValidationError`` (incl. SQL constraints)."""

    code: ClassVar[str] = "odoo_validation_error"


class OdooInvalidRequestError(OdooRejectedError):
    """The request is malformed for this database: a bug or a schema drift on our side."""

    code: ClassVar[str] = "odoo_invalid_request"


class OdooServerError(OdooRejectedError):
    """Any other application fault; not retried because nothing says it is transient."""

    code: ClassVar[str] = "odoo_server_error"


__all__ = [
    "OdooAccessError",
    "OdooAuthError",
    "OdooConcurrencyError",
    "OdooDatabaseError",
    "OdooError",
    "OdooInvalidRequestError",
    "OdooMissingError",
    "OdooRejectedError",
    "OdooRetryableError",
    "OdooServerError",
    "OdooTransportError",
    "OdooValidationError",
]

"""Odoo's exception classes and how each protocol serializes them.

The classes carry Odoo's module names (``odoo.exceptions``, ``psycopg2.errors``,
``werkzeug.exceptions``) so the qualified name a client sees in JSON-RPC ``error.data.name`` and
in tracebacks is the one a real server sends (reference §1.2, §1.6). Python built-ins
(``ValueError``, ``AttributeError``, ``TypeError``, ``NotImplementedError``) are raised as they
are, exactly as Odoo does.

Mappings implemented here:

* XML-RPC ``/xmlrpc/2``: int faultCode, checks in Odoo's order (reference §1.1 table);
* XML-RPC legacy ``/xmlrpc``: string faultCode;
* JSON-RPC: ``error.data`` from ``serialize_exception`` (reference §1.2);
* JSON-2 (19.0): HTTP status per class (reference §1.3 table).
"""

from __future__ import annotations

import contextlib
import traceback
from typing import Any, ClassVar

RPC_FAULT_CODE_APPLICATION_ERROR = 1
RPC_FAULT_CODE_WARNING = 2
RPC_FAULT_CODE_ACCESS_DENIED = 3
RPC_FAULT_CODE_ACCESS_ERROR = 4


class UserError(Exception):
    """``odoo.exceptions.UserError``: business errors; fault 2, JSON-2 422."""

    __module__ = "odoo.exceptions"
    http_status: ClassVar[int] = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)


class AccessDenied(UserError):
    """Bad credentials (fault 3). Odoo 18+ drops its traceback (``suppress_traceback``)."""

    __module__ = "odoo.exceptions"
    http_status = 403

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class AccessError(UserError):
    """ACL, record rule or private-method refusal (fault 4, JSON-2 403)."""

    __module__ = "odoo.exceptions"
    http_status = 403


class MissingError(UserError):
    """Write or button on a deleted record (fault 2, JSON-2 404)."""

    __module__ = "odoo.exceptions"
    http_status = 404


class ValidationError(UserError):
    """Constraint failures, including converted SQL integrity errors (fault 2, JSON-2 422)."""

    __module__ = "odoo.exceptions"
    http_status = 422


class LockError(UserError):
    """19.0 only: the record is locked by another transaction (fault 2, JSON-2 409)."""

    __module__ = "odoo.exceptions"
    http_status = 409


class RedirectWarning(Exception):
    """Listed for completeness of the fault mapping (fault 2)."""

    __module__ = "odoo.exceptions"


class SerializationFailure(Exception):
    """What survives Odoo's five server-side retries of a concurrent update (reference §5)."""

    __module__ = "psycopg2.errors"


class LockNotAvailable(Exception):
    """17.0/18.0 form of a lock conflict reaching the client (reference §5)."""

    __module__ = "psycopg2.errors"


class OperationalError(Exception):
    """Raised for an unknown database name, as psycopg2 does when connecting."""

    __module__ = "psycopg2"


class HTTPException(Exception):
    """A werkzeug HTTP error, raised by the JSON-2 controller (reference §1.3)."""

    __module__ = "werkzeug.exceptions"
    code: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"

    def __init__(self, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__()
        self.description = description
        self.headers = headers or {}

    def __str__(self) -> str:
        return f"{self.code} {self.title}: {self.description}"


class BadRequest(HTTPException):
    __module__ = "werkzeug.exceptions"
    code = 400
    title = "Bad Request"


class Unauthorized(HTTPException):
    __module__ = "werkzeug.exceptions"
    code = 401
    title = "Unauthorized"


class Forbidden(HTTPException):
    __module__ = "werkzeug.exceptions"
    code = 403
    title = "Forbidden"


class NotFound(HTTPException):
    __module__ = "werkzeug.exceptions"
    code = 404
    title = "Not Found"


class UnprocessableEntity(HTTPException):
    __module__ = "werkzeug.exceptions"
    code = 422
    title = "Unprocessable Entity"


def qualified_name(exc: BaseException) -> str:
    """``f"{type(e).__module__}.{type(e).__name__}"`` as ``serialize_exception`` builds it."""
    return f"{type(exc).__module__}.{type(exc).__name__}"


def remember_traceback(exc: BaseException) -> None:
    """Freeze the traceback text where the service call ended, before transport frames."""
    with contextlib.suppress(AttributeError):
        exc.__odoo_traceback__ = "".join(traceback.format_exception(exc))  # type: ignore[attr-defined]


def format_traceback(exc: BaseException) -> str:
    frozen = getattr(exc, "__odoo_traceback__", None)
    if isinstance(frozen, str):
        return frozen
    return "".join(traceback.format_exception(exc))


def exception_to_unicode(exc: BaseException) -> str:
    """18.0+ ``exception_to_unicode``: the args joined by newlines, else ``str(e)``."""
    if getattr(exc, "args", ()):
        return "\n".join(str(a) for a in exc.args)
    return str(exc)


def xmlrpc_fault(exc: BaseException) -> tuple[int, str]:
    """``xmlrpc_handle_exception_int``; same in 17.0, 18.0 and 19.0."""
    if isinstance(exc, RedirectWarning):
        return RPC_FAULT_CODE_WARNING, str(exc)
    if isinstance(exc, AccessError):
        return RPC_FAULT_CODE_ACCESS_ERROR, str(exc)
    if isinstance(exc, AccessDenied):
        return RPC_FAULT_CODE_ACCESS_DENIED, str(exc)
    if isinstance(exc, UserError):
        return RPC_FAULT_CODE_WARNING, str(exc)
    return RPC_FAULT_CODE_APPLICATION_ERROR, format_traceback(exc)


def xmlrpc_legacy_fault(exc: BaseException) -> tuple[str, str]:
    """``xmlrpc_handle_exception_string`` of the legacy ``/xmlrpc/<service>`` route."""
    if isinstance(exc, RedirectWarning):
        return f"warning -- Warning\n\n{exc}", ""
    if isinstance(exc, MissingError):
        return f"warning -- MissingError\n\n{exc}", ""
    if isinstance(exc, AccessError):
        return f"warning -- AccessError\n\n{exc}", ""
    if isinstance(exc, AccessDenied):
        return "AccessDenied", str(exc)
    if isinstance(exc, UserError):
        return f"warning -- UserError\n\n{exc}", ""
    return exception_to_unicode(exc), format_traceback(exc)


def serialize_exception(exc: BaseException, version: str) -> dict[str, Any]:
    """``odoo.http.serialize_exception``: the JSON-RPC ``error.data`` and the JSON-2 body."""
    if isinstance(exc, AccessDenied) and version != "17.0":
        debug = "".join(traceback.format_exception_only(exc))
    else:
        debug = format_traceback(exc)
    message = str(exc) if version == "17.0" else exception_to_unicode(exc)
    return {
        "name": qualified_name(exc),
        "debug": debug,
        "message": message,
        "arguments": list(exc.args),
        "context": getattr(exc, "context", {}),
    }


def json2_status(exc: BaseException) -> int:
    """HTTP status of a JSON-2 error response (19.0 ``Json2Dispatcher.handle_error``)."""
    if isinstance(exc, HTTPException):
        return exc.code
    if isinstance(exc, UserError):
        return exc.http_status
    return 500

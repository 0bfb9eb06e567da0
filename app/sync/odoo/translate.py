"""Translate each protocol's error shape into the :mod:`app.sync.odoo.errors` tree.

One classifier, :func:`classify`, works on what every protocol can tell us: the Odoo exception
name as JSON-RPC spells it (``odoo.exceptions.MissingError``, ``builtins.ValueError``,
``psycopg2.errors.SerializationFailure``) and its message. The three front-ends recover that pair:

* JSON-RPC (§1.2): HTTP 200 with ``error.data.name`` / ``error.data.message``.
* XML-RPC ``/xmlrpc/2`` (§1.1): an int ``faultCode`` — 3 AccessDenied, 4 AccessError, 2 any other
  ``UserError`` subclass, 1 anything else with the *full traceback* as ``faultString``, whose
  final exception line we parse. Code 2 does not say which ``UserError`` subclass it was, so
  ``MissingError`` and the unknown-model ``UserError`` are recognised by the messages the
  reference quotes (§1.6). A 19.0 ``LockError`` also arrives as code 2 and cannot be told apart
  from a ``UserError`` there; JSON-RPC and JSON-2 carry its name.
* JSON-2 (§1.3, 19.0): an HTTP status plus a body ``{"name", "message", ...}``; the name decides,
  the status is the fallback when a proxy answered instead of Odoo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.sync.odoo.errors import (
    OdooAccessError,
    OdooAuthError,
    OdooConcurrencyError,
    OdooDatabaseError,
    OdooError,
    OdooInvalidRequestError,
    OdooMissingError,
    OdooServerError,
    OdooTransportError,
    OdooValidationError,
)


@dataclass(frozen=True, slots=True)
class CallInfo:
    """Which call failed; copied into every error's ``details``."""

    protocol: str
    model: str | None
    method: str


# psycopg2 errors Odoo's ``retrying()`` gives up on after 5 tries (§5).
_CONCURRENCY = frozenset(
    {"SerializationFailure", "DeadlockDetected", "LockNotAvailable", "TransactionRollbackError"}
)
# §1.6 messages that identify a UserError subclass when only the text is known (XML-RPC code 2).
_MISSING_MARKERS = (
    "One of the documents you are trying to access has been deleted",
    "Record does not exist or has been deleted",
)
_UNKNOWN_MODEL = re.compile(r"^Object (?P<model>\S+) doesn't exist")
_UNKNOWN_DATABASE = re.compile(r'database "[^"]*" does not exist')
_JSON2_UNKNOWN_MODEL = re.compile(r"the model '(?P<model>[^']+)' does not exist")


def _full_name(name: str) -> str:
    """Spell a Python exception name the way JSON-RPC ``data.name`` does (``builtins.X``)."""
    name = name.strip()
    return name if "." in name else f"builtins.{name}"


def classify(
    name: str,
    message: str,
    info: CallInfo,
    *,
    debug: str | None = None,
    extra: dict[str, Any] | None = None,
) -> OdooError:
    """Map an Odoo exception (full class name and message) to the Waybill error tree."""
    name = _full_name(name) if name else "builtins.Exception"
    short = name.rsplit(".", 1)[-1]
    module = name.rsplit(".", 1)[0]
    cls: type[OdooError] = OdooServerError
    reason: str | None = None
    maybe_committed = False

    if module.startswith("psycopg2"):
        if short in _CONCURRENCY:
            cls = OdooConcurrencyError
        elif _UNKNOWN_DATABASE.search(message):
            # PostgreSQL's 'database "x" does not exist': a configuration error, not transient.
            cls, reason = OdooInvalidRequestError, "unknown_database"
        else:
            cls = OdooDatabaseError
    elif short == "AccessDenied" or short in ("SessionExpiredException", "Unauthorized"):
        cls = OdooAuthError
        if "Too many login failures" in message:
            reason = "login_cooldown"
    elif short == "AccessError" or name == "werkzeug.exceptions.Forbidden":
        cls = OdooAccessError
        if "Private methods" in message:
            reason = "private_method"
        elif "enough rights to access the field" in message:
            reason = "field_access"
    elif short == "MissingError":
        cls = OdooMissingError
    elif name in ("odoo.exceptions.LockError", "odoo.exceptions.ConcurrencyError"):
        cls = OdooConcurrencyError
    elif name == "werkzeug.exceptions.NotFound":
        # JSON-2 answers 404 for an unknown model or method (§1.3) — and for a database that
        # the X-Odoo-Database header names but the server does not serve.
        cls = OdooInvalidRequestError
        if _JSON2_UNKNOWN_MODEL.search(message):
            reason = "unknown_model"
        elif "database" in message:
            reason = "unknown_database"
        elif "method" in message:
            reason = "unknown_method"
        else:
            reason = "not_found"
    elif module == "werkzeug.exceptions":
        # UnprocessableEntity (bad parameters, ids on an @api.model method), BadRequest, ...
        cls = OdooInvalidRequestError
        reason = "bad_params"
    elif module.startswith("odoo"):
        if _UNKNOWN_MODEL.match(message):
            cls, reason = OdooInvalidRequestError, "unknown_model"
        elif short in ("UserError", "ValidationError", "RedirectWarning", "Warning"):
            cls = OdooValidationError
    elif module == "builtins":
        cls, reason, maybe_committed = _builtin(short, message)

    return cls(
        _summary(short, message),
        odoo_exception=name,
        odoo_message=message,
        protocol=info.protocol,
        model=info.model,
        method=info.method,
        reason=reason,
        debug=debug,
        maybe_committed=maybe_committed,
        extra=extra,
    )


def _builtin(short: str, message: str) -> tuple[type[OdooError], str | None, bool]:
    """Builtin exceptions: §1.6 rows for ValueError, AttributeError, NotImplementedError."""
    if short == "ValueError":
        if message.startswith("Invalid field"):
            return OdooInvalidRequestError, "invalid_field", False
        if message.startswith("Wrong value for"):
            return OdooInvalidRequestError, "wrong_selection", False
        if message.startswith("Expected singleton"):
            return OdooInvalidRequestError, "singleton", False
        if message.startswith("External ID not found"):
            return OdooMissingError, "xmlid_not_found", False
        return OdooInvalidRequestError, None, False
    if short == "AttributeError":
        reason = "unknown_method" if "does not exist" in message else None
        return OdooInvalidRequestError, reason, False
    if short == "TypeError":
        if "cannot marshal" in message:
            # §1.1: XML-RPC fails to dump the result *after* the transaction committed.
            return OdooServerError, "result_not_marshallable", True
        return OdooInvalidRequestError, "bad_arguments", False
    if short == "NotImplementedError":
        return OdooServerError, "not_implemented", False
    return OdooServerError, None, False


def _summary(short: str, message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else ""
    return f"Odoo {short}: {first}" if first else f"Odoo {short}"


# --- JSON-RPC ----------------------------------------------------------------------------------


def from_jsonrpc_error(error: Mapping[str, Any], info: CallInfo) -> OdooError:
    """``{"code": 200|0, "message": "Odoo Server Error", "data": {"name", "message", ...}}``."""
    data = error.get("data")
    if isinstance(data, Mapping) and data.get("name"):
        message = data.get("message")
        if not isinstance(message, str):
            message = str(error.get("message", ""))
        debug = data.get("debug")
        return classify(
            str(data["name"]),
            message,
            info,
            debug=debug if isinstance(debug, str) else None,
            extra={"jsonrpc_code": error.get("code")},
        )
    code = error.get("code")
    message = str(error.get("message", "JSON-RPC error"))
    if code == 100:  # "Odoo Session Expired" (JsonRPCDispatcher.handle_error)
        return classify("odoo.http.SessionExpiredException", message, info)
    if code == 404:
        return classify("werkzeug.exceptions.NotFound", message, info)
    return classify("builtins.Exception", message, info, extra={"jsonrpc_code": code})


# --- XML-RPC -----------------------------------------------------------------------------------

_EXC_LINE = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?::[ \t]?(?P<message>.*))?$")
_TB_HEADER = "Traceback (most recent call last):"


def parse_traceback(text: str) -> tuple[str, str]:
    """Return ``(exception name, message)`` of the *final* exception in a formatted traceback.

    XML-RPC fault 1 carries ``traceback.format_exception`` output (§1.1). Frames are indented;
    the exception line (``ValueError: Invalid field 'foo' ...``, possibly with a multi-line
    message) follows the last frame of the last ``Traceback`` block (chained exceptions print
    the original first).
    """
    lines = text.rstrip().splitlines()
    start = 0
    for index, line in enumerate(lines):
        if line.startswith(_TB_HEADER):
            start = index + 1
    tail = lines[start:]
    index = 0
    if start:
        while index < len(tail) and (not tail[index].strip() or tail[index][:1] in (" ", "\t")):
            index += 1
    for offset, line in enumerate(tail[index:]):
        match = _EXC_LINE.match(line)
        if match:
            rest = tail[index + offset + 1 :]
            message = "\n".join([match.group("message") or "", *rest]).strip()
            return _full_name(match.group("name")), message
    last = lines[-1].strip() if lines else ""
    return "builtins.Exception", last


def from_xmlrpc_fault(fault_code: int | str, fault_string: str, info: CallInfo) -> OdooError:
    """Map a ``/xmlrpc/2`` fault (int code) — or a legacy ``/xmlrpc`` one (string code)."""
    extra = {"fault_code": fault_code}
    if fault_code == 3 or fault_code == "AccessDenied":
        return classify("odoo.exceptions.AccessDenied", fault_string, info, extra=extra)
    if fault_code == 4:
        return classify("odoo.exceptions.AccessError", fault_string, info, extra=extra)
    if fault_code == 2:
        name = "odoo.exceptions.UserError"
        if any(marker in fault_string for marker in _MISSING_MARKERS):
            name = "odoo.exceptions.MissingError"
        return classify(name, fault_string, info, extra=extra)
    if isinstance(fault_code, str) and fault_code.startswith("warning -- "):
        # Legacy route: 'warning -- MissingError\n\n<msg>' (§1.1).
        head, _, message = fault_code.partition("\n\n")
        kind = head.removeprefix("warning -- ").strip() or "UserError"
        kind = "UserError" if kind == "Warning" else kind
        return classify(f"odoo.exceptions.{kind}", message or fault_string, info, extra=extra)
    name, message = parse_traceback(fault_string)
    return classify(name, message, info, debug=fault_string, extra=extra)


# --- JSON-2 ------------------------------------------------------------------------------------


def from_json2_error(status: int, body: Any, info: CallInfo) -> OdooError:
    """Map a JSON-2 error: the body's ``name`` when Odoo wrote it, else the HTTP status."""
    extra = {"status": status}
    if isinstance(body, Mapping) and isinstance(body.get("name"), str):
        message = body.get("message")
        debug = body.get("debug")
        return classify(
            body["name"],
            message if isinstance(message, str) else "",
            info,
            debug=debug if isinstance(debug, str) else None,
            extra=extra,
        )
    return from_http_status(status, info, detail=str(body)[:200] if body else "")


def from_http_status(status: int, info: CallInfo, *, detail: str = "") -> OdooError:
    """A response that Odoo's dispatchers did not write (a proxy, a wrong URL, a crash page).

    503 and 429 mean the request was not processed, so even a ``create`` can be sent again;
    502/504 and other 5xx leave that open (the upstream may have committed).
    """
    common: dict[str, Any] = {
        "odoo_exception": None,
        "protocol": info.protocol,
        "model": info.model,
        "method": info.method,
        "extra": {"status": status},
    }
    message = f"HTTP {status} from Odoo endpoint" + (f": {detail}" if detail else "")
    if status == 401:
        return OdooAuthError(message, **common)
    if status == 403:
        return OdooAccessError(message, **common)
    if status == 409:
        return OdooConcurrencyError(message, **common)
    if status in (429, 503):
        return OdooTransportError(message, **common)
    if status >= 500:
        return OdooTransportError(message, maybe_committed=True, **common)
    if 300 <= status < 400:
        return OdooInvalidRequestError(message, reason="redirect", **common)
    return OdooInvalidRequestError(message, **common)

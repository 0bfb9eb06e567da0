"""XML-RPC: ``POST /xmlrpc/2/<service>`` (int faultCode) and legacy ``/xmlrpc/<service>``.

Reference §1.1. Faults travel with HTTP 200 and ``text/xml``. Responses are marshalled like
Odoo's ``OdooMarshaller``: datetimes become ``'YYYY-MM-DD HH:MM:SS'`` strings (not
``dateTime.iso8601``), dates ``'YYYY-MM-DD'``, bytes become strings and XML control characters
are stripped. ``allow_none`` stays off, so a method returning ``None`` answers with fault 1
"cannot marshal None unless allow_none is enabled" although its transaction already committed.
A recordset result (17.0/18.0, e.g. ``activity_schedule``) cannot be marshalled either.
"""

from __future__ import annotations

import re
import xmlrpc.client
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import xmlrpc_fault, xmlrpc_legacy_fault
from ..methods import Records
from ..orm import DATETIME_FORMAT
from .base import Runtime, client_source, delay, object_call_gate, run_sync

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_recordset_classes: dict[str, type] = {}


def _recordset_placeholder(model: str) -> object:
    """An object the stdlib marshaller refuses the way it refuses an Odoo recordset:
    ``cannot marshal <class 'odoo.api.mail.activity'> objects``."""
    cls = _recordset_classes.get(model)
    if cls is None:
        cls = type(model, (), {"__module__": "odoo.api", "__qualname__": model, "__slots__": ()})
        _recordset_classes[model] = cls
    return cls()


def odoo_marshal(value: Any) -> Any:
    """Apply ``OdooMarshaller``'s conversions before the stdlib dumps the value."""
    if isinstance(value, str):
        return _CONTROL_CHARS.sub("", value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return _CONTROL_CHARS.sub("", value.decode(errors="replace"))
    if isinstance(value, dict):
        return {k: odoo_marshal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [odoo_marshal(v) for v in value]
    if isinstance(value, Records):
        return _recordset_placeholder(value.model)
    return value


def _normalize_params(value: Any) -> Any:
    """Incoming ``dateTime`` values arrive as ``datetime`` (18.0 parses with use_datetime)."""
    if isinstance(value, xmlrpc.client.DateTime):
        return datetime.strptime(value.value, "%Y%m%dT%H:%M:%S")
    if isinstance(value, xmlrpc.client.Binary):
        return value.data
    if isinstance(value, list):
        return [_normalize_params(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalize_params(v) for k, v in value.items()}
    return value


def _xml(body: str) -> Response:
    return Response(body, status_code=200, media_type="text/xml")


def _fault(exc: BaseException, legacy: bool) -> Response:
    if legacy:
        code: Any
        code, text = xmlrpc_legacy_fault(exc)
    else:
        code, text = xmlrpc_fault(exc)
    fault = xmlrpc.client.Fault(code, _CONTROL_CHARS.sub("", text))
    return _xml(xmlrpc.client.dumps(fault, allow_none=False))


def _dumps(result: Any) -> str:
    return xmlrpc.client.dumps((odoo_marshal(result),), methodresponse=True, allow_none=False)


async def handle(request: Request, runtime: Runtime, service: str, *, legacy: bool) -> Response:
    """Dispatch one XML-RPC request to the ``common`` or ``object`` service."""
    body = await request.body()
    source = client_source(request)
    try:
        params, method = xmlrpc.client.loads(body, use_datetime=True)
    except Exception as exc:
        return _fault(exc, legacy)
    params = tuple(_normalize_params(list(params)))
    if service == "object" and method in ("execute", "execute_kw"):
        model = params[3] if len(params) > 3 and isinstance(params[3], str) else "?"
        name = params[4] if len(params) > 4 and isinstance(params[4], str) else "?"
        fault, early = await object_call_gate(runtime, "xmlrpc", model, name)
        if early is not None:
            return early
        try:
            result = await run_sync(runtime.service.object, method, params, source, fault)
        except Exception as exc:
            return _fault(exc, legacy)
    else:
        runtime.rpc_log.record("xmlrpc", service, method or "?")
        await delay(runtime)
        try:
            if service == "common":
                result = await run_sync(runtime.service.common, method, params, source)
            elif service == "object":
                result = await run_sync(runtime.service.object, method, params, source)
            else:
                raise KeyError(service)
        except Exception as exc:
            return _fault(exc, legacy)
    try:
        return _xml(_dumps(result))
    except Exception as exc:
        # After the commit, exactly like Odoo (reference §1.1 "None cannot be returned").
        return _fault(exc, legacy)

"""An ``httpx.MockTransport`` handler that speaks Odoo's three wire formats.

Tests describe behaviour once, protocol-agnostically — a handler gets a decoded :class:`Call`
and returns a value or a :class:`Fault` — and this module encodes it the way Odoo does, per
``reference/odoo-external-api.md``: JSON-RPC errors as HTTP 200 with ``error.data.name``
(§1.2), ``/xmlrpc/2`` faults with int codes and a traceback for code 1 (§1.1), JSON-2 errors as
HTTP status + ``{"name", "message", ...}`` (§1.3). ``None`` results follow §1.1/§1.2 too.
"""

from __future__ import annotations

import json
import threading
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import wait_none

from app.sync.odoo import OdooClient

DB = "waybill-test"
LOGIN = "integration@example.com"
API_KEY = "0123456789abcdef0123456789abcdef01234567"  # 40 hex chars, like a real key (§1.4)
UID = 2
URL = "http://odoo.test"

VERSIONS: dict[str, dict[str, Any]] = {
    "17.0": {
        "server_version": "17.0-20240709",
        "server_version_info": [17, 0, 0, "final", 0, ""],
        "server_serie": "17.0",
        "protocol_version": 1,
    },
    "18.0": {
        "server_version": "18.0-20250702",
        "server_version_info": [18, 0, 0, "final", 0, ""],
        "server_serie": "18.0",
        "protocol_version": 1,
    },
    "19.0": {
        "server_version": "19.0+e-20251227",
        "server_version_info": [19, 0, 0, "final", 0, ""],
        "server_serie": "19.0",
        "protocol_version": 1,
    },
}

# /xmlrpc/2 codes (§1.1 "Fault mapping"); everything else is code 1 with a traceback.
_XMLRPC_CODES = {"odoo.exceptions.AccessError": 4, "odoo.exceptions.AccessDenied": 3}
_USER_ERRORS = {
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.MissingError",
    "odoo.exceptions.LockError",
    "odoo.exceptions.RedirectWarning",
}
# JSON-2 statuses (§1.3 table).
_JSON2_STATUS = {
    "odoo.exceptions.UserError": 422,
    "odoo.exceptions.ValidationError": 422,
    "odoo.exceptions.AccessError": 403,
    "odoo.exceptions.AccessDenied": 403,
    "odoo.exceptions.MissingError": 404,
    "odoo.exceptions.LockError": 409,
    "werkzeug.exceptions.NotFound": 404,
    "werkzeug.exceptions.UnprocessableEntity": 422,
    "werkzeug.exceptions.Unauthorized": 401,
}


@dataclass
class Fault:
    """An exception raised inside Odoo: its JSON-RPC name (``builtins.ValueError``) and text."""

    name: str
    message: str


@dataclass
class Raw:
    """A response Odoo did not write (a proxy page, a maintenance page, a redirect)."""

    status: int
    body: bytes = b""
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One decoded request. For RPC ``args``/``kw`` are execute_kw's; for JSON-2 ``kw`` is the
    body without ``ids``/``context``, which are split out."""

    protocol: str
    service: str  # "common", "object", "json2", "http"
    model: str | None
    method: str
    args: list[Any]
    kw: dict[str, Any]
    ids: list[int] | None
    context: dict[str, Any] | None
    password: str | None
    request: httpx.Request


Handler = Callable[[Call], Any]


def traceback_text(name: str, message: str) -> str:
    """What ``traceback.format_exception`` prints for an exception raised in Odoo."""
    short = name.removeprefix("builtins.")
    return (
        "Traceback (most recent call last):\n"
        '  File "/opt/odoo/odoo/addons/base/controllers/rpc.py", line 150, in xmlrpc_2\n'
        "    response = self._xmlrpc(service)\n"
        '  File "/opt/odoo/odoo/service/model.py", line 152, in execute_cr\n'
        "    result = retrying(partial(call_kw, recs, method, args, kw), env)\n"
        + (f"{short}: {message}\n" if message else f"{short}\n")
    )


class FakeOdoo:
    """A callable for ``httpx.MockTransport``; ``handler`` answers the ``object`` calls."""

    def __init__(
        self,
        protocol: str,
        handler: Handler | None = None,
        *,
        version: str = "17.0",
        api_key: str = API_KEY,
        uid: int = UID,
        common: Handler | None = None,
    ) -> None:
        self.protocol = protocol
        self.handler = handler or (lambda call: NotImplemented)
        self.version = version
        self.api_key = api_key
        self.uid = uid
        self.common = common  # answers version/authenticate when set (NotImplemented = default)
        self.calls: list[Call] = []
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    # --- introspection helpers -----------------------------------------------------------

    def object_calls(self, method: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.service in ("object", "json2")
            and (method is None or c.method == method)
            and not (c.model == "res.users" and c.method == "context_get")
        ]

    def count(self, method: str) -> int:
        return sum(1 for c in self.calls if c.method == method)

    # --- dispatch ------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        path = request.url.path
        if path.startswith("/xmlrpc/2/"):
            return self._xmlrpc(request, path.rsplit("/", 1)[-1])
        if path == "/jsonrpc":
            return self._jsonrpc(request)
        if path.startswith("/json/2/"):
            return self._json2(request)
        if path in ("/json/version", "/web/version"):
            call = Call(self.protocol, "http", None, "version", [], {}, None, None, None, request)
            self._record(call)
            result = self._common_answer(call)
            if isinstance(result, httpx.Response):
                return result
            info = VERSIONS[self.version]
            return httpx.Response(
                200, json={"version_info": info["server_version_info"], "version": self.version}
            )
        return httpx.Response(
            404, text="<html>404: Not Found</html>", headers={"content-type": "text/html"}
        )

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _answer(self, call: Call, *, default: Any = True) -> Any:
        """Run the handler; an exception *class* or ``httpx`` error it raises propagates."""
        result = self.handler(call)
        if result is NotImplemented:
            return default
        if isinstance(result, Raw):
            return httpx.Response(
                result.status,
                content=result.body,
                headers={"content-type": result.content_type, **result.headers},
            )
        return result

    def _common_answer(self, call: Call) -> Any:
        if self.common is None:
            return NotImplemented
        answer = self.common(call)
        if isinstance(answer, Raw):
            return httpx.Response(
                answer.status,
                content=answer.body,
                headers={"content-type": answer.content_type, **answer.headers},
            )
        return answer

    def _common(self, call: Call) -> Any:
        answer = self._common_answer(call)
        if answer is not NotImplemented:
            return answer
        if call.method == "version":
            return VERSIONS[self.version]
        if call.method == "authenticate":
            db, _login, password, _env = call.args
            return self.uid if password == self.api_key and db == DB else False
        return Fault("builtins.Exception", f"unknown common method {call.method}")

    def _object(self, call: Call) -> Any:
        if call.password != self.api_key:
            return Fault("odoo.exceptions.AccessDenied", "Access Denied")
        return self._answer(call)

    # --- JSON-RPC ------------------------------------------------------------------------

    def _jsonrpc(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        params = body["params"]
        service, method, args = params["service"], params["method"], params["args"]
        if service == "object":
            _db, _uid, password, model, orm_method, call_args, kw = args
            kw = dict(kw)
            context = kw.pop("context", None)
            call = Call(
                "jsonrpc",
                "object",
                model,
                orm_method,
                call_args,
                kw,
                None,
                context,
                password,
                request,
            )
            self._record(call)
            result = self._object(call)
        else:
            call = Call("jsonrpc", service, None, method, args, {}, None, None, None, request)
            self._record(call)
            result = self._common(call)
        if isinstance(result, httpx.Response):
            return result
        envelope: dict[str, Any] = {"jsonrpc": "2.0", "id": body.get("id")}
        if isinstance(result, Fault):
            envelope["error"] = {
                "code": 0 if self.version == "19.0" else 200,
                "message": "Odoo Server Error",
                "data": {
                    "name": result.name,
                    "debug": traceback_text(result.name, result.message),
                    "message": result.message,
                    "arguments": [result.message],
                    "context": {},
                },
            }
        elif result is not None:  # §1.2: no "result" key when the method returned None
            envelope["result"] = result
        return httpx.Response(200, json=envelope)

    # --- XML-RPC -------------------------------------------------------------------------

    def _xmlrpc(self, request: httpx.Request, service: str) -> httpx.Response:
        params, method = xmlrpc.client.loads(request.content)
        if service == "object":
            _db, _uid, password, model, orm_method, call_args, kw = params
            kw = dict(kw)
            context = kw.pop("context", None)
            call = Call(
                "xmlrpc",
                "object",
                model,
                orm_method,
                list(call_args),
                kw,
                None,
                context,
                password,
                request,
            )
            self._record(call)
            result = self._object(call)
        else:
            call = Call(
                "xmlrpc", service, None, method, list(params), {}, None, None, None, request
            )
            self._record(call)
            result = self._common(call)
        if isinstance(result, httpx.Response):
            return result
        if isinstance(result, Fault):
            return _xml(xmlrpc.client.dumps(_xml_fault(result)))
        try:
            # Odoo dumps with allow_none=False (§1.1): None faults *after* the commit.
            return _xml(xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False))
        except TypeError as exc:
            return _xml(
                xmlrpc.client.dumps(xmlrpc.client.Fault(1, traceback_text("TypeError", str(exc))))
            )

    # --- JSON-2 --------------------------------------------------------------------------

    def _json2(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/")
        model, method = parts[3], parts[4]
        body = json.loads(request.content) if request.content else {}
        ids = body.pop("ids", None)
        context = body.pop("context", None)
        auth = request.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        call = Call("json2", "json2", model, method, [], body, ids, context, key, request)
        self._record(call)
        if scheme.lower() != "bearer" or key.strip() != self.api_key:
            result: Any = Fault(
                "werkzeug.exceptions.Unauthorized", "401 Unauthorized: Invalid apikey"
            )
        elif model == "res.users" and method == "context_get":
            result = self._answer(call, default=NotImplemented)
            if result is NotImplemented:
                result = {"lang": "en_US", "tz": "UTC", "uid": self.uid}
        else:
            result = self._answer(call)
        if isinstance(result, httpx.Response):
            return result
        if isinstance(result, Fault):
            status = _JSON2_STATUS.get(result.name, 500)
            return httpx.Response(
                status,
                json={
                    "name": result.name,
                    "message": result.message,
                    "arguments": [result.message],
                    "context": {},
                    "debug": traceback_text(result.name, result.message),
                },
            )
        return httpx.Response(
            200, content=json.dumps(result).encode(), headers={"content-type": "application/json"}
        )


def _xml(text: str) -> httpx.Response:
    return httpx.Response(200, content=text.encode(), headers={"content-type": "text/xml"})


def _xml_fault(fault: Fault) -> xmlrpc.client.Fault:
    if fault.name in _XMLRPC_CODES:
        return xmlrpc.client.Fault(_XMLRPC_CODES[fault.name], fault.message)
    if fault.name in _USER_ERRORS:
        return xmlrpc.client.Fault(2, fault.message)
    return xmlrpc.client.Fault(1, traceback_text(fault.name, fault.message))


def make_client(
    protocol: str,
    handler: Handler | None = None,
    *,
    version: str | None = None,
    api_key: str = API_KEY,
    **kwargs: Any,
) -> tuple[OdooClient, FakeOdoo]:
    """A client wired to a :class:`FakeOdoo`, retries without sleeping."""
    version = version or ("19.0" if protocol == "json2" else "17.0")
    fake = FakeOdoo(protocol, handler, version=version)
    kwargs.setdefault("retry_wait", wait_none())
    client = OdooClient(
        url=URL,
        db=DB,
        username=LOGIN,
        api_key=api_key,
        protocol=protocol,  # type: ignore[arg-type]
        transport=httpx.MockTransport(fake),
        **kwargs,
    )
    return client, fake


PROTOCOLS = ("jsonrpc", "xmlrpc", "json2")

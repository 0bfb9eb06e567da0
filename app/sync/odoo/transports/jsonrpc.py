"""JSON-RPC over ``POST /jsonrpc`` (§1.2): ``{"service", "method", "args"}`` in ``params``.

Errors come back as HTTP 200 with an ``error`` object whose ``data.name`` is the Odoo exception
(:func:`app.sync.odoo.translate.from_jsonrpc_error`). A method returning ``None`` produces a
response *without* ``result``; we return ``None`` for it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from app.sync.odoo.translate import CallInfo, from_http_status, from_jsonrpc_error
from app.sync.odoo.transports.base import (
    Protocol,
    ServiceRpcTransport,
    encode,
)

_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class JsonRpcTransport(ServiceRpcTransport):
    protocol: ClassVar[Protocol] = "jsonrpc"

    _ids = itertools.count(1)  # request ids; next() on a count is atomic under the GIL

    def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None,
        params: Mapping[str, Any],
        *,
        uid: int | None = None,
        positional: Sequence[str] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        return self.execute_kw(
            model, method, ids, params, uid=uid, positional=positional, context=context
        )

    def _rpc(self, service: str, method: str, args: list[Any], info: CallInfo) -> Any:
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(self._ids),
            "params": {"service": service, "method": method, "args": encode(args)},
        }
        content = json.dumps(body, separators=(",", ":")).encode()
        response = self._send("POST", "/jsonrpc", info, content=content, headers=_HEADERS)
        return self._result(response, info)

    def _result(self, response: httpx.Response, info: CallInfo) -> Any:
        if response.status_code != 200:
            raise from_http_status(response.status_code, info, detail=_snippet(response))
        try:
            payload = response.json()
        except ValueError:
            raise self._not_odoo(response, info, "body is not JSON") from None
        if not isinstance(payload, Mapping) or not (
            "result" in payload or "error" in payload or payload.get("jsonrpc") == "2.0"
        ):
            raise self._not_odoo(response, info, "not a JSON-RPC response")
        error = payload.get("error")
        if isinstance(error, Mapping):
            raise from_jsonrpc_error(error, info)
        return payload.get("result")  # absent when the method returned None (§1.2)


def _snippet(response: httpx.Response) -> str:
    if "html" in response.headers.get("content-type", ""):
        return ""
    return response.text[:200]

"""XML-RPC over ``/xmlrpc/2/common`` and ``/xmlrpc/2/object`` (§1.1).

``xmlrpc.client.ServerProxy`` has no per-request timeout and opens a connection per call, so we
only borrow its (de)serialiser, ``dumps``/``loads``, and send the bytes with the shared
``httpx.Client``. Requests are dumped with ``allow_none=True`` so optional ``None`` values can be
sent (Odoo's ``loads`` accepts ``<nil/>``); Odoo dumps its responses with ``allow_none=False``,
which is why a method returning ``None`` faults — see :meth:`XmlRpcTransport.call`.
We use the ``/xmlrpc/2`` route because its faults carry an int ``faultCode``.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from xml.parsers.expat import ExpatError

import httpx
import structlog

from app.sync.odoo.errors import OdooServerError
from app.sync.odoo.translate import CallInfo, from_http_status, from_xmlrpc_fault
from app.sync.odoo.transports.base import (
    NONE_RETURNING_METHODS,
    Protocol,
    ServiceRpcTransport,
    encode,
)

_HEADERS = {"Content-Type": "text/xml", "Accept": "text/xml"}
log = structlog.get_logger("waybill.odoo")


class XmlRpcTransport(ServiceRpcTransport):
    protocol: ClassVar[Protocol] = "xmlrpc"

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
        """``execute_kw(db, uid, key, model, method, args, kw)``.

        For the methods the reference lists as returning ``None`` (§3.3) the fault "cannot
        marshal None unless allow_none is enabled" is raised by Odoo while dumping the result,
        *after* the transaction committed (§1.1), so it is success and we return ``None``. For
        any other method that fault stays an :class:`OdooServerError` with ``maybe_committed``.
        """
        try:
            return self.execute_kw(
                model, method, ids, params, uid=uid, positional=positional, context=context
            )
        except OdooServerError as exc:
            if (
                exc.reason == "result_not_marshallable"
                and method in NONE_RETURNING_METHODS
                and "cannot marshal None" in exc.odoo_message
            ):
                log.debug("odoo_xmlrpc_none_result", model=model, method=method)
                return None
            raise

    def _rpc(self, service: str, method: str, args: list[Any], info: CallInfo) -> Any:
        content = xmlrpc.client.dumps(
            tuple(encode(list(args))), methodname=method, allow_none=True
        ).encode("utf-8")
        response = self._send(
            "POST", f"/xmlrpc/2/{service}", info, content=content, headers=_HEADERS
        )
        return self._result(response, info)

    def _result(self, response: httpx.Response, info: CallInfo) -> Any:
        if response.status_code != 200:
            raise from_http_status(response.status_code, info)
        if "html" in response.headers.get("content-type", "").lower():
            raise self._not_odoo(response, info, "HTML instead of XML-RPC")
        try:
            params, _ = xmlrpc.client.loads(response.content, use_datetime=False)
        except xmlrpc.client.Fault as fault:
            raise from_xmlrpc_fault(fault.faultCode, str(fault.faultString), info) from None
        except (ExpatError, xmlrpc.client.ResponseError, ValueError):
            raise self._not_odoo(response, info, "body is not XML-RPC") from None
        if len(params) != 1:
            raise self._not_odoo(response, info, "XML-RPC response without one value")
        return params[0]

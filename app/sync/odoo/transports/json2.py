"""Odoo 19.0's JSON-2 API: ``POST /json/2/<model>/<method>`` with a bearer API key (§1.3).

The body holds the method's *named* parameters plus ``ids`` and ``context``; positional
arguments do not exist here, so ``positional`` is ignored. Errors are an HTTP status plus a
``{"name", "message", ...}`` body. There is no login step: the key authenticates every request
(password logins are refused), so ``needs_uid`` is False and :meth:`authenticate` only resolves
our own uid, with ``res.users/context_get`` as the reference suggests (§2.12).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from app.sync.odoo.errors import OdooAuthError, OdooError
from app.sync.odoo.translate import CallInfo, from_http_status, from_json2_error
from app.sync.odoo.transports.base import (
    Protocol,
    ServerVersion,
    Transport,
    encode,
    version_from_info,
)

# 19.0 serves the version over plain HTTP at both paths (§1.1, odoo/addons/rpc/controllers).
_VERSION_PATHS = ("/json/version", "/web/version")


class Json2Transport(Transport):
    protocol: ClassVar[Protocol] = "json2"
    needs_uid: ClassVar[bool] = False

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"bearer {self._api_key.get_secret_value()}",
            "X-Odoo-Database": self._db,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def version(self) -> ServerVersion:
        info = CallInfo(self.protocol, None, "version")
        response: httpx.Response | None = None
        for path in _VERSION_PATHS:
            response = self._send("GET", path, info, headers={"Accept": "application/json"})
            if response.status_code != 404:
                break
        assert response is not None
        if response.status_code != 200:
            raise from_http_status(response.status_code, info)
        try:
            body = response.json()
        except ValueError:
            raise self._not_odoo(response, info, "version body is not JSON") from None
        if not isinstance(body, Mapping):
            raise self._not_odoo(response, info, "version body is not an object")
        return version_from_info(
            body.get("server_serie"), body.get("version"), body.get("version_info")
        )

    def authenticate(self) -> int:
        """Our uid: ``context_get`` carries it on 19.0; else look our login up in ``res.users``.

        A refused key is a 401 ``Unauthorized "Invalid apikey"`` (§1.6) → ``OdooAuthError``.
        """
        context = self.call("res.users", "context_get", None, {})
        if isinstance(context, Mapping) and _is_int(context.get("uid")):
            return int(context["uid"])
        found = self.call(
            "res.users",
            "search_read",
            None,
            {"domain": [["login", "=", self._login]], "fields": ["id"], "limit": 1},
        )
        if isinstance(found, list) and found and _is_int(found[0].get("id")):
            return int(found[0]["id"])
        raise OdooAuthError(
            "the API key is valid but its user could not be resolved by login",
            protocol=self.protocol,
            model="res.users",
            method="context_get",
            reason="uid_unresolved",
        )

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
        info = CallInfo(self.protocol, model, method)
        body: dict[str, Any] = {k: encode(v) for k, v in params.items()}
        if ids is not None:
            body["ids"] = list(ids)
        if context:
            body["context"] = encode(context)
        path = f"/json/2/{quote(model, safe='.')}/{quote(method, safe='')}"
        content = json.dumps(body, separators=(",", ":")).encode()
        response = self._send("POST", path, info, content=content, headers=self._headers())
        return self._result(response, info)

    def _result(self, response: httpx.Response, info: CallInfo) -> Any:
        try:
            payload = response.json()
        except ValueError:
            payload = _NOT_JSON
        if response.status_code == 200:
            if payload is _NOT_JSON and not response.content.strip():
                return None  # Odoo writes ``null`` for None; an empty body means the same
            if payload is _NOT_JSON:
                raise self._not_odoo(response, info, "body is not JSON")
            return payload
        error: OdooError = (
            from_http_status(response.status_code, info)
            if payload is _NOT_JSON
            else from_json2_error(response.status_code, payload, info)
        )
        raise error


_NOT_JSON = object()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

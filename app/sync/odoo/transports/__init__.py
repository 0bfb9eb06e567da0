"""One transport per protocol behind :class:`~app.sync.odoo.transports.base.Transport`."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from app.sync.odoo.transports.base import (
    DEFAULT_POSITIONAL,
    NONE_RETURNING_METHODS,
    Protocol,
    ServerVersion,
    Transport,
)
from app.sync.odoo.transports.json2 import Json2Transport
from app.sync.odoo.transports.jsonrpc import JsonRpcTransport
from app.sync.odoo.transports.xmlrpc import XmlRpcTransport

TRANSPORTS: dict[str, type[Transport]] = {
    "jsonrpc": JsonRpcTransport,
    "xmlrpc": XmlRpcTransport,
    "json2": Json2Transport,
}


def make_transport(
    protocol: str, http: httpx.Client, *, db: str, login: str, api_key: SecretStr
) -> Transport:
    try:
        cls = TRANSPORTS[protocol]
    except KeyError:
        raise ValueError(
            f"unknown Odoo protocol {protocol!r}; use one of {sorted(TRANSPORTS)}"
        ) from None
    return cls(http, db=db, login=login, api_key=api_key)


__all__ = [
    "DEFAULT_POSITIONAL",
    "NONE_RETURNING_METHODS",
    "TRANSPORTS",
    "Json2Transport",
    "JsonRpcTransport",
    "Protocol",
    "ServerVersion",
    "Transport",
    "XmlRpcTransport",
    "make_transport",
]

"""Live sandboxes on loopback sockets, driven with raw XML-RPC/JSON-RPC/JSON-2 requests."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server

FIXED_NOW = datetime(2025, 3, 14, 9, 30, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED_NOW


@dataclass
class Live:
    """A running sandbox and raw clients for each protocol."""

    sandbox: OdooSandbox
    url: str

    @property
    def key(self) -> str:
        return self.sandbox.api_key

    def proxy(self, service: str, legacy: bool = False) -> xmlrpc.client.ServerProxy:
        path = f"/xmlrpc/{service}" if legacy else f"/xmlrpc/2/{service}"
        return xmlrpc.client.ServerProxy(self.url + path)

    def x(self, model: str, method: str, args: list[Any], kw: dict[str, Any] | None = None) -> Any:
        """XML-RPC ``execute_kw`` with the API key as password."""
        obj = self.proxy("object")
        return obj.execute_kw(self.sandbox.db, 2, self.key, model, method, args, kw or {})

    def jsonrpc(self, service: str, method: str, args: list[Any]) -> dict[str, Any]:
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 7,
            "params": {"service": service, "method": method, "args": args},
        }
        response = httpx.post(self.url + "/jsonrpc", json=payload, timeout=10)
        assert response.status_code == 200
        data: dict[str, Any] = response.json()
        return data

    def j(
        self, model: str, method: str, args: list[Any], kw: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """JSON-RPC ``execute_kw``; returns the whole response object."""
        call = [self.sandbox.db, 2, self.key, model, method, args, kw or {}]
        return self.jsonrpc("object", "execute_kw", call)

    def json2(
        self,
        model: str,
        method: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        default = {"Authorization": f"bearer {self.key}", "X-Odoo-Database": self.sandbox.db}
        return httpx.post(
            f"{self.url}/json/2/{model}/{method}",
            json=body or {},
            headers=headers if headers is not None else default,
            timeout=10,
        )


@pytest.fixture
def serve() -> Iterator[Callable[..., Live]]:
    """Start a sandbox with the given options; stopped at the end of the test."""
    with ExitStack() as stack:

        def start(**options: Any) -> Live:
            options.setdefault("clock", fixed_clock)
            sandbox = OdooSandbox(**options)
            url = stack.enter_context(run_sandbox_server(sandbox))
            return Live(sandbox, url)

        yield start


def _module_live(version: str) -> Iterator[Live]:
    sandbox = OdooSandbox(version=version, clock=fixed_clock)
    with run_sandbox_server(sandbox) as url:
        yield Live(sandbox, url)


@pytest.fixture(scope="module")
def live17() -> Iterator[Live]:
    yield from _module_live("17.0")


@pytest.fixture(scope="module")
def live18() -> Iterator[Live]:
    yield from _module_live("18.0")


@pytest.fixture(scope="module")
def live19() -> Iterator[Live]:
    yield from _module_live("19.0")


def ready_outgoing(live: Live, *, with_carrier: bool | None = None) -> list[int]:
    """Ids of Ready outgoing transfers, read straight from the store."""
    sandbox = live.sandbox
    types = {r["id"]: r["code"] for r in sandbox.records("stock.picking.type")}
    ids = []
    for row in sandbox.records("stock.picking"):
        if types[row["picking_type_id"]] != "outgoing" or row["state"] != "assigned":
            continue
        if with_carrier is not None and bool(row["carrier_id"]) != with_carrier:
            continue
        ids.append(row["id"])
    return ids

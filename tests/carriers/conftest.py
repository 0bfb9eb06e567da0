"""Carrier tests never leave the machine.

Two locks: the carrier transport runs in loopback-only mode (a non-loopback carrier URL fails
before connecting), and every socket connect in the test process is checked, so even code that
bypasses the transport cannot reach a real carrier host. Accounts used by contract tests always
override ``server_url`` with a loopback URL.
"""

from __future__ import annotations

import io
import ipaddress
import json
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError

import pytest
from pydantic import SecretStr

from app.carriers.accounts import CarrierAccount
from app.carriers.karrio_support import runtime
from app.models import Address, Customs, CustomsItem, Money, Parcel, ShipmentRequest

FIXTURES = Path(__file__).parent / "fixtures"
FAKE_BASE = "http://127.0.0.1:9"  # never listened on: the fake transport answers instead


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    previous = runtime.loopback_only()
    runtime.install(loopback_only=True)
    original = socket.socket.connect

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise AssertionError(f"test tried to connect to non-loopback address {address!r}")
        return original(self, address)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
        runtime.set_loopback_only(previous)


def fixture_bytes(carrier: str, name: str) -> bytes:
    return (FIXTURES / carrier / name).read_bytes()


def fixture_json(carrier: str, name: str) -> Any:
    return json.loads(fixture_bytes(carrier, name))


@dataclass
class Route:
    method: str
    path: re.Pattern[str]
    status: int = 200
    body: bytes | Callable[[Any], bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    raise_: BaseException | None = None


@dataclass
class FakeCarrierHTTP:
    """Stands in for urllib's ``urlopen`` below our transport, so karrio's real request building
    and our transport's recording, guards and error mapping all run."""

    carrier: str
    routes: list[Route] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def on(
        self,
        method: str,
        path: str,
        fixture: str | None = None,
        *,
        status: int = 200,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        raise_: BaseException | None = None,
    ) -> FakeCarrierHTTP:
        data = (
            body if body is not None else (fixture_bytes(self.carrier, fixture) if fixture else b"")
        )
        self.routes.insert(0, Route(method, re.compile(path), status, data, headers or {}, raise_))
        return self

    def __call__(self, req: Any, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        url = req.full_url
        path = url.split("://", 1)[1].split("/", 1)[1] if "/" in url.split("://", 1)[1] else ""
        path = "/" + path
        body = req.data
        self.calls.append(
            {
                "method": req.get_method(),
                "url": url,
                "path": path.split("?")[0],
                "query": path.partition("?")[2],
                "headers": dict(req.header_items()),
                "body": json.loads(body) if body and body[:1] in (b"{", b"[") else body,
                "timeout": timeout,
            }
        )
        for route in self.routes:
            if route.method == req.get_method() and route.path.search(path):
                if route.raise_ is not None:
                    raise route.raise_
                data = route.body(req) if callable(route.body) else route.body
                headers = Message()
                headers["Content-Type"] = "application/json"
                for k, v in route.headers.items():
                    headers[k] = v
                if route.status >= 400:
                    raise HTTPError(url, route.status, "error", headers, io.BytesIO(data))
                return _Response(data, route.status, headers, url)
        raise URLError(ConnectionRefusedError(f"no fake route for {req.get_method()} {path}"))

    def calls_to(self, fragment: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if fragment in c["path"]]


class _Response:
    def __init__(self, data: bytes, status: int, headers: Message, url: str) -> None:
        self._fp = io.BytesIO(data)
        self.status = status
        self.headers = headers
        self.url = url

    def read(self, *args: Any) -> bytes:
        return self._fp.read(*args)

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fp.close()


@pytest.fixture
def fake_http(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], FakeCarrierHTTP]:
    def make(carrier: str) -> FakeCarrierHTTP:
        fake = FakeCarrierHTTP(carrier)
        monkeypatch.setitem(runtime._STATE, "original_urlopen", fake)
        return fake

    return make


def make_account(carrier: str, credentials: dict[str, str], **extra: Any) -> CarrierAccount:
    values: dict[str, Any] = {
        "id": f"test-{carrier}",
        "carrier": carrier,
        "credentials": {k: SecretStr(v) for k, v in credentials.items()},
        "server_url": FAKE_BASE,
        "test_mode": True,
        "webhook_secret": SecretStr("whsec-test-1234"),
        "timeout_seconds": 2.0,
    }
    values.update(extra)
    return CarrierAccount(**values)


def us_request(parcels: int = 1, weight: str = "2") -> ShipmentRequest:
    return ShipmentRequest(
        reference="SO-1001",
        shipper=Address(
            name="Warehouse Team",
            company="ACME Corp",
            street1="1 Main St",
            city="Louisville",
            state_code="KY",
            postal_code="40201",
            country_code="US",
            phone="5025550100",
            email="ship@acme.example",
        ),
        recipient=Address(
            name="Jane Doe",
            street1="2 Peachtree St NW",
            city="Atlanta",
            state_code="GA",
            postal_code="30303",
            country_code="US",
            phone="4045550100",
            residential=True,
        ),
        parcels=[
            Parcel(
                weight=weight, weight_unit="lb", length=10, width=8, height=4, dimension_unit="in"
            )
            for _ in range(parcels)
        ],
    )


def intl_request(parcels: int = 1) -> ShipmentRequest:
    return ShipmentRequest(
        reference="SO-2002",
        shipper=Address(
            name="Versand",
            company="ACME GmbH",
            street1="Hauptstrasse 1",
            city="Berlin",
            postal_code="10115",
            country_code="DE",
            phone="+4930123456",
            email="ship@acme.example",
        ),
        recipient=Address(
            name="Jane Doe",
            company="Doe Ltd",
            street1="10 Downing Street",
            city="London",
            postal_code="SW1A 2AA",
            country_code="GB",
            phone="+442071234567",
            email="jane@doe.example",
        ),
        parcels=[
            Parcel(weight="1.5", weight_unit="kg", length=30, width=20, height=10)
            for _ in range(parcels)
        ],
        customs=Customs(
            items=[
                CustomsItem(
                    description="Cotton T-shirt",
                    quantity=2,
                    unit_value=Money(amount="15.00", currency="EUR"),
                    hs_code="610910",
                    origin_country="DE",
                    weight="0.4",
                )
            ]
        ),
    )

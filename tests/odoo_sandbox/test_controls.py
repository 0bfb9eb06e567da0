"""Sandbox controls: latency, injected faults, the RPC counter, releases, webhook, seeding."""

from __future__ import annotations

import json
import threading
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from app.sync.odoo_sandbox import OdooSandbox

from .conftest import Live, fixed_clock


class Receiver:
    """A tiny webhook receiver on loopback that records every POST."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


def test_latency_is_applied_per_call(serve: Callable[..., Live]) -> None:
    live = serve(version="17.0", demo_data=False, latency_ms=0)
    start = time.perf_counter()
    live.x("res.partner", "search", [[]])
    fast = time.perf_counter() - start
    live.sandbox.latency_ms = 150
    start = time.perf_counter()
    live.x("res.partner", "search", [[]])
    assert time.perf_counter() - start >= 0.15 > fast


def test_serialization_failure_on_each_protocol(serve: Callable[..., Live]) -> None:
    live = serve(version="19.0", demo_data=False)
    live.sandbox.fail_next(3, "serialization")
    with pytest.raises(xmlrpc.client.Fault) as info:
        live.x("res.partner", "create", [{"name": "rolled back"}])
    assert info.value.faultCode == 1
    assert "psycopg2.errors.SerializationFailure" in info.value.faultString
    data = live.j("res.partner", "search", [[]])
    assert data["error"]["data"]["name"] == "psycopg2.errors.SerializationFailure"
    assert live.json2("res.partner", "search", {"domain": []}).status_code == 500
    assert live.x("res.partner", "search_count", [[["name", "=", "rolled back"]]]) == 0


def test_lock_fault_per_version(serve: Callable[..., Live]) -> None:
    live19 = serve(version="19.0", demo_data=False)
    live19.sandbox.fail_next(1, "lock")
    response = live19.json2("res.partner", "write", {"ids": [1], "vals": {"name": "x"}})
    assert response.status_code == 409
    assert response.json()["name"] == "odoo.exceptions.LockError"
    live17 = serve(version="17.0", demo_data=False)
    live17.sandbox.fail_next(1, "lock")
    data = live17.j("res.partner", "write", [[1], {"name": "x"}])
    assert data["error"]["data"]["name"] == "psycopg2.errors.LockNotAvailable"


def test_unavailable_and_timeout(serve: Callable[..., Live]) -> None:
    live = serve(version="17.0", demo_data=False, timeout_seconds=0.6)
    live.sandbox.fail_next(1, "unavailable")
    body = xmlrpc.client.dumps((live.sandbox.db, 2, live.key, "res.partner", "search", [[]]),
                               "execute_kw")  # fmt: skip
    response = httpx.post(live.url + "/xmlrpc/2/object", content=body)
    assert response.status_code == 503 and "<html>" in response.text
    live.sandbox.fail_next(1, "timeout")
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(live.url + "/xmlrpc/2/object", content=body, timeout=0.2)
    time.sleep(0.5)
    assert httpx.post(live.url + "/xmlrpc/2/object", content=body).status_code == 200
    with pytest.raises(ValueError):
        live.sandbox.fail_next(1, "gremlins")


def test_rpc_counter_and_reset(serve: Callable[..., Live]) -> None:
    live = serve(version="18.0")
    live.sandbox.reset_rpc_calls()
    live.x("stock.picking", "search_read", [[]], {"fields": ["name"], "limit": 2})
    live.j("stock.picking", "search_read", [[]], {"fields": ["name"], "limit": 2})
    live.x("stock.move", "read", [[1]], {"fields": ["product_id"]})
    live.proxy("common").authenticate(live.sandbox.db, "admin", "admin", {})
    calls = live.sandbox.rpc_calls
    assert calls[("stock.picking", "search_read")] == 2
    assert calls[("stock.move", "read")] == 1
    assert calls[("common", "authenticate")] == 1
    over_http = httpx.get(live.url + "/sandbox/rpc_calls").json()
    assert over_http["total"] == 4
    httpx.post(live.url + "/sandbox/rpc_calls/reset")
    assert live.sandbox.rpc_calls == {}


def test_http_controls(serve: Callable[..., Live]) -> None:
    live = serve(version="17.0")
    status = httpx.get(live.url + "/sandbox/status").json()
    assert status["version"] == "17.0" and status["uid"] == 2
    assert httpx.post(live.url + "/sandbox/latency", json={"latency_ms": 5}).json() == {
        "latency_ms": 5.0
    }
    assert live.sandbox.latency_ms == 5
    response = httpx.post(live.url + "/sandbox/fail_next", json={"n": 2, "kind": "unavailable"})
    assert response.json() == {"pending": ["unavailable", "unavailable"]}
    live.sandbox.faults.clear()
    ids = httpx.post(live.url + "/sandbox/release_pickings", json={"n": 2}).json()["ids"]
    assert len(ids) == 2
    assert all(live.sandbox.get("stock.picking", i)["state"] == "assigned" for i in ids)  # type: ignore[index]
    rows = httpx.get(live.url + "/sandbox/records/delivery.carrier").json()
    assert {r["name"] for r in rows} >= {"UPS Ground", "DHL Express Worldwide"}
    bad = httpx.post(live.url + "/sandbox/fail_next", json={"n": 1, "kind": "nope"})
    assert bad.status_code == 400


def test_mark_ready_and_release_update_write_date(serve: Callable[..., Live]) -> None:
    current = [datetime(2025, 3, 14, 9, 30, tzinfo=UTC)]
    live = serve(version="17.0", clock=lambda: current[0])
    current[0] = datetime(2025, 3, 15, 8, 0)
    waiting = live.x(
        "stock.picking",
        "search",
        [[["picking_type_code", "=", "outgoing"], ["state", "in", ["confirmed", "waiting"]]]],
        {"order": "id asc"},
    )
    live.sandbox.mark_ready(waiting[0])
    [row] = live.x("stock.picking", "read", [[waiting[0]]], {"fields": ["state", "write_date"]})
    assert row == {"id": waiting[0], "state": "assigned", "write_date": "2025-03-15 08:00:00"}
    released = live.sandbox.release_pickings(len(waiting) + 2)
    assert waiting[1] in released and len(released) == len(waiting) + 2
    since = live.x(
        "stock.picking", "search", [[["write_date", ">=", "2025-03-15 08:00:00"],
                                     ["state", "=", "assigned"]]]
    )  # fmt: skip
    assert set(released) <= set(since)


@pytest.mark.parametrize("version", ["17.0", "19.0"])
def test_automation_webhook_push(
    serve: Callable[..., Live], receiver: Receiver, version: str
) -> None:
    live = serve(version=version)
    live.sandbox.set_automation_webhook(
        receiver.url, ["name", "state", "carrier_id", "write_date"], duplicates=2
    )
    [picking] = live.sandbox.release_pickings(1)
    live.sandbox.wait_for_webhooks()
    deadline = time.monotonic() + 5
    while len(receiver.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(receiver.requests) == 2  # the same notification, twice
    headers, payload = receiver.requests[0]
    assert headers["Content-Type"] == "application/json"
    assert "Authorization" not in headers
    row = live.sandbox.get("stock.picking", picking)
    assert row is not None
    assert payload == {
        "_action": "Send Webhook Notification(#1)",
        "_id": picking,
        "_model": "stock.picking",
        "id": picking,
        "name": row["name"],
        "state": "assigned",
        "carrier_id": row["carrier_id"] or False,
        "write_date": row["write_date"].strftime("%Y-%m-%d %H:%M:%S"),
    }
    assert list(payload) == sorted(payload)
    with pytest.raises(Exception, match="Group-restricted"):
        live.sandbox.set_automation_webhook(receiver.url, ["activity_ids"])


def test_webhook_before_commit_in_17_only(serve: Callable[..., Live], receiver: Receiver) -> None:
    for version, expected in (("17.0", 1), ("19.0", 0)):
        live = serve(version=version)
        live.sandbox.set_automation_webhook(receiver.url, ["state"])
        receiver.requests.clear()
        pid = live.x("stock.picking", "search", [[["state", "=", "confirmed"]]], {"limit": 1})[0]

        def fail_after_write(env: Any, pid: int = pid) -> None:
            env.write("stock.picking", [pid], {"state": "assigned"})
            raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            live.sandbox.run(fail_after_write)
        live.sandbox.wait_for_webhooks()
        assert len(receiver.requests) == expected, version
        assert live.sandbox.get("stock.picking", pid)["state"] == "confirmed"  # type: ignore[index]


def test_seeding_is_deterministic() -> None:
    models = ("res.partner", "sale.order", "stock.picking", "stock.move", "delivery.carrier")
    first = OdooSandbox(version="18.0", seed=7, clock=fixed_clock)
    second = OdooSandbox(version="18.0", seed=7, clock=fixed_clock)
    other = OdooSandbox(version="18.0", seed=8, clock=fixed_clock)
    for model in models:
        assert first.records(model) == second.records(model)
    assert first.api_key == second.api_key != other.api_key
    assert len(first.api_key) == 40 and int(first.api_key, 16) >= 0
    assert first.records("stock.picking") != other.records("stock.picking")
    customers = {r["country_id"] for r in first.records("res.partner") if r["country_id"]}
    assert len(customers) >= 5
    states = {r["state"] for r in first.records("stock.picking")}
    assert {"assigned", "done", "confirmed"} <= states


def test_python_api(serve: Callable[..., Live]) -> None:
    live = serve(version="17.0", api_key="a" * 40, password="s3cret", login="waybill")
    sandbox = live.sandbox
    assert (sandbox.api_key, sandbox.login, sandbox.uid) == ("a" * 40, "waybill", 2)
    assert live.proxy("common").authenticate(sandbox.db, "waybill", "s3cret", {}) == 2
    partner = sandbox.create("res.partner", {"name": "Py"})
    sandbox.write("res.partner", [partner], {"city": "Porto"})
    assert sandbox.get("res.partner", partner)["city"] == "Porto"  # type: ignore[index]
    assert sandbox.get("res.partner", 10**6) is None
    assert sandbox.call("res.partner", "search_count", [["id", "=", partner]]) == 1
    with pytest.raises(ValueError, match="Invalid field 'nope'"):
        sandbox.create("res.partner", {"nope": 1})


def test_concurrent_calls_are_serialized(serve: Callable[..., Live]) -> None:
    live = serve(version="17.0", demo_data=False)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(5):
                live.j("res.partner", "create", [{"name": f"t{n}-{i}"}])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    names = [r["name"] for r in live.sandbox.records("res.partner") if r["name"].startswith("t")]
    assert len(names) == len(set(names)) == 40

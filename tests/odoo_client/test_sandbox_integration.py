"""The client against the project's Odoo sandbox over real loopback HTTP, for every supported
(version, protocol) pair: 17.0 and 18.0 over JSON-RPC and XML-RPC, 19.0 over JSON-2 and
JSON-RPC (DESIGN.md §5). The sandbox is strict the way Odoo is; where it and the reference
disagree, these tests follow the reference."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from structlog.testing import capture_logs
from tenacity import wait_none

from app.sync.odoo import (
    OdooAccessError,
    OdooAuthError,
    OdooClient,
    OdooConcurrencyError,
    OdooInvalidRequestError,
    OdooMissingError,
    OdooServerError,
    OdooTransportError,
)
from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server

API_KEY = "5e1f0c2a9b7d4e3f8a6c1b0d2e4f6a8c0b1d3e5f"
DB = "waybill-it"
CASES = [
    ("17.0", "jsonrpc"),
    ("17.0", "xmlrpc"),
    ("18.0", "jsonrpc"),
    ("18.0", "xmlrpc"),
    ("19.0", "json2"),
    ("19.0", "jsonrpc"),
]
OUTGOING = [["picking_type_code", "=", "outgoing"]]


@dataclass
class Odoo:
    sandbox: OdooSandbox
    url: str
    version: str
    protocol: str
    client: OdooClient

    def connect(self, **overrides: Any) -> OdooClient:
        kwargs: dict[str, Any] = {
            "url": self.url,
            "db": self.sandbox.db,
            "username": self.sandbox.login,
            "api_key": self.sandbox.api_key,
            "protocol": self.protocol,
            "timeout": 5.0,
            "retry_attempts": 4,
            "page_size": 200,
            "retry_wait": wait_none(),
        }
        kwargs.update(overrides)
        return OdooClient(**kwargs)

    def calls(self, model: str, method: str) -> int:
        return int(self.sandbox.rpc_calls[(model, method)])


@pytest.fixture(scope="module")
def servers() -> Iterator[Callable[[str], tuple[OdooSandbox, str]]]:
    """One sandbox and one loopback server per Odoo version, shared by the module's tests."""
    with contextlib.ExitStack() as stack:
        started: dict[str, tuple[OdooSandbox, str]] = {}

        def get(version: str) -> tuple[OdooSandbox, str]:
            if version not in started:
                sandbox = OdooSandbox(
                    version=version,
                    db=DB,
                    login="admin",
                    password="admin",
                    api_key=API_KEY,
                    seed=42,
                    demo_data=True,
                    latency_ms=0,
                )
                url = stack.enter_context(run_sandbox_server(sandbox, host="127.0.0.1", port=0))
                started[version] = (sandbox, url)
            return started[version]

        yield get


@pytest.fixture(params=CASES, ids=[f"{v}-{p}" for v, p in CASES])
def odoo(
    request: pytest.FixtureRequest, servers: Callable[[str], tuple[OdooSandbox, str]]
) -> Iterator[Odoo]:
    version, protocol = request.param
    sandbox, url = servers(version)
    env = Odoo(sandbox, url, version, protocol, None)  # type: ignore[arg-type]
    env.client = env.connect()
    try:
        yield env
    finally:
        env.client.close()


def _a_picking(odoo: Odoo) -> int:
    ids = odoo.client.search("stock.picking", OUTGOING, order="id asc", limit=1)
    assert ids, "the sandbox's demo data has outgoing pickings"
    return ids[0]


# --- identity ---------------------------------------------------------------------------


def test_version_ping_and_uid(odoo: Odoo) -> None:
    assert odoo.client.ping() is True
    assert odoo.client.server_version() == odoo.version
    assert odoo.client.uid == odoo.sandbox.uid


def test_bad_credentials_are_refused_once(odoo: Odoo) -> None:
    client = odoo.connect(api_key="0" * 40)
    with pytest.raises(OdooAuthError):
        client.search("stock.picking", [])
    with pytest.raises(OdooAuthError):
        client.search("stock.picking", [])  # answered from memory, no second login (§1.4)
    client.close()


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
def test_a_misconfigured_worker_does_not_lock_the_ip_out(protocol: str) -> None:
    """Odoo refuses an IP after 5 failed logins (§1.4). A client with a wrong key, used
    over and over by a job, must knock once, so the correctly configured workers on the same
    host keep working."""
    sandbox = OdooSandbox(
        version="17.0",
        db=DB,
        login="admin",
        password="admin",
        api_key=API_KEY,
        seed=42,
        demo_data=True,
        latency_ms=0,
    )
    with run_sandbox_server(sandbox, host="127.0.0.1", port=0) as url:
        kwargs: dict[str, Any] = {
            "url": url,
            "db": DB,
            "username": "admin",
            "protocol": protocol,
            "retry_wait": wait_none(),
        }
        with OdooClient(api_key="0" * 40, **kwargs) as bad:
            for _ in range(10):
                with pytest.raises(OdooAuthError):
                    bad.search("stock.picking", [])
        with OdooClient(api_key=API_KEY, **kwargs) as good:
            assert good.uid == sandbox.uid


# --- read --------------------------------------------------------------------------------


def test_search_read_pages_over_all_outgoing_pickings(odoo: Odoo) -> None:
    expected = sorted(
        r["id"] for r in odoo.client.search_read("stock.picking", OUTGOING, ["id"], page_size=500)
    )
    assert len(expected) >= 3
    before = odoo.calls("stock.picking", "search_read")
    pages = list(
        odoo.client.iter_search_read(
            "stock.picking",
            OUTGOING,
            ["name", "state", "carrier_id", "partner_id"],
            page_size=2,
        )
    )
    got = [r["id"] for page in pages for r in page]
    assert got == expected  # id order, nothing skipped or repeated
    assert all(len(page) <= 2 for page in pages)
    rpcs = odoo.calls("stock.picking", "search_read") - before
    assert rpcs == len(expected) // 2 + 1
    first = pages[0][0]
    assert set(first) >= {"id", "name", "state", "carrier_id", "partner_id"}
    assert first["partner_id"] is False or isinstance(first["partner_id"], list)


def test_read_drops_missing_ids(odoo: Odoo) -> None:
    pid = _a_picking(odoo)
    rows = odoo.client.read("stock.picking", [pid, 9_999_999], ["name", "state"])
    assert [r["id"] for r in rows] == [pid]


# --- write -------------------------------------------------------------------------------


def test_create_write_and_write_many(odoo: Odoo) -> None:
    client = odoo.client
    ids = client.create(
        "res.partner", [{"name": f"IT {odoo.protocol} {i}", "city": "Ghent"} for i in range(4)]
    )
    assert len(ids) == 4 and all(isinstance(i, int) for i in ids)
    assert client.write("res.partner", ids[:2], {"city": "Antwerp"}) is True
    assert odoo.sandbox.get("res.partner", ids[0])["city"] == "Antwerp"
    before = odoo.calls("res.partner", "write")
    rpcs = client.write_many(
        "res.partner",
        {
            ids[0]: {"zip": "9000"},
            ids[1]: {"zip": "9000"},
            ids[2]: {"zip": "2000"},
            ids[3]: {"zip": "9000"},
        },
    )
    assert rpcs == 2
    assert odoo.calls("res.partner", "write") - before == 2
    rows = {r["id"]: r["zip"] for r in client.read("res.partner", ids, ["zip"])}
    assert rows == {ids[0]: "9000", ids[1]: "9000", ids[2]: "2000", ids[3]: "9000"}
    assert client.unlink("res.partner", [ids[3]]) is True
    assert client.read("res.partner", [ids[3]], ["name"]) == []


def test_write_back_tracking_chatter_and_label(odoo: Odoo) -> None:
    client = odoo.client
    pid = _a_picking(odoo)
    assert client.write(
        "stock.picking", [pid], {"carrier_tracking_ref": "1Z999AA10123456784", "carrier_price": 7.5}
    )
    picking = odoo.sandbox.get("stock.picking", pid)
    assert picking["carrier_tracking_ref"] == "1Z999AA10123456784"
    label = b"%PDF-1.4 label bytes"
    att = client.attach(
        "stock.picking", pid, "LabelShipping-fixed-1Z999.pdf", label, "application/pdf"
    )
    (stored,) = client.read("ir.attachment", [att], ["res_model", "res_id", "datas", "mimetype"])
    assert stored["res_model"] == "stock.picking" and stored["res_id"] == pid
    assert base64.b64decode(stored["datas"]) == label
    assert stored["mimetype"] == "application/pdf"
    msg = client.message_post(
        "stock.picking", pid, "<p>Label <b>created</b></p>", attachment_ids=[att]
    )
    assert isinstance(msg, int)  # 19.0 answers [id] (§2.9): normalised
    message = odoo.sandbox.get("mail.message", msg)
    assert message["res_id"] == pid and message["model"] == "stock.picking"
    assert "<b>created</b>" in str(message["body"])  # body_is_html kept the markup


def test_activity_lifecycle(odoo: Odoo) -> None:
    client = odoo.client
    pid = _a_picking(odoo)
    act = client.schedule_activity(
        "stock.picking",
        pid,
        summary="Carrier exception",
        note_html="<p>Address rejected</p>",
        date_deadline="2031-01-31",
    )
    row = odoo.sandbox.get("mail.activity", act)
    assert row["res_id"] == pid
    assert row["summary"] == "Carrier exception"
    client.update_activity(act, summary="Carrier exception (2)")
    assert odoo.sandbox.get("mail.activity", act)["summary"] == "Carrier exception (2)"
    client.complete_activity(act, feedback="Resolved")
    done = odoo.sandbox.get("mail.activity", act)
    # 17/18 unlink done activities unless the type keeps them; 19.0 archives them (§3.4).
    assert done is None or done.get("active") is False
    second = client.schedule_activity("stock.picking", pid, summary="s", note_html="<p>n</p>")
    client.cancel_activity(second)
    assert odoo.sandbox.get("mail.activity", second) is None


# --- errors -------------------------------------------------------------------------------


def test_unknown_field(odoo: Odoo) -> None:
    with pytest.raises(OdooInvalidRequestError) as caught:
        odoo.client.write("stock.picking", [_a_picking(odoo)], {"no_such_field": 1})
    assert caught.value.reason == "invalid_field"


def test_wrong_selection_value(odoo: Odoo) -> None:
    with pytest.raises(OdooInvalidRequestError) as caught:
        odoo.client.write("stock.picking", [_a_picking(odoo)], {"priority": "7"})
    assert caught.value.reason == "wrong_selection"


def test_write_on_missing_record(odoo: Odoo) -> None:
    with pytest.raises(OdooMissingError):
        odoo.client.write("stock.picking", [9_999_999], {"carrier_tracking_ref": "x"})


def test_private_method(odoo: Odoo) -> None:
    with pytest.raises(OdooAccessError) as caught:
        odoo.client.call("ir.model.data", "_xmlid_to_res_id", xmlid="mail.mt_note")
    assert caught.value.reason == "private_method"


def test_unknown_model(odoo: Odoo) -> None:
    with pytest.raises(OdooInvalidRequestError) as caught:
        odoo.client.search("stock.pickin", [])
    assert caught.value.reason == "unknown_model"


def test_xmlid_lookup(odoo: Odoo) -> None:
    todo = odoo.client.xmlid_to_res_id("mail.mail_activity_data_todo")
    assert odoo.sandbox.get("mail.activity.type", todo) is not None
    with pytest.raises(OdooMissingError):
        odoo.client.xmlid_to_res_id("mail.no_such_xmlid")


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("serialization", "odoo_concurrency_error"),
        ("unavailable", "odoo_transport_error"),  # a proxy's 503 page in front of Odoo
        ("lock", "odoo_concurrency_error"),  # 19.0 LockError, psycopg2 LockNotAvailable before
    ],
)
def test_transient_failures_are_retried(odoo: Odoo, kind: str, code: str) -> None:
    _ = odoo.client.uid  # log in first so the failures hit the object call
    before = odoo.calls("stock.picking", "search_read")
    odoo.sandbox.fail_next(2, kind)
    with capture_logs() as logs:
        rows = odoo.client.search_read("stock.picking", OUTGOING, ["name"], limit=3)
    assert len(rows) == 3
    assert odoo.calls("stock.picking", "search_read") - before == 3
    retries = [e for e in logs if e["event"] == "odoo_rpc_retry"]
    assert [e["code"] for e in retries] == [code, code]


def test_retries_are_bounded(odoo: Odoo) -> None:
    client = odoo.connect(retry_attempts=2)
    _ = client.uid
    before = odoo.calls("stock.picking", "search_read")
    odoo.sandbox.fail_next(2, "serialization")
    with pytest.raises(OdooConcurrencyError):
        client.search_read("stock.picking", OUTGOING, ["name"], limit=1)
    assert odoo.calls("stock.picking", "search_read") - before == 2
    client.close()


def test_none_returning_methods_and_not_implemented(odoo: Odoo) -> None:
    """``send_to_shipper`` returns None: no ``result`` over JSON-RPC, a fault after commit
    over XML-RPC (§1.1, §3.3) — both are success. ``cancel_shipment`` on a fixed/rule carrier
    raises ``NotImplementedError`` (§2.3): a rejection, sent once."""
    pid = _a_picking(odoo)
    assert odoo.client.call("stock.picking", "send_to_shipper", [pid]) is None
    before = odoo.calls("stock.picking", "cancel_shipment")
    with pytest.raises(OdooServerError) as caught:
        odoo.client.call("stock.picking", "cancel_shipment", [pid])
    assert caught.value.reason == "not_implemented"
    assert odoo.calls("stock.picking", "cancel_shipment") - before == 1


def test_timeout_is_retried_for_reads_but_not_for_create(odoo: Odoo) -> None:
    """A read timeout leaves open whether Odoo committed (§5): reads are sent again, a
    ``create`` is not — the caller re-reads before re-sending."""
    client = odoo.connect(timeout=0.5)
    previous = odoo.sandbox.timeout_seconds
    odoo.sandbox.timeout_seconds = 2.0  # how long the sandbox hangs; our client gives up first
    try:
        _ = client.uid
        odoo.sandbox.fail_next(1, "timeout")
        assert len(client.search_read("stock.picking", OUTGOING, ["name"], limit=2)) == 2
        before = odoo.calls("res.partner", "create")
        odoo.sandbox.fail_next(1, "timeout")
        with pytest.raises(OdooTransportError) as caught:
            client.create("res.partner", [{"name": "maybe created"}])
        assert caught.value.maybe_committed
        assert odoo.calls("res.partner", "create") - before == 1
    finally:
        odoo.sandbox.timeout_seconds = previous
        client.close()

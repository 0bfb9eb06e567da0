"""The facade: shapes, batching, paging, caches, None results, logs (reference §1–§3, §5)."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from app.core.config import Settings
from app.sync.odoo import (
    OdooAccessError,
    OdooClient,
    OdooInvalidRequestError,
    OdooMissingError,
    OdooValidationError,
)

from .fakes import API_KEY, PROTOCOLS, Call, Fault, make_client

# --- None results and version-specific return shapes ------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("method", ["send_to_shipper", "cancel_shipment"])
def test_none_returning_methods_return_none(protocol: str, method: str) -> None:
    """JSON-RPC omits ``result``; XML-RPC faults "cannot marshal None" after committing, which
    for these methods is success (§1.1, §3.3); JSON-2 answers ``null``."""
    client, fake = make_client(protocol, lambda call: None, retry_attempts=4)
    assert client.call("stock.picking", method, [7]) is None
    assert len(fake.object_calls(method)) == 1


def test_jsonrpc_none_result_for_any_method() -> None:
    client, _ = make_client("jsonrpc", lambda call: None)
    assert client.call("stock.picking", "do_unreserve", [1]) is None
    assert client.call("stock.picking", "some_other_none_method", [1]) is None


@pytest.mark.parametrize(
    ("protocol", "version", "raw"),
    [
        ("jsonrpc", "17.0", 41),
        ("xmlrpc", "18.0", 41),
        ("jsonrpc", "19.0", [41]),
        ("xmlrpc", "19.0", [41]),
        ("json2", "19.0", [41]),
    ],
)
def test_message_post_returns_an_int_on_every_version(
    protocol: str, version: str, raw: Any
) -> None:
    """``@api.returns`` gives an int in 17/18; 19.0 converts recordsets to ``[id]`` (§2.9)."""
    client, _ = make_client(protocol, lambda call: raw, version=version)
    assert client.message_post("stock.picking", 5, "<p>Delivered</p>") == 41


@pytest.mark.parametrize("raw", [12, [12]])
def test_create_always_returns_a_list(raw: Any) -> None:
    client, _ = make_client("jsonrpc", lambda call: raw)
    assert client.create("res.partner", [{"name": "A"}]) == [12]


def test_create_batches_and_reports_partial_progress() -> None:
    counter = iter(range(1, 1000))

    def handler(call: Call) -> Any:
        vals_list = call.args[0]
        if any(v.get("name") == "bad" for v in vals_list):
            return Fault("odoo.exceptions.ValidationError", "bad name")
        return [next(counter) for _ in vals_list]

    client, fake = make_client("jsonrpc", handler)
    assert client.create("res.partner", [{"name": str(i)} for i in range(250)]) == list(
        range(1, 251)
    )
    assert [len(c.args[0]) for c in fake.object_calls("create")] == [100, 100, 50]
    vals = [{"name": str(i)} for i in range(150)] + [{"name": "bad"}]
    with pytest.raises(OdooValidationError) as caught:
        client.create("res.partner", vals)
    assert caught.value.details["created_ids"] == list(range(251, 351))


def test_create_nothing_sends_nothing() -> None:
    client, fake = make_client("json2")
    assert client.create("res.partner", []) == []
    assert client.write("res.partner", [], {"name": "x"}) is True
    assert client.write_many("res.partner", {}) == 0
    assert fake.requests == []


# --- batching --------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_write_many_groups_identical_values(protocol: str) -> None:
    client, fake = make_client(protocol, lambda call: True)
    updates = {
        1: {"carrier_tracking_ref": "A", "carrier_price": 5.0},
        2: {"carrier_price": 5.0, "carrier_tracking_ref": "A"},  # same values, other key order
        3: {"carrier_tracking_ref": "B"},
        4: {"carrier_tracking_ref": "A", "carrier_price": 5.0},
        5: {"carrier_tracking_ref": "B"},
    }
    assert client.write_many("stock.picking", updates) == 2
    writes = fake.object_calls("write")
    assert len(writes) == 2

    def ids_and_vals(call: Call) -> tuple[list[int], dict[str, Any]]:
        if protocol == "json2":
            return call.ids or [], call.kw["vals"]
        return call.args[0], call.args[1]

    got = sorted((ids_and_vals(c) for c in writes), key=lambda p: p[0])
    assert got == [
        ([1, 2, 4], {"carrier_tracking_ref": "A", "carrier_price": 5.0}),
        ([3, 5], {"carrier_tracking_ref": "B"}),
    ]


def test_read_chunks_large_id_lists_and_drops_missing() -> None:
    def handler(call: Call) -> Any:
        return [{"id": i} for i in call.ids or [] if i % 2]  # Odoo skips missing ids (§1.6)

    client, fake = make_client("json2", handler, page_size=200)
    rows = client.read("stock.picking", list(range(1, 451)), ["name"])
    assert len(rows) == 225
    assert [len(c.ids or []) for c in fake.object_calls("read")] == [200, 200, 50]


# --- paging ----------------------------------------------------------------------------

RECORDS = [{"id": i, "name": f"WH/OUT/{i:05d}"} for i in range(1, 8)]


def _keyset_handler(call: Call) -> Any:
    domain = call.kw["domain"] if call.protocol == "json2" else call.args[0]
    kw = call.kw
    rows = RECORDS
    for leaf in domain:
        if isinstance(leaf, list) and leaf[0] == "id":
            rows = [r for r in rows if (r["id"] > leaf[2] if leaf[1] == ">" else r["id"] < leaf[2])]
    if kw.get("order") == "id desc":
        rows = sorted(rows, key=lambda r: -r["id"])
    offset = kw.get("offset", 0)
    return rows[offset : offset + kw["limit"]]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_iter_search_read_pages_with_an_id_keyset(protocol: str) -> None:
    client, fake = make_client(protocol, _keyset_handler)
    pages = list(
        client.iter_search_read(
            "stock.picking", [["state", "=", "assigned"]], ["name"], page_size=3
        )
    )
    assert [[r["id"] for r in page] for page in pages] == [[1, 2, 3], [4, 5, 6], [7]]
    calls = fake.object_calls("search_read")
    domains = [c.kw["domain"] if protocol == "json2" else c.args[0] for c in calls]
    assert domains == [
        [["state", "=", "assigned"]],
        [["state", "=", "assigned"], ["id", ">", 3]],
        [["state", "=", "assigned"], ["id", ">", 6]],
    ]
    assert all(c.kw["order"] == "id asc" and c.kw["limit"] == 3 for c in calls)
    assert all("offset" not in c.kw for c in calls)


def test_search_read_limit_and_exact_multiple() -> None:
    client, fake = make_client("jsonrpc", _keyset_handler)
    assert [
        r["id"] for r in client.search_read("stock.picking", [], ["name"], limit=5, page_size=2)
    ] == [1, 2, 3, 4, 5]
    assert [c.kw["limit"] for c in fake.object_calls("search_read")] == [2, 2, 1]
    client, fake = make_client("jsonrpc", _keyset_handler)
    assert len(client.search_read("stock.picking", [], ["name"], page_size=7)) == 7
    assert len(fake.object_calls("search_read")) == 2  # a full page asks once more


def test_descending_id_keyset() -> None:
    client, _ = make_client("jsonrpc", _keyset_handler)
    rows = client.search_read("stock.picking", [], ["name"], order="ID DESC", page_size=3)
    assert [r["id"] for r in rows] == [7, 6, 5, 4, 3, 2, 1]


def test_other_orders_page_by_offset_with_an_id_tie_breaker() -> None:
    client, fake = make_client("jsonrpc", _keyset_handler)
    rows = client.search_read("stock.picking", [], ["name"], order="write_date asc", page_size=4)
    assert len(rows) == 7
    calls = fake.object_calls("search_read")
    assert [c.kw.get("offset", 0) for c in calls] == [0, 4]
    assert {c.kw["order"] for c in calls} == {"write_date asc, id asc"}


def test_page_size_is_bounded() -> None:
    with pytest.raises(ValueError):
        make_client("jsonrpc", page_size=501)
    client, _ = make_client("jsonrpc")
    with pytest.raises(ValueError):
        list(client.iter_search_read("stock.picking", [], ["name"], page_size=0))


# --- caches and identity --------------------------------------------------------------


def test_uid_is_resolved_once_across_threads() -> None:
    client, fake = make_client("xmlrpc", lambda call: [])
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        client.search("stock.picking", [])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake.count("authenticate") == 1
    assert len(fake.object_calls("search")) == 8
    assert client.uid == 2


def _activity_handler(*, ir_model_readable: bool) -> Any:
    def handler(call: Call) -> Any:
        if call.method == "check_object_reference":
            return ["mail.activity.type", 4]
        if call.model == "ir.model":
            if not ir_model_readable:
                return Fault(
                    "odoo.exceptions.AccessError",
                    "You are not allowed to access 'Models' (ir.model) records.",
                )
            return [{"id": 88}]
        if call.method == "create":
            return [501]
        return True

    return handler


def test_schedule_activity_uses_res_model_id_and_caches_lookups() -> None:
    client, fake = make_client("jsonrpc", _activity_handler(ir_model_readable=True))
    for _ in range(2):
        assert (
            client.schedule_activity(
                "stock.picking",
                7,
                summary="Carrier exception",
                note_html="<p>Address</p>",
                user_id=2,
                date_deadline="2025-01-31",
            )
            == 501
        )
    assert fake.count("check_object_reference") == 1
    assert len(fake.object_calls("search_read")) == 1
    creates = fake.object_calls("create")
    assert len(creates) == 2
    assert creates[0].args == [
        [
            {
                "res_id": 7,
                "activity_type_id": 4,
                "summary": "Carrier exception",
                "note": "<p>Address</p>",
                "res_model_id": 88,
                "user_id": 2,
                "date_deadline": "2025-01-31",
            }
        ]
    ]
    assert creates[0].context is None
    assert client.model_id("stock.picking") == 88


def test_schedule_activity_without_ir_model_access_uses_default_res_model() -> None:
    """§2.10: ``ir.model`` is admin-only; §2.7: ``default_res_model`` fills ``res_model_id``."""
    client, fake = make_client("xmlrpc", _activity_handler(ir_model_readable=False))
    for _ in range(2):
        client.schedule_activity("stock.picking", 7, summary="s", note_html="<p>n</p>")
    assert len(fake.object_calls("search_read")) == 1  # the refusal is remembered
    for create in fake.object_calls("create"):
        assert "res_model_id" not in create.args[0][0]
        assert create.context == {"default_res_model": "stock.picking"}
    with pytest.raises(OdooAccessError):
        client.model_id("stock.picking")


def test_activity_actions() -> None:
    client, fake = make_client(
        "jsonrpc", lambda call: 77 if call.method == "action_feedback" else True
    )
    assert client.complete_activity(5, feedback="Resolved") is None
    client.complete_activity(6)
    client.update_activity(5, summary="new")
    client.cancel_activity(5)
    feedback, bare, write, unlink = fake.object_calls()
    assert (feedback.method, feedback.args, feedback.kw) == (
        "action_feedback",
        [[5]],
        {"feedback": "Resolved"},
    )
    assert (bare.args, bare.kw) == ([[6]], {})
    assert (write.method, write.args) == ("write", [[5], {"summary": "new"}])
    assert (unlink.method, unlink.args) == ("unlink", [[5]])


def test_xmlid_lookup_outcomes() -> None:
    def handler(call: Call) -> Any:
        module, name = call.args
        if name == "unreadable":
            return ["res.partner", False]
        if name == "nope":
            return Fault(
                "builtins.ValueError", f"External ID not found in the system: {module}.{name}"
            )
        return ["mail.message.subtype", 3]

    client, fake = make_client("jsonrpc", handler)
    assert client.xmlid_to_res_id("mail.mt_note") == 3
    assert client.xmlid_to_res_id("mail.mt_note") == 3
    assert fake.count("check_object_reference") == 1
    with pytest.raises(OdooAccessError):
        client.xmlid_to_res_id("base.unreadable")
    with pytest.raises(OdooMissingError):
        client.xmlid_to_res_id("mail.nope")
    with pytest.raises(ValueError):
        client.xmlid_to_res_id("no_dot")


def test_attach_sends_base64_and_keeps_images_unresized() -> None:
    client, fake = make_client("json2", lambda call: [31])
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(50))
    assert client.attach("stock.picking", 7, "LabelShipping-fixed-1Z.png", png, "image/png") == 31
    (call,) = fake.object_calls("create")
    (vals,) = call.kw["vals_list"]
    assert base64.b64decode(vals["datas"]) == png
    assert vals["res_model"] == "stock.picking" and vals["res_id"] == 7
    assert vals["mimetype"] == "image/png"
    assert call.context == {"image_no_postprocess": True}


@pytest.mark.parametrize(
    ("protocol", "serie"), [("jsonrpc", "18.0"), ("xmlrpc", "17.0"), ("json2", "19.0")]
)
def test_server_version_and_ping(protocol: str, serie: str) -> None:
    client, fake = make_client(protocol, version=serie)
    assert client.ping() is True
    assert client.server_version() == serie
    assert client.version_info().major == int(serie[:2])
    assert fake.count("authenticate") == 0


def test_ping_is_false_when_unreachable_and_does_not_retry() -> None:
    attempts = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ConnectError("refused", request=request)

    client = OdooClient(
        url="http://odoo.test",
        db="d",
        username="u",
        api_key="k",
        transport=httpx.MockTransport(handler),
        retry_attempts=4,
    )
    assert client.ping() is False
    assert len(attempts) == 1


def test_from_settings() -> None:
    settings = Settings(
        odoo_url="http://odoo.test/",
        odoo_db="prod",
        odoo_username="bot",
        odoo_api_key=SecretStr(API_KEY),
        odoo_protocol="xmlrpc",
        odoo_timeout_seconds=3,
        odoo_retry_attempts=2,
        odoo_page_size=300,
    )
    with OdooClient.from_settings(settings) as client:
        assert client.protocol == "xmlrpc"
        assert client.page_size == 300
        assert "prod" in repr(client) and API_KEY not in repr(client)


def test_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValueError):
        OdooClient(url="http://x", db="d", username="u", api_key="k", protocol="soap")  # type: ignore[arg-type]


def test_logs_carry_no_key_and_no_record_values() -> None:
    secret_value = "TRACKING-VALUE-XYZ"
    failures = iter(
        [
            Fault("psycopg2.errors.SerializationFailure", "x"),
            Fault("builtins.ValueError", f"Wrong value for stock.picking.state: '{secret_value}'"),
        ]
    )

    def handler(call: Call) -> Any:
        return next(failures, True)

    client, _ = make_client("jsonrpc", handler)
    with capture_logs(processors=[]) as logs:
        with pytest.raises(OdooInvalidRequestError):
            client.write("stock.picking", [1, 2], {"carrier_tracking_ref": secret_value})
        client.write("stock.picking", [1, 2], {"carrier_tracking_ref": secret_value})
    text = json.dumps(logs, default=str)
    assert API_KEY not in text and secret_value not in text
    events = [e["event"] for e in logs]
    assert "odoo_rpc_retry" in events and "odoo_rpc_failed" in events and "odoo_rpc" in events
    done = next(e for e in logs if e["event"] == "odoo_rpc" and e["method"] == "write")
    assert done["ids"] == 2 and done["model"] == "stock.picking" and "duration_ms" in done

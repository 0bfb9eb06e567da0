"""Golden request envelopes: what each transport puts on the wire (reference §1.1–§1.3, §6)."""

from __future__ import annotations

import datetime as dt
import json
import xmlrpc.client
from typing import Any

import httpx

from .fakes import API_KEY, DB, LOGIN, UID, Call, make_client

OUTGOING_READY = [["picking_type_code", "=", "outgoing"], ["state", "=", "assigned"]]


def _json(request: httpx.Request) -> Any:
    return json.loads(request.content)


def _xml(request: httpx.Request) -> tuple[tuple[Any, ...], str]:
    params, method = xmlrpc.client.loads(request.content)
    return params, method or ""


def test_jsonrpc_search_read_matches_the_reference_envelope() -> None:
    """§1.2's example request, byte for byte in structure (the id is ours to choose)."""
    client, fake = make_client("jsonrpc", lambda call: [])
    client.search_read(
        "stock.picking",
        OUTGOING_READY,
        ["name", "carrier_id"],
        limit=100,
        context={"lang": "en_US"},
    )
    auth, search = fake.requests
    assert _json(auth)["params"] == {
        "service": "common",
        "method": "authenticate",
        "args": [DB, LOGIN, API_KEY, {}],
    }
    body = _json(search)
    assert search.url.path == "/jsonrpc"
    assert search.headers["content-type"] == "application/json"
    assert body["jsonrpc"] == "2.0" and body["method"] == "call" and isinstance(body["id"], int)
    assert body["params"] == {
        "service": "object",
        "method": "execute_kw",
        "args": [
            DB,
            UID,
            API_KEY,
            "stock.picking",
            "search_read",
            [[["picking_type_code", "=", "outgoing"], ["state", "=", "assigned"]]],
            {
                "fields": ["name", "carrier_id"],
                "limit": 100,
                "order": "id asc",
                "context": {"lang": "en_US"},
            },
        ],
    }


def test_jsonrpc_version_needs_no_login() -> None:
    client, fake = make_client("jsonrpc")
    assert client.server_version() == "17.0"
    (request,) = fake.requests
    assert _json(request)["params"] == {"service": "common", "method": "version", "args": []}


def test_xmlrpc_routes_and_execute_kw_layout() -> None:
    client, fake = make_client("xmlrpc", lambda call: [7])
    assert client.search("stock.picking", OUTGOING_READY, limit=5) == [7]
    auth, search = fake.requests
    assert auth.url.path == "/xmlrpc/2/common"
    assert _xml(auth) == ((DB, LOGIN, API_KEY, {}), "authenticate")
    assert search.url.path == "/xmlrpc/2/object"
    assert search.headers["content-type"] == "text/xml"
    assert _xml(search) == (
        (DB, UID, API_KEY, "stock.picking", "search", [OUTGOING_READY], {"limit": 5}),
        "execute_kw",
    )


def test_create_sends_vals_list_positionally_over_rpc() -> None:
    """17.0/18.0 decide the return shape with ``isinstance(args[0], Mapping)`` (§1.1/§3.1):
    ``vals_list`` must be ``args[0]``, and a list so the answer is a list."""
    for protocol in ("jsonrpc", "xmlrpc"):
        client, fake = make_client(protocol, lambda call: [11, 12])
        assert client.create("res.partner", [{"name": "A"}, {"name": "B"}]) == [11, 12]
        (call,) = fake.object_calls("create")
        assert call.args == [[{"name": "A"}, {"name": "B"}]]
        assert call.kw == {}


def test_write_and_message_post_follow_the_recipes() -> None:
    """§6: ``write [[pid], vals]``; ``message_post [[pid]], {kw}`` with ``body_is_html``."""
    client, fake = make_client("jsonrpc", lambda c: 99 if c.method == "message_post" else True)
    assert client.write("stock.picking", [5], {"carrier_tracking_ref": "1Z999"}) is True
    assert client.message_post("stock.picking", 5, "<p>Label created</p>", attachment_ids=[3]) == 99
    write, post = fake.object_calls()
    assert (write.args, write.kw) == ([[5], {"carrier_tracking_ref": "1Z999"}], {})
    assert post.args == [[5]]
    assert post.kw == {
        "body": "<p>Label created</p>",
        "body_is_html": True,
        "message_type": "comment",
        "subtype_xmlid": "mail.mt_note",
        "attachment_ids": [3],
    }


def test_check_object_reference_is_positional_over_rpc() -> None:
    """§6 recipe: ``check_object_reference ['mail', 'mail_activity_data_todo']``."""
    client, fake = make_client("xmlrpc", lambda call: ["mail.activity.type", 4])
    assert client.xmlid_to_res_id("mail.mail_activity_data_todo") == 4
    (call,) = fake.object_calls()
    assert (call.model, call.method) == ("ir.model.data", "check_object_reference")
    assert (call.args, call.kw) == (["mail", "mail_activity_data_todo"], {})


def test_json2_request_shape() -> None:
    """§1.3: bearer key, X-Odoo-Database, named params plus ``ids``/``context``; no login."""
    client, fake = make_client("json2", lambda call: True)
    client.write("stock.picking", [7], {"carrier_tracking_ref": "1Z"}, context={"lang": "fr_FR"})
    (request,) = fake.requests
    assert request.method == "POST"
    assert request.url.path == "/json/2/stock.picking/write"
    assert request.headers["authorization"] == f"bearer {API_KEY}"
    assert request.headers["x-odoo-database"] == DB
    assert request.headers["content-type"] == "application/json"
    assert _json(request) == {
        "vals": {"carrier_tracking_ref": "1Z"},
        "ids": [7],
        "context": {"lang": "fr_FR"},
    }


def test_json2_named_params_for_model_methods() -> None:
    def handler(call: Call) -> Any:
        return [3] if call.method == "create" else ["mail.activity.type", 4]

    client, fake = make_client("json2", handler)
    client.create("res.partner", [{"name": "A"}])
    client.xmlid_to_res_id("mail.mail_activity_data_todo")
    create, ref = (_json(r) for r in fake.requests)
    assert create == {"vals_list": [{"name": "A"}]}  # no "ids" for @api.model methods
    assert ref == {"module": "mail", "xml_id": "mail_activity_data_todo"}


def test_json2_version_and_uid() -> None:
    client, fake = make_client("json2")
    assert client.server_version() == "19.0"
    assert client.uid == 2
    version, context_get = fake.requests
    assert (version.method, version.url.path) == ("GET", "/json/version")
    assert "authorization" not in version.headers
    assert context_get.url.path == "/json/2/res.users/context_get"


def test_json2_uid_falls_back_to_a_login_search() -> None:
    """If ``context_get`` carries no uid, look our login up (every user can read res.users)."""

    def handler(call: Call) -> Any:
        if call.method == "context_get":
            return {"lang": "en_US", "tz": "UTC"}
        assert call.kw["domain"] == [["login", "=", LOGIN]]
        return [{"id": 8}]

    client, _ = make_client("json2", handler)
    assert client.uid == 8


def test_values_are_encoded_like_odoo_expects() -> None:
    """§1.1: datetimes are UTC ``'YYYY-MM-DD HH:MM:SS'`` strings and dates ``'YYYY-MM-DD'``."""
    client, fake = make_client("xmlrpc")
    when = dt.datetime(2024, 7, 9, 12, 11, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    client.write("stock.picking", [1], {"scheduled_date": when, "note": None})
    client.update_activity(5, date_deadline=dt.date(2025, 1, 31))
    first, second = fake.object_calls("write")
    assert first.args[1] == {"scheduled_date": "2024-07-09 10:11:12", "note": None}
    assert second.args == [[5], {"date_deadline": "2025-01-31"}]


def test_secret_is_not_in_repr() -> None:
    client, _ = make_client("jsonrpc")
    assert API_KEY not in repr(client)

"""Model behaviour over XML-RPC: search, CRUD, chatter, attachments, activities, transfers."""

from __future__ import annotations

import base64
import xmlrpc.client
from collections.abc import Callable

import pytest

from .conftest import FIXED_NOW, Live, ready_outgoing

NOW = FIXED_NOW.strftime("%Y-%m-%d %H:%M:%S")


def test_search_read_outgoing_ready(live17: Live) -> None:
    domain = [["picking_type_code", "=", "outgoing"], ["state", "=", "assigned"]]
    rows = live17.x(
        "stock.picking",
        "search_read",
        [domain],
        {"fields": ["name", "picking_type_code", "state"], "order": "id asc"},
    )
    assert rows and all(r["picking_type_code"] == "outgoing" for r in rows)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert live17.x("stock.picking", "search_count", [domain]) == len(rows)
    incoming = live17.x("stock.picking", "search_count", [[["picking_type_code", "=", "incoming"]]])
    assert incoming > 0


def test_limit_offset_and_order(live17: Live) -> None:
    all_ids = live17.x("stock.picking", "search", [[]], {"order": "id desc"})
    assert all_ids == sorted(all_ids, reverse=True)
    page = live17.x("stock.picking", "search", [[]], {"order": "id desc", "limit": 5, "offset": 5})
    assert page == all_ids[5:10]
    rows = live17.x(
        "stock.picking",
        "search_read",
        [[]],
        {"fields": ["write_date"], "order": "write_date asc, id asc"},
    )
    keys = [(r["write_date"], r["id"]) for r in rows]
    assert keys == sorted(keys)
    default = live17.x("stock.picking", "search_read", [[]], {"fields": ["priority"], "limit": 3})
    assert default[0]["priority"] >= default[-1]["priority"]  # priority desc first


def test_domain_operators(live17: Live) -> None:
    def ids(domain: list[object]) -> set[int]:
        return set(live17.x("stock.picking", "search", [domain]))

    everything = ids([])
    with_carrier = ids([["carrier_id", "!=", False]])
    without = ids([["carrier_id", "=", False]])
    assert with_carrier | without == everything and not with_carrier & without
    assert ids(["!", ["carrier_id", "=", False]]) == with_carrier
    ready = ids([["state", "=", "assigned"]])
    done = ids([["state", "=", "done"]])
    assert ids(["|", ["state", "=", "assigned"], ["state", "=", "done"]]) == ready | done
    assert ids([["state", "in", ["assigned", "done"]]]) == ready | done
    assert ids([["state", "not in", ["assigned", "done"]]]) == everything - ready - done
    assert ids([["name", "like", "WH/OUT/"]]) == ids([["name", "=like", "WH/OUT/%"]])
    assert ids([["name", "ilike", "wh/out/"]]) == ids([["name", "=ilike", "wh/out/%"]])
    assert ids([["origin", "not ilike", "S0"]]) >= ids([["origin", "=", False]])
    heavy = ids([["weight", ">", 20]])
    assert heavy == everything - ids([["weight", "<=", 20]])
    assert ids([["partner_id.country_id.code", "=", "DE"]]) == ids(
        [["partner_id.country_code", "=", "DE"]]
    )
    assert ids([["write_date", ">=", "2000-01-01"]]) == everything
    assert ids([["carrier_id", "ilike", "UPS"]]) == ids([["carrier_id.name", "ilike", "UPS"]])


def test_domain_errors(live17: Live) -> None:
    with pytest.raises(xmlrpc.client.Fault, match="Non-stored field"):
        live17.x("stock.picking", "search", [[["shipping_weight", ">", 1]]])
    with pytest.raises(xmlrpc.client.Fault, match="Invalid operator"):
        live17.x("stock.picking", "search", [[["state", "~", "x"]]])
    with pytest.raises(xmlrpc.client.Fault, match=r"Invalid field .+nope.+ on model"):
        live17.x("stock.picking", "search", [[]], {"order": "nope desc"})


def test_create_write_unlink_and_magic_fields(serve: Callable[..., Live]) -> None:
    live = serve(version="18.0")
    partner = live.x("res.partner", "create", [{"name": "New Customer", "country_id": 57}])
    assert isinstance(partner, int)
    several = live.x("res.partner", "create", [[{"name": "A"}, {"name": "B"}]])
    assert isinstance(several, list) and len(several) == 2
    [row] = live.x(
        "res.partner",
        "read",
        [[partner]],
        {"fields": ["country_id", "country_code", "create_uid", "write_date", "display_name"]},
    )
    assert row["country_id"] == [57, "Germany"] and row["country_code"] == "DE"
    assert row["create_uid"] == [2, "Mitchell Admin"] and row["write_date"] == NOW
    assert live.x("res.partner", "write", [[partner], {"city": "Köln", "id": 5}]) is True
    assert live.sandbox.get("res.partner", partner)["city"] == "Köln"  # type: ignore[index]
    assert live.x("res.partner", "unlink", [several]) is True
    assert live.x("res.partner", "unlink", [several]) is True  # already gone: no error
    assert live.x("res.partner", "read", [several], {"fields": ["name"]}) == []


def test_failed_call_rolls_back(serve: Callable[..., Live]) -> None:
    live = serve(version="17.0", demo_data=False)
    before = len(live.sandbox.records("res.partner"))
    with pytest.raises(xmlrpc.client.Fault):
        live.x("res.partner", "create", [[{"name": "kept?"}, {"name": "bad", "foo": 1}]])
    assert len(live.sandbox.records("res.partner")) == before


def test_shipping_weight_is_not_stored_before_19(live17: Live, live19: Live) -> None:
    pid = ready_outgoing(live17)[0]
    live17.x("stock.picking", "write", [[pid], {"shipping_weight": 99.0}])
    [row] = live17.x("stock.picking", "read", [[pid]], {"fields": ["shipping_weight", "weight"]})
    assert row["shipping_weight"] == row["weight"] != 99.0
    pid19 = ready_outgoing(live19)[0]
    live19.x("stock.picking", "write", [[pid19], {"shipping_weight": 99.0}])
    [row] = live19.x("stock.picking", "read", [[pid19]], {"fields": ["shipping_weight"]})
    assert row["shipping_weight"] == 99.0


def test_tracking_write_back_attachment_and_note(serve: Callable[..., Live]) -> None:
    live = serve(version="18.0")
    pid = ready_outgoing(live, with_carrier=True)[0]
    assert live.x("stock.picking", "write", [[pid], {"carrier_tracking_ref": "1Z999"}]) is True
    [row] = live.x("stock.picking", "read", [[pid]], {"fields": ["carrier_tracking_url"]})
    if row["carrier_tracking_url"]:
        assert "1Z999" in row["carrier_tracking_url"]
    pdf = base64.b64encode(b"%PDF-1.4 label").decode()
    att = live.x(
        "ir.attachment",
        "create",
        [{"name": "LabelShipping-fixed-1Z999", "datas": pdf, "res_model": "stock.picking",
          "res_id": pid, "file_size": 1}],
    )  # fmt: skip
    [meta] = live.x(
        "ir.attachment", "read", [[att]], {"fields": ["mimetype", "file_size", "datas", "res_id"]}
    )
    assert meta == {"id": att, "mimetype": "application/pdf", "file_size": 14, "datas": pdf,
                    "res_id": pid}  # fmt: skip
    message = live.x(
        "stock.picking",
        "message_post",
        [[pid]],
        {"body": "<b>Label</b> created", "message_type": "comment",
         "subtype_xmlid": "mail.mt_note", "attachment_ids": [att], "body_is_html": True},
    )  # fmt: skip
    plain = live.x("stock.picking", "message_post", [[pid]], {"body": "<b>escaped</b>"})
    rows = live.x(
        "mail.message",
        "read",
        [[message, plain]],
        {"fields": ["body", "message_type", "subtype_id", "attachment_ids", "model", "res_id"]},
    )
    assert rows[0]["body"] == "<b>Label</b> created" and rows[0]["attachment_ids"] == [att]
    assert rows[0]["subtype_id"][1] == "Note" and rows[0]["model"] == "stock.picking"
    assert (
        rows[1]["body"] == "&lt;b&gt;escaped&lt;/b&gt;"
        and rows[1]["message_type"] == "notification"
    )
    with pytest.raises(xmlrpc.client.Fault, match="message_post does not support model"):
        live.x("stock.picking", "message_post", [[pid]], {"body": "x", "model": "res.partner"})


@pytest.mark.parametrize("version", ["17.0", "19.0"])
def test_activity_lifecycle(serve: Callable[..., Live], version: str) -> None:
    live = serve(version=version)
    pid = ready_outgoing(live)[0]
    model_id = live.x("ir.model", "search", [[["model", "=", "stock.picking"]]])[0]
    todo = live.x("ir.model.data", "check_object_reference", ["mail", "mail_activity_data_todo"])
    assert todo[0] == "mail.activity.type" and isinstance(todo[1], int)
    warning = live.x(
        "ir.model.data", "check_object_reference", ["mail", "mail_activity_data_warning"]
    )
    assert warning == ["mail.activity.type", False]  # archived: invisible to search
    visible = live.x(
        "ir.model.data",
        "check_object_reference",
        ["mail", "mail_activity_data_warning"],
        {"context": {"active_test": False}},
    )
    assert isinstance(visible[1], int)
    act = live.x(
        "mail.activity",
        "create",
        [{"res_model_id": model_id, "res_id": pid, "activity_type_id": visible[1],
          "summary": "Carrier exception", "note": "<p>Address rejected</p>",
          "date_deadline": "2025-03-20", "user_id": 2}],
    )  # fmt: skip
    [row] = live.x("mail.activity", "read", [[act]], {"fields": ["res_model", "res_name", "state"]})
    assert row == {"id": act, "res_model": "stock.picking", "res_name": row["res_name"],
                   "state": "planned"}  # fmt: skip
    via_context = live.x(
        "mail.activity",
        "create",
        [{"res_id": pid, "summary": "ctx"}],
        {"context": {"default_res_model": "stock.picking"}},
    )
    message = live.x("mail.activity", "action_feedback", [[act]], {"feedback": "Resolved"})
    assert isinstance(message, int)
    [msg] = live.x(
        "mail.message", "read", [[message]], {"fields": ["body", "subtype_id", "res_id"]}
    )
    assert "Resolved" in msg["body"] and msg["subtype_id"][1] == "Activities"
    assert msg["res_id"] == pid
    remaining = live.x("mail.activity", "search", [[["id", "=", act]]])
    assert remaining == []
    archived = live.x("mail.activity", "search", [[["id", "=", act], ["active", "=", False]]])
    assert archived == ([act] if version == "19.0" else [])
    assert live.x("mail.activity", "unlink", [[via_context]]) is True


def test_button_validate_and_backorder_wizard(serve: Callable[..., Live]) -> None:
    live = serve(version="17.0")
    first, second = ready_outgoing(live)[:2]
    moves = live.x("stock.picking", "read", [[first]], {"fields": ["move_ids"]})[0]["move_ids"]
    live.x("stock.move", "write", [[moves[0]], {"quantity": 0.5}])
    wizard = live.x("stock.picking", "button_validate", [[first]])
    assert wizard["res_model"] == "stock.backorder.confirmation"
    assert wizard["context"]["button_validate_picking_ids"] == [first]
    result = live.x(
        "stock.picking",
        "button_validate",
        [[first]],
        {"context": {"skip_backorder": True, "picking_ids_not_to_backorder": [first]}},
    )
    assert result is True
    [row] = live.x("stock.picking", "read", [[first]], {"fields": ["state", "date_done"]})
    assert row == {"id": first, "state": "done", "date_done": NOW}
    assert live.x("stock.picking", "search", [[["backorder_id", "=", first]]]) == []
    assert live.x("stock.picking", "action_cancel", [[second]]) is True
    with pytest.raises(xmlrpc.client.Fault, match="set to 'Done'"):
        live.x("stock.picking", "action_cancel", [[first]])


def test_cancel_shipment_fixed_carrier_not_implemented(serve: Callable[..., Live]) -> None:
    live = serve(version="17.0", connector_delivery_types=("ups_rest",))
    pid = ready_outgoing(live, with_carrier=True)[0]
    with pytest.raises(xmlrpc.client.Fault) as info:
        live.x("stock.picking", "cancel_shipment", [[pid]])
    assert info.value.faultString.strip().splitlines()[-1] == "NotImplementedError"
    fields = live.x("delivery.carrier", "fields_get", [], {"attributes": ["selection"]})
    assert ["ups_rest", "Ups Rest"] in fields["delivery_type"]["selection"]
    carrier = live.x(
        "delivery.carrier",
        "create",
        [{"name": "UPS API", "delivery_type": "ups_rest", "product_id": 1}],
    )
    live.x("stock.picking", "write", [[pid], {"carrier_id": carrier}])
    with pytest.raises(xmlrpc.client.Fault, match="cannot marshal None"):
        live.x("stock.picking", "send_to_shipper", [[pid]])
    ref = live.sandbox.get("stock.picking", pid)["carrier_tracking_ref"]  # type: ignore[index]
    assert ref and ref.startswith("SBX")
    with pytest.raises(xmlrpc.client.Fault, match="cannot marshal None"):
        live.x("stock.picking", "cancel_shipment", [[pid]])
    assert live.sandbox.get("stock.picking", pid)["carrier_tracking_ref"] is None  # type: ignore[index]


def test_fields_get_follows_the_version(live17: Live, live19: Live) -> None:
    attrs = {"attributes": ["type", "store", "selection", "relation", "required"]}
    f17 = live17.x("stock.picking", "fields_get", [], attrs)
    f19 = live19.x("stock.picking", "fields_get", [], attrs)
    assert f17["shipping_weight"]["store"] is False and f19["shipping_weight"]["store"] is True
    assert "date" in f17 and "date" not in f19
    assert f17["carrier_id"]["relation"] == "delivery.carrier"
    assert ["assigned", "Ready"] in f17["state"]["selection"]
    a17 = live17.x("mail.activity", "fields_get", [["res_model_id"]], attrs)
    a19 = live19.x("mail.activity", "fields_get", [["res_model_id"]], attrs)
    assert a17["res_model_id"]["required"] is True and a19["res_model_id"]["required"] is False

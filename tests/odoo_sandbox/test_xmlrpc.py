"""XML-RPC ``/xmlrpc/2``: authentication, fault codes and marshalling (reference §1.1, §1.6)."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable

import httpx
import pytest

from .conftest import Live, ready_outgoing


def fault_of(call: Callable[[], object]) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as info:
        call()
    return info.value


def last_line(fault: xmlrpc.client.Fault) -> str:
    return fault.faultString.strip().splitlines()[-1]


def test_version_and_authenticate(live17: Live) -> None:
    common = live17.proxy("common")
    version = common.version()
    assert version == {
        "server_version": "17.0-20240709",
        "server_version_info": [17, 0, 0, "final", 0, ""],
        "server_serie": "17.0",
        "protocol_version": 1,
    }
    db = live17.sandbox.db
    assert common.authenticate(db, "admin", "admin", {}) == 2
    assert common.authenticate(db, "admin", live17.key, {}) == 2
    assert common.login(db, "admin", "admin") == 2
    assert common.authenticate(db, "admin", "wrong", {}) is False
    assert common.authenticate(db, "nobody", "admin", {}) is False
    live17.sandbox.reset_login_failures()


def test_password_and_key_both_work_on_object_calls(live17: Live) -> None:
    obj = live17.proxy("object")
    db = live17.sandbox.db
    for secret in ("admin", live17.key):
        assert obj.execute_kw(db, 2, secret, "res.users", "read", [[2]], {"fields": ["login"]}) == [
            {"id": 2, "login": "admin"}
        ]


def test_bad_credentials_on_object_call_are_access_denied(live18: Live) -> None:
    obj = live18.proxy("object")
    fault = fault_of(
        lambda: obj.execute_kw(live18.sandbox.db, 2, "nope", "res.partner", "search", [[]])
    )
    assert (fault.faultCode, fault.faultString) == (3, "Access Denied")
    fault = fault_of(
        lambda: obj.execute_kw(live18.sandbox.db, 99, "admin", "res.partner", "search", [[]])
    )
    assert fault.faultCode == 3
    live18.sandbox.reset_login_failures()


def test_login_cooldown_after_five_failures(serve: Callable[..., Live]) -> None:
    live = serve(version="17.0", demo_data=False)
    common, db = live.proxy("common"), live.sandbox.db
    obj = live.proxy("object")
    for _ in range(5):
        assert common.authenticate(db, "admin", "bad", {}) is False
    # Even good credentials are refused during the cooldown.
    assert common.authenticate(db, "admin", "admin", {}) is False
    fault = fault_of(lambda: obj.execute_kw(db, 2, "admin", "res.partner", "search", [[]]))
    assert fault.faultCode == 3
    assert fault.faultString == "Too many login failures, please wait a bit before trying again."
    live.sandbox.reset_login_failures()
    assert common.authenticate(db, "admin", "admin", {}) == 2


def test_error_catalogue_fault_codes(live17: Live) -> None:
    pid = ready_outgoing(live17)[0]
    cases: list[tuple[Callable[[], object], int, str]] = [
        (
            lambda: live17.x("stock.picking", "read", [[pid]], {"fields": ["foo"]}),
            1,
            "ValueError: Invalid field 'foo' on model 'stock.picking'",
        ),
        (
            lambda: live17.x("stock.picking", "write", [[pid], {"foo": 1}]),
            1,
            "ValueError: Invalid field 'foo' on model 'stock.picking'",
        ),
        (
            lambda: live17.x("stock.picking", "search", [[["foo", "=", 1]]]),
            1,
            "ValueError: Invalid field stock.picking.foo in leaf ('foo', '=', 1)",
        ),
        (
            lambda: live17.x("stock.picking", "write", [[pid], {"state": "x"}]),
            1,
            "ValueError: Wrong value for stock.picking.state: 'x'",
        ),
        (
            lambda: live17.x("stock.picking", "message_post", [[pid, pid + 1]], {"body": "x"}),
            1,
            f"ValueError: Expected singleton: stock.picking({pid}, {pid + 1})",
        ),
        (
            lambda: live17.x("stock.picking", "frobnicate", [[pid]]),
            1,
            "AttributeError: The method 'frobnicate' does not exist on the model 'stock.picking'",
        ),
    ]
    for call, code, text in cases:
        fault = fault_of(call)
        assert fault.faultCode == code
        assert last_line(fault) == text
        assert fault.faultString.startswith("Traceback (most recent call last):")


def test_user_errors_are_fault_2_with_plain_message(live17: Live) -> None:
    fault = fault_of(lambda: live17.x("foo.bar", "search", [[]]))
    assert (fault.faultCode, fault.faultString) == (2, "Object foo.bar doesn't exist")
    fault = fault_of(lambda: live17.x("stock.picking", "write", [[999999], {"origin": "x"}]))
    assert fault.faultCode == 2
    assert fault.faultString == (
        "One of the documents you are trying to access has been deleted, please try again after "
        "refreshing.\n\n(Document type: stock.picking, Operation: write, Records: [999999], "
        "User: 2)"
    )
    fault = fault_of(lambda: live17.x("mail.activity", "create", [{"res_id": 1}]))
    assert fault.faultCode == 2
    assert fault.faultString.startswith(
        "The operation cannot be completed:\n- Create/update: a mandatory field is not set."
    )
    assert "Model: Activity (mail.activity)\nField: Document Model (res_model_id)" in (
        fault.faultString
    )
    fault = fault_of(
        lambda: live17.x("stock.picking", "create", [{"picking_type_id": 2, "partner_id": 999999}])
    )
    assert fault.faultCode == 2
    assert "Constraint: stock_picking_partner_id_fkey" in fault.faultString


def test_private_methods_per_version(live17: Live, live18: Live, live19: Live) -> None:
    fault = fault_of(lambda: live17.x("ir.model.data", "_xmlid_to_res_id", ["mail.x"]))
    assert fault.faultCode == 4
    assert fault.faultString == (
        "Private methods (such as _xmlid_to_res_id) cannot be called remotely."
    )
    fault = fault_of(lambda: live18.x("ir.model.data", "_xmlid_to_res_id", ["mail.x"]))
    assert fault.faultString == (
        "Private methods (such as 'ir.model.data._xmlid_to_res_id') cannot be called remotely."
    )
    fault = fault_of(lambda: live18.x("stock.picking", "sudo", [[1]]))
    assert fault.faultCode == 4
    # exists is public until 18.0 and private in 19.0
    assert live18.x("res.partner", "search_count", [[["id", "=", 1]]]) == 1
    fault = fault_of(lambda: live19.x("res.partner", "exists", [[1]]))
    assert fault.faultCode == 4
    fault = fault_of(lambda: live18.x("stock.picking", "frobnicate", [[1]]))
    assert (
        last_line(fault) == "AttributeError: The method 'stock.picking.frobnicate' does not exist"
    )


def test_read_drops_missing_ids_silently(live17: Live) -> None:
    rows = live17.x("res.partner", "read", [[1, 999999, 3]], {"fields": ["name"]})
    assert rows == [
        {"id": 1, "name": "Waybill Demo Co."},
        {"id": 3, "name": "Mitchell Admin"},
    ]


def test_datetimes_are_strings_and_unset_is_false(live17: Live) -> None:
    pid = ready_outgoing(live17)[0]
    [row] = live17.x(
        "stock.picking",
        "read",
        [[pid]],
        {"fields": ["write_date", "date_done", "carrier_tracking_ref", "partner_id", "move_ids"]},
    )
    assert isinstance(row["write_date"], str) and len(row["write_date"]) == 19
    assert row["date_done"] is False and row["carrier_tracking_ref"] is False
    assert isinstance(row["partner_id"], list) and isinstance(row["partner_id"][1], str)
    assert all(isinstance(i, int) for i in row["move_ids"])


def test_none_result_faults_after_commit(live17: Live) -> None:
    pid = ready_outgoing(live17, with_carrier=True)[0]
    fault = fault_of(lambda: live17.x("stock.picking", "send_to_shipper", [[pid]]))
    assert fault.faultCode == 1
    assert last_line(fault) == "TypeError: cannot marshal None unless allow_none is enabled"
    row = live17.sandbox.get("stock.picking", pid)
    assert row is not None and row["carrier_price"] > 0  # committed anyway
    messages = live17.x(
        "mail.message", "search_read", [[["model", "=", "stock.picking"], ["res_id", "=", pid]]]
    )
    assert any("Shipment sent to carrier" in m["body"] for m in messages)


def test_recordset_result_cannot_be_marshalled_before_19(live17: Live) -> None:
    pid = ready_outgoing(live17)[-1]
    fault = fault_of(
        lambda: live17.x(
            "stock.picking",
            "activity_schedule",
            [[pid]],
            {"act_type_xmlid": "mail.mail_activity_data_todo", "summary": "Call carrier"},
        )
    )
    assert fault.faultCode == 1
    assert last_line(fault) == (
        "TypeError: cannot marshal <class 'odoo.api.mail.activity'> objects"
    )
    activities = live17.x(
        "mail.activity", "search_read", [[["res_id", "=", pid], ["summary", "=", "Call carrier"]]]
    )
    assert len(activities) == 1 and activities[0]["automated"] is True


def test_message_post_returns_int_then_list(live18: Live, live19: Live) -> None:
    assert isinstance(live18.x("stock.picking", "message_post", [[1]], {"body": "x"}), int)
    result = live19.x("stock.picking", "message_post", [[1]], {"body": "x"})
    assert isinstance(result, list) and len(result) == 1


def test_legacy_route_uses_string_fault_codes(live17: Live) -> None:
    obj = live17.proxy("object", legacy=True)
    db = live17.sandbox.db
    fault = fault_of(lambda: obj.execute_kw(db, 2, live17.key, "foo.bar", "search", [[]]))
    assert fault.faultCode == "warning -- UserError\n\nObject foo.bar doesn't exist"
    fault = fault_of(lambda: obj.execute_kw(db, 2, "bad", "res.partner", "search", [[]]))
    assert fault.faultCode == "AccessDenied"
    live17.sandbox.reset_login_failures()


def test_faults_are_http_200_text_xml(live17: Live) -> None:
    body = xmlrpc.client.dumps(
        (live17.sandbox.db, 2, "bad", "res.partner", "search", [[]]), "execute_kw"
    )
    response = httpx.post(live17.url + "/xmlrpc/2/object", content=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<name>faultCode</name>" in response.text
    live17.sandbox.reset_login_failures()

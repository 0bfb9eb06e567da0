"""JSON-RPC ``/jsonrpc``: envelopes, error objects and HTTP statuses (reference §1.2)."""

from __future__ import annotations

import httpx

from .conftest import Live, ready_outgoing


def test_success_envelope_echoes_id(live17: Live) -> None:
    data = live17.jsonrpc("common", "version", [])
    assert data["jsonrpc"] == "2.0" and data["id"] == 7
    assert data["result"]["server_serie"] == "17.0"
    data = live17.jsonrpc("common", "authenticate", [live17.sandbox.db, "admin", live17.key, {}])
    assert data["result"] == 2


def test_authenticate_failure_is_false(live17: Live) -> None:
    data = live17.jsonrpc("common", "authenticate", [live17.sandbox.db, "admin", "nope", {}])
    assert data["result"] is False
    live17.sandbox.reset_login_failures()


def test_error_object_shape_17(live17: Live) -> None:
    data = live17.j("stock.picking", "read", [[1]], {"fields": ["foo"]})
    assert "result" not in data
    error = data["error"]
    assert error["code"] == 200 and error["message"] == "Odoo Server Error"
    assert error["data"]["name"] == "builtins.ValueError"
    assert error["data"]["message"] == "Invalid field 'foo' on model 'stock.picking'"
    assert error["data"]["arguments"] == ["Invalid field 'foo' on model 'stock.picking'"]
    assert error["data"]["context"] == {}
    assert error["data"]["debug"].startswith("Traceback (most recent call last):")


def test_error_names_for_odoo_exceptions(live18: Live) -> None:
    cases = {
        "odoo.exceptions.UserError": live18.j("foo.bar", "search", [[]]),
        "odoo.exceptions.MissingError": live18.j("res.partner", "write", [[999999], {"name": "x"}]),
        "odoo.exceptions.AccessError": live18.j("res.partner", "_search", [[]]),
        "builtins.AttributeError": live18.j("res.partner", "frobnicate", [[]]),
        "odoo.exceptions.ValidationError": live18.j("mail.activity", "create", [{"res_id": 1}]),
    }
    for name, data in cases.items():
        assert data["error"]["code"] == 200
        assert data["error"]["data"]["name"] == name


def test_access_denied_has_no_traceback_from_18(live18: Live) -> None:
    db = live18.sandbox.db
    data = live18.jsonrpc("object", "execute_kw", [db, 2, "bad", "res.partner", "search", [[]]])
    assert data["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert data["error"]["data"]["message"] == "Access Denied"
    assert "Traceback" not in data["error"]["data"]["debug"]
    live18.sandbox.reset_login_failures()


def test_error_code_is_zero_in_19(live19: Live) -> None:
    data = live19.j("foo.bar", "search", [[]])
    assert data["error"]["code"] == 0
    assert data["error"]["data"]["message"] == "Object foo.bar doesn't exist"


def test_none_result_has_no_result_key(live17: Live) -> None:
    pid = ready_outgoing(live17, with_carrier=True)[0]
    data = live17.j("stock.picking", "send_to_shipper", [[pid]])
    assert data == {"jsonrpc": "2.0", "id": 7}


def test_recordset_result_is_its_repr_before_19(live17: Live, live19: Live) -> None:
    kw = {"act_type_xmlid": "mail.mail_activity_data_todo", "summary": "rs"}
    result = live17.j("stock.picking", "activity_schedule", [[1]], kw)["result"]
    assert result.startswith("mail.activity(") and result.endswith(",)")
    result = live19.j("stock.picking", "activity_schedule", [[1]], kw)["result"]
    assert isinstance(result, list) and all(isinstance(i, int) for i in result)


def test_bad_requests_are_http_400(live17: Live) -> None:
    url = live17.url + "/jsonrpc"
    response = httpx.post(url, content="{}", headers={"content-type": "text/plain"})
    assert response.status_code == 400
    assert "is type='json'" in response.text
    response = httpx.post(url, content="{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "Invalid JSON data" in response.text
    response = httpx.post(url, json={"params": [1, 2]})
    assert response.status_code == 400 and "Invalid JSON-RPC data" in response.text
    response = httpx.post(
        url, content='{"params": {"service": "common", "method": "version", "args": []}}',
        headers={"content-type": "application/json-rpc"},
    )  # fmt: skip
    assert response.status_code == 200 and "result" in response.json()

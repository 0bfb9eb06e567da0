"""JSON-2 ``/json/2/<model>/<method>`` (19.0 only; reference §1.3)."""

from __future__ import annotations

import httpx

from .conftest import Live


def test_not_served_before_19(live17: Live, live18: Live) -> None:
    for live in (live17, live18):
        assert live.json2("res.partner", "search", {"domain": []}).status_code == 404


def test_named_parameters_and_ids(live19: Live) -> None:
    response = live19.json2(
        "res.partner", "search_read", {"domain": [["id", "=", 1]], "fields": ["name"]}
    )
    assert response.status_code == 200
    assert response.json() == [{"id": 1, "name": "Waybill Demo Co."}]
    response = live19.json2("res.partner", "read", {"ids": [3], "fields": ["name"]})
    assert response.json() == [{"id": 3, "name": "Mitchell Admin"}]
    response = live19.json2("res.partner", "create", {"vals_list": [{"name": "JSON-2 Co"}]})
    assert response.status_code == 200
    [new_id] = response.json()
    response = live19.json2("res.partner", "write", {"ids": [new_id], "vals": {"city": "Ghent"}})
    assert response.json() is True
    response = live19.json2("res.users", "context_get", {})
    assert response.json()["uid"] == 2


def test_status_codes(live19: Live) -> None:
    cases = [
        ("res.partner", "search", {"ids": [1], "domain": []}, 422, "cannot call"),
        ("res.partner", "search", {"bogus": 1}, 422, "missing a required argument: 'domain'"),
        ("res.partner", "search", {"domain": [], "bogus": 1}, 422, "unexpected keyword argument"),
        ("res.partner", "write", {"ids": [999999], "vals": {"name": "x"}}, 404, "deleted"),
        ("res.partner", "read", {"ids": [1], "fields": ["foo"]}, 500, "Invalid field 'foo'"),
        ("foo.bar", "search", {"domain": []}, 404, "does not exist"),
        ("res.partner", "frobnicate", {}, 404, "does not exist"),
        ("res.partner", "exists", {"ids": [1]}, 403, "Private methods"),
        ("res.partner", "_search", {}, 403, "Private methods"),
        ("mail.activity", "create", {"vals_list": [{"res_model_id": 1}]}, 422, "not null res_id"),
    ]
    for model, method, body, status, text in cases:
        response = live19.json2(model, method, body)
        assert response.status_code == status, (model, method, response.text)
        assert text in response.json()["message"]
        assert set(response.json()) == {"name", "message", "arguments", "context", "debug"}


def test_only_the_bearer_key_is_accepted(live19: Live) -> None:
    for headers in (
        {"Authorization": "bearer admin"},
        {"Authorization": f"Basic {live19.key}"},
        {},
    ):
        response = live19.json2("res.partner", "search", {"domain": []}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "bearer"
        assert response.json()["message"] == "401 Unauthorized: Invalid apikey"
    response = live19.json2(
        "res.partner",
        "search_count",
        {"domain": []},
        headers={"AUTHORIZATION": f"Bearer {live19.key}"},
    )
    assert response.status_code == 200


def test_other_paths_under_json2_are_404(live19: Live) -> None:
    response = httpx.get(live19.url + "/json/2/res.partner")
    assert response.status_code == 404
    assert "Did you mean POST /json/2/<model>/<method>?" in response.json()["message"]


def test_version_endpoint(live19: Live) -> None:
    response = httpx.get(live19.url + "/json/version")
    assert response.json() == {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}

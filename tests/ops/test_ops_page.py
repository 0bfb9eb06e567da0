"""/ops over HTTP: who may see it, signing in, CSRF, replaying, and what a browser is shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import ops_jobs
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from ops_support import HTML, build_ops_app, dead_letter, make_ctx, seed_activity, sign_in
from security.route_guard import assert_routes_protected

from app.core.context import AppContext
from app.core.db import Database
from app.core.security import DEV_API_KEY
from app.core.security_keys import create_api_key, revoke_api_key
from app.ops import session
from app.store.tables import AuditRow

KeyFor = Callable[..., str]


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _replay_form(page: str, dead_id: str) -> tuple[str, dict[str, str]]:
    row = re.search(
        rf'<tr class="dead-letter" data-dead-id="{re.escape(dead_id)}">(.*?)</tr>', page, re.S
    )
    assert row, f"no row for dead letter {dead_id}"
    action = re.search(r'<form method="post" action="([^"]+)"', row.group(1))
    assert action
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)"\s+value="([^"]*)"', row.group(1)))
    return action.group(1), fields


def test_every_ops_route_is_guarded_like_the_rest_of_the_api(ops_app: FastAPI) -> None:
    checks = assert_routes_protected(ops_app, {})
    ops_checks = {(c.method, c.path): c.allowed for c in checks if c.path.startswith("/ops")}
    assert ops_checks == {
        ("GET", "/ops"): frozenset({"admin", "monitoring", "support"}),
        ("POST", "/ops/login"): frozenset({"admin", "monitoring", "support"}),
        ("POST", "/ops/logout"): frozenset({"admin", "monitoring", "support"}),
        ("POST", "/ops/dlq/{dead_id}/replay"): frozenset({"admin"}),
    }


def test_the_ops_routes_stay_out_of_the_api_schema(ops_app: FastAPI) -> None:
    assert not [p for p in ops_app.openapi()["paths"] if p.startswith("/ops")]


@pytest.mark.parametrize("role", ["admin", "monitoring", "support"])
def test_admitted_roles_see_the_page_with_a_key_header(
    client: TestClient, key_for: KeyFor, role: str
) -> None:
    response = client.get("/ops", headers={"X-API-Key": key_for(role)})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for section in ("queues", "dead-letters", "carriers", "exceptions", "sla"):
        assert f'<section id="{section}"' in response.text
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp and "<script" not in response.text
    nonce = re.search(r"style-src 'nonce-([^']+)'", csp)
    assert nonce and f'<style nonce="{nonce.group(1)}">' in response.text
    assert response.headers["cache-control"] == "no-store"


def test_other_roles_are_refused(client: TestClient, key_for: KeyFor) -> None:
    for role in ("dispatcher", "integration", "data_scientist"):
        response = client.get("/ops", headers={"Authorization": f"Bearer {key_for(role)}"})
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        page = client.get("/ops", headers={"X-API-Key": key_for(role), **HTML})
        assert page.status_code == 403 and "Not allowed" in page.text


def test_a_browser_without_a_session_gets_a_sign_in_page_with_its_401(client: TestClient) -> None:
    response = client.get("/ops", headers=HTML)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert '<form method="post" action="/ops/login">' in response.text
    assert 'type="password" id="api_key" name="api_key"' in response.text
    api = client.get("/ops")  # not a browser: the API's error body
    assert api.status_code == 401 and api.json()["code"] == "unauthorized"


def test_sign_in_sets_strict_http_only_cookies_scoped_to_ops(
    client: TestClient, key_for: KeyFor
) -> None:
    key = key_for("monitoring")
    response = client.post(
        "/ops/login", data={"api_key": key}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/ops"
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 2
    for cookie in cookies:
        attrs = {a.strip().lower() for a in cookie.split(";")[1:]}
        assert {"httponly", "path=/ops", "samesite=strict", "max-age=3600"} <= attrs
        assert "secure" not in attrs  # plain HTTP in env=test; Secure over HTTPS and in prod
        assert key not in cookie
    page = client.get("/ops", headers=HTML)
    assert page.status_code == 200
    assert "test-monitoring · monitoring" in page.text
    assert 'id="sign-out"' in page.text
    assert 'disabled title="replaying needs the admin role"' not in page.text  # no letters yet


def test_cookies_are_secure_over_https_and_outside_dev_and_test(sqlite_db: Database) -> None:
    ctx = make_ctx(sqlite_db)
    try:
        app = build_ops_app(ctx)
        from auth_support import api_key_for

        key = api_key_for(ctx, "monitoring")
        with TestClient(app, base_url="https://testserver") as client:
            response = client.post("/ops/login", data={"api_key": key}, follow_redirects=False)
        assert response.status_code == 303
        assert all("Secure" in c for c in response.headers.get_list("set-cookie"))
    finally:
        ctx.queue.close()


def test_wrong_keys_do_not_sign_in(client: TestClient, key_for: KeyFor) -> None:
    cases = {
        "wb_live_000000000000_" + "0" * 52: 401,
        "not-a-key": 401,
        "x" * 300: 401,
        key_for("dispatcher"): 403,
    }
    for key, status in cases.items():
        response = client.post(
            "/ops/login", data={"api_key": key}, headers=HTML, follow_redirects=False
        )
        assert response.status_code == status, key
        assert not response.headers.get_list("set-cookie")
    empty = client.post("/ops/login", data={"api_key": ""}, follow_redirects=False)
    assert empty.status_code == 401 and empty.json()["details"]["reason"] == "missing"


def test_sign_in_with_a_header_key_is_pointless_and_refused(
    client: TestClient, key_for: KeyFor
) -> None:
    response = client.post("/ops/login", headers={"X-API-Key": key_for("monitoring")})
    assert response.status_code == 400 and response.json()["code"] == "sign_in_with_form"
    assert not response.headers.get_list("set-cookie")


def test_a_cross_site_sign_in_is_refused(client: TestClient, key_for: KeyFor) -> None:
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        response = client.post(
            "/ops/login", data={"api_key": key_for("admin")}, headers=headers,
            follow_redirects=False,
        )  # fmt: skip
        assert response.status_code == 403, headers
        assert response.json()["code"] == "cross_site"
    ok = client.post(
        "/ops/login",
        data={"api_key": key_for("admin")},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_oversized_forms_are_refused(client: TestClient) -> None:
    response = client.post("/ops/login", data={"api_key": "k" * 5000})
    assert response.status_code == 413


def test_revoking_the_key_ends_its_sessions(
    client: TestClient, ops_ctx: AppContext, key_for: KeyFor
) -> None:
    key = key_for("support")
    sign_in(client, key)
    assert client.get("/ops", headers=HTML).status_code == 200
    key_id = key.split("_")[2]
    revoke_api_key(ops_ctx.db, key_id, actor="test")
    response = client.get("/ops", headers=HTML)
    assert response.status_code == 401
    assert "session has ended" in response.text
    cleared = response.headers.get_list("set-cookie")
    assert any(c.startswith(f"{session.SESSION_COOKIE}=") and "Max-Age=0" in c for c in cleared)


def test_an_expired_or_forged_session_is_a_401(client: TestClient, ops_ctx: AppContext) -> None:
    key = session.session_key(b"not-the-pepper-0123456789abcdef0123456")
    forged, _ = session.issue(key, "anyone", "fp")
    client.cookies.set(session.SESSION_COOKIE, forged, path="/ops")
    response = client.get("/ops")
    assert response.status_code == 401 and response.json()["details"]["reason"] == "session"


def test_sign_out_needs_the_csrf_token_and_clears_the_cookies(
    client: TestClient, key_for: KeyFor
) -> None:
    sign_in(client, key_for("monitoring"))
    page = client.get("/ops", headers=HTML).text
    refused = client.post("/ops/logout", data={}, headers=HTML, follow_redirects=False)
    assert refused.status_code == 403 and "CSRF" in refused.text
    response = client.post(
        "/ops/logout", data={"csrf_token": _csrf(page)}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303
    assert client.get("/ops", headers=HTML).status_code == 401


def letter_id(ctx: AppContext, index: int) -> str:
    return ctx.queue.dead_letters[index].id  # type: ignore[attr-defined,no-any-return]


def test_replaying_from_the_page_removes_the_dead_letter_and_is_audited(
    client: TestClient, ops_ctx: AppContext, key_for: KeyFor
) -> None:
    dead_letter(ops_ctx, "order-1")
    dead_letter(ops_ctx, "order-2")
    sign_in(client, key_for("admin"))
    page = client.get("/ops", headers=HTML).text
    assert 'id="dead-letter-count">2<' in page and "customs data missing for order-1" in page
    first = letter_id(ops_ctx, 0)
    action, fields = _replay_form(page, first)
    assert action == f"/ops/dlq/{first}/replay" and fields["job"] == "ops_jobs.fail_first"
    response = client.post(action, data=fields, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/ops?notice=replayed&id={first}")
    assert ops_ctx.queue.join(10)
    assert ops_jobs.RUNS == {"order-1": 2, "order-2": 1}  # replayed, and it worked this time
    after = client.get(response.headers["location"], headers=HTML).text
    assert f"Dead letter {first} replayed (job ops_jobs.fail_first)." in after
    assert '<meta http-equiv="refresh" content="60; url=/ops">' in after  # not the notice again
    assert 'id="dead-letter-count">1<' in after and "order-2" in after and "order-1" not in after
    with ops_ctx.db.session() as s:
        audit = s.query(AuditRow).filter_by(action="dead_letter.replay").one()
        assert audit.actor.startswith("key:") and audit.target_id == first
        assert audit.after["via"] == "ops_page"


def test_replay_without_or_with_a_wrong_csrf_token_changes_nothing(
    client: TestClient, ops_ctx: AppContext, key_for: KeyFor
) -> None:
    dead_letter(ops_ctx, "order-1")
    sign_in(client, key_for("admin"))
    page = client.get("/ops", headers=HTML).text
    action, fields = _replay_form(page, letter_id(ops_ctx, 0))
    for token in (None, "", fields["csrf_token"][:-2] + "xx"):
        data = {**fields}
        if token is None:
            data.pop("csrf_token")
        else:
            data["csrf_token"] = token
        response = client.post(action, data=data, follow_redirects=False)
        assert response.status_code == 403 and response.json()["code"] == "csrf"
    cross = client.post(action, data=fields, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert len(ops_ctx.queue.dead_letters) == 1 and ops_jobs.RUNS == {"order-1": 1}


def test_a_stale_page_replays_only_the_letters_it_shows(
    client: TestClient, ops_ctx: AppContext, key_for: KeyFor
) -> None:
    dead_letter(ops_ctx, "order-1")
    dead_letter(ops_ctx, "order-2")
    dead_letter(ops_ctx, "order-3")
    sign_in(client, key_for("admin"))
    page = client.get("/ops", headers=HTML).text
    ids = [letter_id(ops_ctx, i) for i in range(3)]
    first, first_fields = _replay_form(page, ids[0])
    second, second_fields = _replay_form(page, ids[1])
    assert client.post(first, data=first_fields, follow_redirects=False).status_code == 303
    # ids are stable: the page's second button still means order-2, whatever came before it
    again = client.post(first, data=first_fields, follow_redirects=False)
    assert again.headers["location"] == f"/ops?notice=gone&id={ids[0]}"
    replayed = client.post(second, data=second_fields, follow_redirects=False)
    assert replayed.headers["location"].startswith(f"/ops?notice=replayed&id={ids[1]}")
    assert [d.spec.args for d in ops_ctx.queue.dead_letters] == [("order-3",)]


def test_only_admins_may_replay(client: TestClient, ops_ctx: AppContext, key_for: KeyFor) -> None:
    dead_letter(ops_ctx, "order-1")
    sign_in(client, key_for("support"))
    page = client.get("/ops", headers=HTML).text
    assert 'disabled title="replaying needs the admin role"' in page
    assert 'class="replay"' not in page
    response = client.post(
        f"/ops/dlq/{letter_id(ops_ctx, 0)}/replay",
        data={"csrf_token": _csrf(page)},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert len(ops_ctx.queue.dead_letters) == 1


def test_a_header_key_replays_without_a_csrf_token_and_gets_json(
    client: TestClient, ops_ctx: AppContext, key_for: KeyFor
) -> None:
    dead_letter(ops_ctx, "order-1")
    dead_id = letter_id(ops_ctx, 0)
    response = client.post(f"/ops/dlq/{dead_id}/replay", headers={"X-API-Key": key_for("admin")})
    assert response.status_code == 200 and response.json()["replayed"] == dead_id
    missing = client.post("/ops/dlq/7/replay", headers={"X-API-Key": key_for("admin")})
    assert missing.status_code == 404 and missing.json()["code"] == "dead_letter_not_found"


def test_untrusted_text_is_escaped(
    client: TestClient, ops_ctx: AppContext, key_for: KeyFor
) -> None:
    dead_letter(ops_ctx, '<img src=x onerror="alert(1)">')
    ops_ctx.redis.set("waybill:cb:<b>bold</b>:failures", 3)
    page = client.get(
        "/ops?notice=replayed&id=<script>alert(1)</script>", headers={"X-API-Key": key_for("admin")}
    ).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert '<img src=x onerror="alert(1)">' not in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_the_page_shows_circuits_exceptions_and_sla_charts(
    client: TestClient, ops_ctx: AppContext, key_for: KeyFor
) -> None:
    seed_activity(ops_ctx)
    page = client.get("/ops", headers={"X-API-Key": key_for("monitoring")}).text
    assert re.search(r'data-account="ups-main">.*?class="state-open">open<', page, re.S)
    assert re.search(r'data-account="dhl-express">.*?class="state-closed">closed<', page, re.S)
    assert 'data-label="address_issue" data-value="3.000"' in page
    assert 'data-label="damaged" data-value="1.000"' in page
    assert re.search(r"4 exceptions among\s+6 tracking events received", page)
    label = re.search(r'id="chart-sla-0".*?</svg>', page, re.S)
    assert label and 'data-label="p50" data-value="180.000"' in label.group(0)
    assert 'data-label="p90" data-value="300.000"' in label.group(0)
    assert "3.0 min" in label.group(0) and "5.0 min" in label.group(0)
    tracking = re.search(r'id="chart-sla-1".*?</svg>', page, re.S)
    assert tracking and 'data-label="p50" data-value="1800.000"' in tracking.group(0)
    assert 'data-label="p90" data-value="3600.000"' in tracking.group(0)


def test_the_dev_key_signs_in_only_where_it_is_allowed(sqlite_db: Database) -> None:
    ctx = make_ctx(sqlite_db, env="dev", allow_dev_api_key=True)
    try:
        with TestClient(build_ops_app(ctx)) as client:
            sign_in(client, DEV_API_KEY)
            assert client.get("/ops", headers=HTML).status_code == 200
            ctx.settings.allow_dev_api_key = False  # switched off: its sessions end
            assert client.get("/ops", headers=HTML).status_code == 401
    finally:
        ctx.queue.close()


def test_bootstrap_sessions_end_when_the_bootstrap_key_changes(sqlite_db: Database) -> None:
    from pydantic import SecretStr

    first = "bootstrap-key-for-the-ops-tests-0123456789"
    ctx = make_ctx(sqlite_db, bootstrap_admin_key=first)
    try:
        with TestClient(build_ops_app(ctx)) as client:
            sign_in(client, first)
            assert client.get("/ops", headers=HTML).status_code == 200
            ctx.settings.bootstrap_admin_key = SecretStr("another-bootstrap-key-0123456789abcdef")
            assert client.get("/ops", headers=HTML).status_code == 401
    finally:
        ctx.queue.close()


def test_an_expired_key_cannot_sign_in(client: TestClient, ops_ctx: AppContext) -> None:
    from app.core.security import security_config

    past = datetime.now(UTC) - timedelta(days=2)
    expired = create_api_key(
        ops_ctx.db, pepper=security_config(ops_ctx.settings).pepper, name="old",
        roles=["admin"], created_by="test", now=past, expires_at=past + timedelta(days=1),
    ).key  # fmt: skip
    response = client.post("/ops/login", data={"api_key": expired}, follow_redirects=False)
    assert response.status_code == 401 and response.json()["details"]["reason"] == "expired"

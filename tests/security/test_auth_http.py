"""Authentication and roles through a real app: headers, error bodies, roles matrix, bootstrap."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from app.core.context import AppContext
from app.core.db import Database
from app.core.security import (
    DEV_API_KEY,
    dev_principal_allowed,
    require_roles,
    security_config,
    validate_security_settings,
)
from app.core.security_keys import create_api_key, revoke_api_key
from app.store.tables import AuditRow

from .conftest import BOOTSTRAP_KEY, build_demo_app, make_settings, tamper

ALL = ["admin", "dispatcher", "support", "integration", "data_scientist", "monitoring"]

# route → roles admitted (admin always is)
MATRIX = {
    ("GET", "/v1/things"): {"admin", "dispatcher", "support", "integration", "data_scientist"},
    ("POST", "/v1/things/7"): {"admin", "dispatcher"},
    ("GET", "/metrics"): {"admin", "monitoring"},
    ("GET", "/v1/audit"): {"admin"},
    ("GET", "/v1/keys"): {"admin"},
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_missing_key_is_401_with_challenge_and_error_body(client: TestClient) -> None:
    r = client.get("/v1/things")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="waybill"'
    body = r.json()
    assert body["code"] == "unauthorized" and body["details"] == {"reason": "missing"}
    assert "Authorization: Bearer" in body["message"]
    assert r.headers["x-request-id"]


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wb_live_000000000000_" + "0" * 52},
        {"X-API-Key": "not-a-key"},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
)
def test_invalid_key_is_401_invalid_token(client: TestClient, headers: dict[str, str]) -> None:
    r = client.get("/v1/things", headers=headers)
    assert r.status_code == 401
    assert r.json()["details"] == {"reason": "invalid"}
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_bearer_and_x_api_key_are_both_accepted(
    client: TestClient, role_keys: dict[str, str]
) -> None:
    key = role_keys["support"]
    assert client.get("/v1/things", headers=bearer(key)).status_code == 200
    assert client.get("/v1/things", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/v1/things", headers={"authorization": f"bearer  {key}"}).status_code == 200
    both = {**bearer(key), "X-API-Key": key}
    assert client.get("/v1/things", headers=both).status_code == 200


def test_conflicting_credentials_are_refused(client: TestClient, role_keys: dict[str, str]) -> None:
    headers = {**bearer(role_keys["support"]), "X-API-Key": role_keys["admin"]}
    r = client.get("/v1/things", headers=headers)
    assert r.status_code == 401 and r.json()["details"] == {"reason": "conflict"}
    assert 'error="invalid_request"' in r.headers["www-authenticate"]


def test_other_authorization_schemes_are_ignored(
    client: TestClient, role_keys: dict[str, str]
) -> None:
    headers = {"Authorization": "Basic dXNlcjpwYXNz", "X-API-Key": role_keys["support"]}
    assert client.get("/v1/things", headers=headers).status_code == 200
    assert client.get("/v1/things", headers={"Authorization": "Basic dXNlcjpwYXNz"}).json()[
        "details"
    ] == {"reason": "missing"}


def test_key_in_query_string_is_not_accepted(client: TestClient, role_keys: dict[str, str]) -> None:
    r = client.get("/v1/things", params={"api_key": role_keys["admin"]})
    assert r.status_code == 401


def test_revoked_and_expired_keys_are_401(client: TestClient, sctx: AppContext) -> None:
    pepper = security_config(sctx.settings).pepper
    live = create_api_key(sctx.db, pepper=pepper, name="a", roles=["support"], created_by="t")
    assert client.get("/v1/things", headers=bearer(live.key)).status_code == 200
    revoke_api_key(sctx.db, live.info.id, actor="t")
    r = client.get("/v1/things", headers=bearer(live.key))
    assert r.status_code == 401 and r.json()["details"] == {"reason": "revoked"}
    past = datetime.now(UTC) - timedelta(days=3)
    old = create_api_key(
        sctx.db,
        pepper=pepper,
        name="b",
        roles=["support"],
        created_by="t",
        now=past,
        expires_at=past + timedelta(days=1),
    )
    r = client.get("/v1/things", headers={"X-API-Key": old.key})
    assert r.status_code == 401 and r.json()["details"] == {"reason": "expired"}
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


@pytest.mark.parametrize(("method", "path"), list(MATRIX))
@pytest.mark.parametrize("role", ALL)
def test_roles_matrix(
    client: TestClient, role_keys: dict[str, str], method: str, path: str, role: str
) -> None:
    r = client.request(method, path, headers=bearer(role_keys[role]))
    if role in MATRIX[(method, path)]:
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 403, r.text
        body = r.json()
        assert body["code"] == "forbidden"
        assert body["details"]["roles"] == [role]
        assert "admin" in body["details"]["required_any_of"]
        assert "www-authenticate" not in r.headers


def test_a_key_with_several_roles_gets_their_union(client: TestClient, sctx: AppContext) -> None:
    pepper = security_config(sctx.settings).pepper
    key = create_api_key(
        sctx.db, pepper=pepper, name="ops", roles=["monitoring", "dispatcher"], created_by="t"
    ).key
    assert client.get("/metrics", headers=bearer(key)).status_code == 200
    assert client.post("/v1/things/1", headers=bearer(key)).status_code == 200
    assert client.get("/v1/audit", headers=bearer(key)).status_code == 403


def test_principal_reaches_the_audit_log_and_the_logs(
    client: TestClient,
    role_keys: dict[str, str],
    sctx: AppContext,
    json_logs: Callable[[], str],
) -> None:
    key = role_keys["dispatcher"]
    key_id = key.split("_")[2]
    assert client.post("/v1/things/42", headers=bearer(key)).json() == {"id": 42}
    with sctx.db.session() as s:
        row = s.scalars(select(AuditRow).where(AuditRow.action == "thing.change")).one()
    assert (row.actor, row.target_id) == (f"key:{key_id}", "42")
    assert row.correlation_id and row.correlation_id.startswith("wb-")
    assert client.get("/v1/things", headers=bearer(key)).status_code == 200
    lines = [json.loads(x) for x in json_logs().splitlines() if x.startswith("{")]
    listed = [x for x in lines if x.get("event") == "things_listed"]
    assert listed and listed[-1]["actor"] == f"key:{key_id}"


def test_forbidden_and_failed_attempts_are_logged_without_the_key(
    client: TestClient, role_keys: dict[str, str], json_logs: Callable[[], str]
) -> None:
    client.get("/v1/audit", headers=bearer(role_keys["support"]))
    client.get("/v1/things", headers=bearer(tamper(role_keys["support"])))
    lines = [json.loads(x) for x in json_logs().splitlines() if x.startswith("{")]
    events = {x["event"]: x for x in lines}
    assert events["auth_forbidden"]["roles"] == ["support"]
    assert events["auth_failed"]["reason"] == "invalid"
    assert events["auth_failed"]["key_id"] == role_keys["support"].split("_")[2]
    text = json.dumps(lines)
    assert all(k not in text and k[:-1] not in text for k in role_keys.values())


def test_bootstrap_admin_key_creates_the_first_keys(
    sqlite_db: Database, ctx_factory: Callable[..., AppContext]
) -> None:
    ctx = ctx_factory(sqlite_db, bootstrap_admin_key=SecretStr(BOOTSTRAP_KEY))
    client = TestClient(build_demo_app(ctx))
    r = client.post(
        "/v1/keys",
        headers=bearer(BOOTSTRAP_KEY),
        json={"name": "first admin", "roles": ["admin"], "expires_in_days": 30},
    )
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    created = r.json()
    assert created["created_by"] == "key:bootstrap"
    assert created["key"].startswith(f"wb_test_{created['id']}_")
    listed = client.get("/v1/keys", headers=bearer(created["key"])).json()
    assert [k["id"] for k in listed] == [created["id"]]
    assert client.get("/v1/keys", headers=bearer(BOOTSTRAP_KEY[:-1])).status_code == 401


def test_bootstrap_key_cannot_be_revoked_through_the_api(
    sqlite_db: Database, ctx_factory: Callable[..., AppContext]
) -> None:
    ctx = ctx_factory(sqlite_db, bootstrap_admin_key=SecretStr(BOOTSTRAP_KEY))
    client = TestClient(build_demo_app(ctx))
    r = client.post("/v1/keys/bootstrap/revoke", headers=bearer(BOOTSTRAP_KEY))
    assert r.status_code == 422 and r.json()["code"] == "key_not_revocable"


def test_keys_api_create_list_revoke(client: TestClient, role_keys: dict[str, str]) -> None:
    admin = bearer(role_keys["admin"])
    r = client.post(
        "/v1/keys",
        headers=admin,
        json={"name": "carrier-callbacks", "roles": ["integration"], "never_expires": True},
    )
    assert r.status_code == 201 and r.json()["expires_at"] is None
    new = r.json()
    assert client.get("/v1/things", headers=bearer(new["key"])).status_code == 200
    r = client.post(f"/v1/keys/{new['id']}/revoke", headers=admin, json={"reason": "rotated"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert "key" not in r.json()
    assert client.get("/v1/things", headers=bearer(new["key"])).status_code == 401
    assert client.post("/v1/keys/zzzzzzzzzzzz/revoke", headers=admin).status_code == 404
    bad = client.post("/v1/keys", headers=admin, json={"name": "x", "roles": ["root"]})
    assert bad.status_code == 422


def test_dev_key_needs_env_dev_and_the_opt_in(
    sqlite_db: Database, ctx_factory: Callable[..., AppContext]
) -> None:
    cases = [("dev", True, 200), ("dev", False, 401), ("test", True, 401)]
    for env, opt_in, expected in cases:
        ctx = ctx_factory(sqlite_db, env=env, allow_dev_api_key=opt_in)
        assert dev_principal_allowed(ctx.settings) is (expected == 200)
        client = TestClient(build_demo_app(ctx))
        r = client.get("/v1/audit", headers={"X-API-Key": DEV_API_KEY})
        assert r.status_code == expected, (env, opt_in)
        if expected == 200:
            assert client.post("/v1/things/1", headers=bearer(DEV_API_KEY)).status_code == 200


def test_dev_key_is_refused_in_production_settings() -> None:
    settings = make_settings(
        env="prod",
        allow_dev_api_key=True,
        api_key_pepper=SecretStr("p" * 40),
        odoo_api_key=SecretStr("real-odoo-key"),
        odoo_webhook_token=SecretStr("real-webhook-token"),
    )
    assert not dev_principal_allowed(settings)
    with pytest.raises(ValueError, match="ALLOW_DEV_API_KEY"):
        validate_security_settings(settings)


def test_production_settings_need_a_strong_pepper_and_bootstrap_key() -> None:
    real = {
        "odoo_api_key": SecretStr("real-odoo-key"),
        "odoo_webhook_token": SecretStr("real-webhook-token"),
    }
    with pytest.raises(ValueError, match="PEPPER"):
        validate_security_settings(
            make_settings(env="prod", api_key_pepper=SecretStr("short-pepper"), **real)
        )
    with pytest.raises(ValueError, match="BOOTSTRAP"):
        validate_security_settings(
            make_settings(
                env="staging",
                api_key_pepper=SecretStr("p" * 40),
                bootstrap_admin_key=SecretStr("admin123"),
                **real,
            )
        )
    validate_security_settings(
        make_settings(env="prod", api_key_pepper=SecretStr("p" * 40), **real)
    )
    validate_security_settings(make_settings(env="dev", api_key_pepper=SecretStr("dev")))
    with pytest.raises(RuntimeError, match="PEPPER"):
        dev_pepper = make_settings(env="test", api_key_pepper=SecretStr("dev"))
        security_config(dev_pepper.model_copy(update={"env": "prod"}))


def test_pepper_can_come_from_a_secrets_directory(tmp_path: object) -> None:
    from pathlib import Path

    secrets = Path(str(tmp_path)) / "secrets"
    secrets.mkdir()
    (secrets / "waybill_api_key_pepper").write_text("q" * 40 + "\n")
    settings = make_settings(_secrets_dir=secrets, api_key_pepper=None)
    assert security_config(settings).pepper == b"q" * 40
    assert "q" * 40 not in repr(settings)


def test_unknown_roles_fail_when_the_route_is_declared() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        require_roles("superuser")
    assert require_roles().allowed == frozenset({"admin"})
    assert require_roles("support", admin_implied=False).allowed == frozenset({"support"})

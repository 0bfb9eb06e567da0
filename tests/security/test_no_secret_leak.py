"""A key appears once, in its creation output: never in logs, other responses or errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from app.core.config import get_settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.security_keys import generate_key
from app.security_cli import keys_app
from app.store.migrate import upgrade

from .conftest import BOOTSTRAP_KEY, TEST_PEPPER, build_demo_app, tamper


def test_key_lifecycle_over_http_leaks_nothing(
    sqlite_db: Database,
    ctx_factory: Callable[..., AppContext],
    json_logs: Callable[[], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="httpx")  # the test client's own URL log
    ctx = ctx_factory(sqlite_db, bootstrap_admin_key=SecretStr(BOOTSTRAP_KEY))
    client = TestClient(build_demo_app(ctx))
    boot = {"Authorization": f"Bearer {BOOTSTRAP_KEY}"}
    created = client.post(
        "/v1/keys", headers=boot, json={"name": "support-desk", "roles": ["support"]}
    )
    assert created.status_code == 201
    key = created.json()["key"]
    other = client.post("/v1/keys", headers=boot, json={"name": "ops", "roles": ["admin"]})
    admin_key = other.json()["key"]
    secret_part = key.rsplit("_", 1)[1]

    responses = [
        client.get("/v1/things", headers={"Authorization": f"Bearer {key}"}),
        client.get("/v1/things", headers={"X-API-Key": key}),
        client.get("/v1/audit", headers={"X-API-Key": key}),  # 403
        client.get(
            "/v1/things", headers={"X-API-Key": key, "Authorization": f"Bearer {admin_key}"}
        ),
        client.get("/v1/things", headers={"X-API-Key": tamper(key)}),
        client.get("/v1/things", params={"api_key": key}),
        client.get("/v1/keys", headers=boot),
        client.get("/v1/keys", headers=boot, params={"include_inactive": "true"}),
        client.get("/v1/audit", headers=boot),
        client.post(f"/v1/keys/{key.split('_')[2]}/revoke", headers=boot),
        client.get("/v1/things", headers={"X-API-Key": key}),  # revoked
        client.get("/v1/things", headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}x"}),
        client.post("/v1/keys", headers=boot, json={"name": key, "roles": ["nope"]}),  # 422
    ]
    assert [r.status_code for r in responses] == [
        200, 200, 403, 401, 401, 401, 200, 200, 200, 200, 401, 401, 422,
    ]  # fmt: skip
    for r in responses:
        for secret in (key, secret_part, BOOTSTRAP_KEY, admin_key):
            assert secret not in r.text and secret not in str(r.headers), r.request.url

    logs = json_logs()
    assert "auth_failed" in logs and "auth_forbidden" in logs and "bootstrap_admin_key_used" in logs
    for secret in (key, secret_part, BOOTSTRAP_KEY, admin_key, admin_key.rsplit("_", 1)[1]):
        assert secret not in logs


def test_cli_shows_the_key_only_on_stdout_of_create(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, json_logs: Callable[[], str]
) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    upgrade(url)
    monkeypatch.setenv("WAYBILL_DATABASE_URL", url)
    monkeypatch.setenv("WAYBILL_API_KEY_PEPPER", TEST_PEPPER)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        made = runner.invoke(keys_app, ["create", "--name", "n", "-r", "support"])
        key = made.stdout.strip()
        listed = runner.invoke(keys_app, ["list", "--all", "--json"])
        revoked = runner.invoke(keys_app, ["revoke", key.split("_")[2]])
    finally:
        get_settings.cache_clear()
    assert key.startswith("wb_")
    assert key not in made.stderr
    assert key not in listed.output and key not in revoked.output
    assert key not in json_logs()
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            dump = "\n".join(
                str(row)
                for table in ("api_keys", "audit_log")
                for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
            )
    finally:
        db.dispose()
    assert key.split("_")[2] in dump and key not in dump and key.rsplit("_", 1)[1] not in dump


def test_settings_never_print_security_secrets() -> None:
    from .conftest import make_settings

    settings = make_settings(bootstrap_admin_key=SecretStr(BOOTSTRAP_KEY))
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert BOOTSTRAP_KEY not in text and TEST_PEPPER not in text


def test_a_key_in_a_logged_url_is_scrubbed(json_logs: Callable[[], str]) -> None:
    """Access logs print the query string; a caller who put a key there must not leak it."""
    from app.core.logging import get_logger

    key = generate_key("live")[1]
    line = f'127.0.0.1 - "GET /v1/things?api_key={key} HTTP/1.1" 401'
    get_logger("tests.security.access").warning(line)
    logs = json_logs()
    assert "GET /v1/things?api_key=" in logs  # the line was written
    assert key not in logs

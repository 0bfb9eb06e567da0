"""``waybill keys create|list|revoke`` against a SQLite database configured by environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.core.config import get_settings
from app.core.db import Database
from app.core.security import security_config
from app.core.security_keys import verify_api_key
from app.security_cli import keys_app
from app.store.migrate import upgrade

from .conftest import TEST_PEPPER


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    monkeypatch.setenv("WAYBILL_DATABASE_URL", url)
    monkeypatch.setenv("WAYBILL_ENV", "test")
    monkeypatch.setenv("WAYBILL_API_KEY_PEPPER", TEST_PEPPER)
    get_settings.cache_clear()
    db = Database(url)
    yield db
    db.dispose()
    get_settings.cache_clear()


def test_create_prints_the_key_once_and_it_works(cli_db: Database) -> None:
    runner = CliRunner()
    result = runner.invoke(
        keys_app, ["create", "--name", "odoo-prod", "--role", "integration", "-r", "support"]
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("wb_test_") and "\n" not in key
    assert "shown once" in result.stderr and key not in result.stderr
    pepper = security_config(get_settings()).pepper
    check = verify_api_key(cli_db, pepper, key)
    assert check.outcome == "ok" and check.info is not None
    assert check.info.roles == ("integration", "support")
    assert check.info.created_by.startswith("cli:")
    assert check.info.expires_at is not None

    listed = runner.invoke(keys_app, ["list"])
    assert listed.exit_code == 0
    assert check.info.id in listed.stdout and "odoo-prod" in listed.stdout
    assert key not in listed.output and key.rsplit("_", 1)[1] not in listed.output


def test_list_json_and_revoke(cli_db: Database) -> None:
    runner = CliRunner()
    made = runner.invoke(
        keys_app, ["create", "--name", "scraper", "-r", "monitoring", "--never-expires", "--json"]
    )
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    assert created["expires_at"] is None and created["roles"] == ["monitoring"]
    revoked = runner.invoke(keys_app, ["revoke", created["id"], "--reason", "rotated"])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    pepper = security_config(get_settings()).pepper
    assert verify_api_key(cli_db, pepper, created["key"]).outcome == "revoked"
    assert json.loads(runner.invoke(keys_app, ["list", "--json"]).stdout) == []
    rows = json.loads(runner.invoke(keys_app, ["list", "--all", "--json"]).stdout)
    assert [(r["id"], r["status"]) for r in rows] == [(created["id"], "revoked")]
    assert "key" not in rows[0] and created["key"] not in json.dumps(rows)


def test_errors_are_reported_without_a_traceback(cli_db: Database) -> None:
    runner = CliRunner()
    bad_role = runner.invoke(keys_app, ["create", "--name", "x", "-r", "root"])
    assert bad_role.exit_code == 1 and "roles must be" in bad_role.stderr
    missing = runner.invoke(keys_app, ["revoke", "nosuchkey000"])
    assert missing.exit_code == 1 and "no API key" in missing.stderr


def test_unmigrated_database_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WAYBILL_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(keys_app, ["list"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "waybill db upgrade" in result.stderr

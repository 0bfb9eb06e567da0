"""Migration 0002 (api_keys) up and down on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from app.core.db import make_engine
from app.store.migrate import current_heads, downgrade, upgrade

PG_ADMIN_URL = os.environ.get(
    "WAYBILL_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


COLUMNS = {
    "id",
    "name",
    "roles",
    "secret_hash",
    "hash_scheme",
    "rate_limit_per_minute",
    "created_at",
    "created_by",
    "expires_at",
    "revoked_at",
    "revoked_by",
    "last_used_at",
}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mig.db'}"
        return
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (CI must start it)")
        pytest.skip("PostgreSQL not reachable")
    name = f"waybill_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _tables(url: str) -> dict[str, set[str]]:
    engine = make_engine(url)
    try:
        insp = inspect(engine)
        return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}
    finally:
        engine.dispose()


def test_0002_upgrade_downgrade_upgrade(empty_url: str) -> None:
    upgrade(empty_url, "0001")
    assert "api_keys" not in _tables(empty_url)
    upgrade(empty_url, "0002")
    assert current_heads(empty_url) == ["0002"]
    assert _tables(empty_url)["api_keys"] == COLUMNS
    engine = make_engine(empty_url)
    try:
        indexes = {i["name"] for i in inspect(engine).get_indexes("api_keys")}
        assert "ix_api_keys_revoked_expires" in indexes
        with engine.begin() as conn:  # the JSON column and aware timestamps work on the engine
            conn.execute(
                text(
                    "INSERT INTO api_keys (id, name, roles, secret_hash, hash_scheme, created_at,"
                    " created_by) VALUES ('k1', 'n', :roles, 'h', 's', :at, 'me')"
                ),
                {"roles": '["admin"]', "at": "2026-01-01 00:00:00"},
            )
    finally:
        engine.dispose()
    downgrade(empty_url, "0001")
    assert current_heads(empty_url) == ["0001"]
    tables = _tables(empty_url)
    assert "api_keys" not in tables and "audit_log" in tables
    upgrade(empty_url, "0002")
    assert _tables(empty_url)["api_keys"] == COLUMNS

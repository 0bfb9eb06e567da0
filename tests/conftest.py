"""Shared fixtures: a migrated database on SQLite *and* the real PostgreSQL, real Redis.

PostgreSQL tests run against 127.0.0.1:5432 in a database created for this test session and
emptied between tests; Redis tests use database 15 and flush it. Nothing is mocked that can run
here for real.
"""

from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text

from app.core.config import Settings
from app.core.db import Base, Database
from app.store.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "WAYBILL_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("WAYBILL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session (dropped afterwards)."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (CI must start it)")
        pytest.skip("PostgreSQL not reachable")
    name = f"waybill_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once, copy per test: Alembic per test would dominate the suite's runtime."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _empty_tables(database: Database) -> None:
    with database.engine.begin() as conn:
        if database.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """The store on both engines it supports; every test starts with empty tables."""
    if request.param == "sqlite":
        path = tmp_path / "waybill.db"
        path.write_bytes(sqlite_template.read_bytes())
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(request.getfixturevalue("pg_url"))
        _empty_tables(database)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    path = tmp_path / "waybill.db"
    path.write_bytes(sqlite_template.read_bytes())
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def redis_conn() -> Iterator[redis_lib.Redis]:
    conn = redis_lib.Redis.from_url(REDIS_TEST_URL)
    try:
        conn.ping()
    except redis_lib.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable at 127.0.0.1:6379 (CI must start it)")
        pytest.skip("Redis not reachable")
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=f"sqlite:///{tmp_path / 'settings.db'}",
        redis_url="embedded",
        log_json=False,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def json_logs() -> Iterator[Callable[[], str]]:
    """The project's JSON logging, written to a buffer; call the fixture to read it."""
    from app.core.logging import configure_logging

    configure_logging("DEBUG", json=True)
    buffer = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer.getvalue
    finally:
        logging.getLogger().handlers.clear()

"""Migration 0004 builds exactly the ``alerts`` table the metadata declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.core.db import Base, Database


def test_migration_matches_the_alerts_table(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    about_alerts = [d for d in diff if "alerts" in repr(d)]
    assert about_alerts == []

"""Raw carrier payloads are nulled after the retention period, with an audit row (both engines)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.core.db import Database
from app.core.retention import PURGE_ACTION, purge_raw_payloads, retention_period
from app.store.tables import AuditRow, TrackingEventRow

from .conftest import make_settings

NOW = datetime(2030, 6, 1, tzinfo=UTC)
PAYLOAD = {"signed_by": "Ada Lovelace", "address": {"street1": "1 Main St"}, "status": "ok"}


def add_events(db: Database, ages_days: list[int], payload: object = PAYLOAD) -> None:
    with db.session() as s:
        for i, age in enumerate(ages_days):
            at = NOW - timedelta(days=age)
            s.add(
                TrackingEventRow(
                    dedupe_key=f"e{i}-{age}",
                    carrier="ups",
                    tracking_number=f"1Z{i}",
                    occurred_at=at,
                    received_at=at,
                    status="delivered",
                    raw_payload=payload,  # type: ignore[arg-type]
                )
            )


def payloads(db: Database) -> dict[str, object]:
    with db.session() as s:
        rows = s.scalars(select(TrackingEventRow)).all()
        return {r.dedupe_key: r.raw_payload for r in rows}


def test_purge_nulls_only_old_payloads_and_audits(db: Database) -> None:
    add_events(db, [200, 91, 90, 10, 0])
    purged = purge_raw_payloads(db, timedelta(days=90), now=NOW, batch_size=2)
    assert purged == 2
    got = payloads(db)
    assert got["e0-200"] is None and got["e1-91"] is None
    assert got["e2-90"] == PAYLOAD and got["e3-10"] == PAYLOAD and got["e4-0"] == PAYLOAD
    with db.session() as s:
        # SQL NULL, not the JSON value null: the column is empty, not a stored "null"
        nulls = s.execute(
            text("SELECT count(*) FROM tracking_events WHERE raw_payload IS NULL")
        ).scalar_one()
        assert nulls == 2
        event = s.scalars(select(TrackingEventRow).where(TrackingEventRow.dedupe_key == "e0-200"))
        assert event.one().status == "delivered"  # the normalized event stays
        audit = s.scalars(select(AuditRow)).one()
    assert (audit.actor, audit.action, audit.target_type) == (
        "system:retention",
        PURGE_ACTION,
        "tracking_events",
    )
    assert audit.after == {"cutoff": (NOW - timedelta(days=90)).isoformat(), "purged": 2}


def test_purge_is_idempotent_and_audits_every_run(db: Database) -> None:
    add_events(db, [120, 100])
    assert purge_raw_payloads(db, timedelta(days=30), now=NOW) == 2
    assert purge_raw_payloads(db, timedelta(days=30), now=NOW) == 0
    with db.session() as s:
        runs = s.scalars(select(AuditRow.after).order_by(AuditRow.id)).all()
    assert [r["purged"] for r in runs] == [2, 0]  # type: ignore[index]


def test_purge_accepts_a_cutoff_and_spans_many_batches(db: Database) -> None:
    add_events(db, list(range(40, 65)))
    assert purge_raw_payloads(db, NOW - timedelta(days=50), batch_size=4) == 14
    assert sum(v is None for v in payloads(db).values()) == 14  # ages 51..64
    with pytest.raises(ValueError, match="aware"):
        purge_raw_payloads(db, datetime(2030, 1, 1))


def test_retention_period_from_settings() -> None:
    assert retention_period(make_settings()) == timedelta(days=90)
    assert retention_period(make_settings(raw_payload_retention_days=7)) == timedelta(days=7)
    with pytest.raises(ValueError):
        retention_period(make_settings(raw_payload_retention_days=0))

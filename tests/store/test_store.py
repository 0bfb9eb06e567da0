"""The store on SQLite and the real PostgreSQL: migrations, constraints, round-trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from app.core.db import Base, Database
from app.store.migrate import current_heads, downgrade, head_revision, upgrade
from app.store.tables import (
    AuditRow,
    LabelRow,
    OutboxRow,
    ParcelRow,
    ShipmentRow,
    TrackingEventRow,
)


def shipment(**overrides: object) -> ShipmentRow:
    values: dict[str, object] = {
        "id": "shp_1",
        "source": "odoo:demo",
        "source_ref": "stock.picking:7",
        "revision": 1,
        "reference": "WH/OUT/00007",
        "state": "intent",
        "correlation_id": "wb-1",
    }
    return ShipmentRow(**{**values, **overrides})


def test_migrations_create_every_table(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_shipment_round_trip_with_children(db: Database) -> None:
    with db.session() as s:
        row = shipment(
            price_amount=Decimal("12.34"),
            price_currency="EUR",
            request={"reference": "WH/OUT/00007", "parcels": [{"weight": "1.5"}]},
        )
        row.parcels.append(ParcelRow(index=0, weight_kg=Decimal("1.5")))
        row.labels.append(
            LabelRow(parcel_index=0, tracking_number="1Z9", format="pdf", data=b"%PDF-1.4 \x00\xff")
        )
        s.add(row)
    with db.session() as s:
        got = s.get(ShipmentRow, "shp_1")
        assert got is not None
        assert got.price_amount == Decimal("12.34")
        assert got.request == {"reference": "WH/OUT/00007", "parcels": [{"weight": "1.5"}]}
        assert [p.weight_kg for p in got.parcels] == [Decimal("1.500")]
        assert got.labels[0].data == b"%PDF-1.4 \x00\xff"
        assert got.created_at.tzinfo is not None


def test_intake_key_is_unique(db: Database) -> None:
    with db.session() as s:
        s.add(shipment())
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(shipment(id="shp_2"))
    with db.session() as s:  # the next revision of the same picking is a different intent
        s.add(shipment(id="shp_3", revision=2))
        assert len(s.scalars(select(ShipmentRow)).all()) == 2


def test_datetimes_come_back_aware_utc(db: Database) -> None:
    cest = timezone(timedelta(hours=2))
    moment = datetime(2026, 6, 1, 14, 30, tzinfo=cest)
    with db.session() as s:
        s.add(
            TrackingEventRow(
                dedupe_key="k1",
                carrier="ups",
                tracking_number="1Z",
                occurred_at=moment,
                status="in_transit",
            )
        )
    with db.session() as s:
        got = s.scalars(select(TrackingEventRow)).one()
        assert got.occurred_at == moment
        assert got.occurred_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"), db.session() as s:
        s.add(
            AuditRow(actor="a", action="b", target_type="c", target_id="d", at=datetime(2026, 1, 1))
        )
        s.flush()


def test_event_dedupe_and_outbox_dedupe_keys(db: Database) -> None:
    now = datetime.now(UTC)
    with db.session() as s:
        s.add(
            TrackingEventRow(
                dedupe_key="evt-1",
                carrier="ups",
                tracking_number="1Z",
                occurred_at=now,
                status="in_transit",
            )
        )
        s.add(
            OutboxRow(
                aggregate="stock.picking:7",
                kind="odoo.write",
                payload={"vals": {"carrier_tracking_ref": "1Z"}},
                dedupe_key="w-1",
            )
        )
    for row in (
        TrackingEventRow(
            dedupe_key="evt-1",
            carrier="ups",
            tracking_number="1Z",
            occurred_at=now,
            status="delivered",
        ),
        OutboxRow(aggregate="stock.picking:7", kind="odoo.write", payload={}, dedupe_key="w-1"),
    ):
        with pytest.raises(IntegrityError), db.session() as s:
            s.add(row)


def test_optimistic_locking_on_shipments(db: Database) -> None:
    with db.session() as s:
        s.add(shipment())
    first, second = db.sessions(), db.sessions()
    try:
        a = first.get(ShipmentRow, "shp_1")
        b = second.get(ShipmentRow, "shp_1")
        assert a is not None and b is not None
        a.state = "booked"
        first.commit()
        b.state = "cancelled"
        with pytest.raises(Exception, match="expected to update"):
            second.commit()
    finally:
        first.close()
        second.close()


def test_downgrade_and_upgrade_again(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/mig.db"
    upgrade(url)
    assert current_heads(url) == [head_revision()]
    downgrade(url, "base")
    assert current_heads(url) == []
    upgrade(url)
    assert current_heads(url) == [head_revision()]

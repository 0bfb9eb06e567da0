"""End-of-day close-out: one manifest per account and day, each shipment listed once, the
carrier's own document where its adapter offers one, the handover sheet otherwise."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from app.core.db import Database
from app.core.errors import Conflict
from app.core.ids import new_id
from app.store.tables import (
    LabelRow,
    ManifestRow,
    ManifestShipmentRow,
    ParcelRow,
    ShipmentRow,
)
from app.sync.manifest.service import ManifestService

DAY = date(2026, 3, 2)


@dataclass
class CarrierClose:
    data: bytes
    reference: str


class ClosingAdapter:
    """An adapter with a close-out call, recording what it was asked to close."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def manifest(self, numbers: list[str], *, day: date) -> CarrierClose:
        self.calls.append(numbers)
        return CarrierClose(b"%PDF-1.4 scan form", f"SF-{day:%Y%m%d}-{len(self.calls)}")


class PlainAdapter:
    """Like karrio's EasyPost and UPS connectors: no close-out call."""


class Directory:
    def __init__(self, adapters: dict[str, Any]) -> None:
        self.adapters = adapters

    def adapter(self, account_id: str) -> Any:
        return self.adapters[account_id]


def seed(db: Database, account: str, n: int, *, labelled: datetime, state: str = "booked") -> None:
    with db.session() as session:
        for i in range(n):
            number = f"{account[:3]}{state[:2]}{labelled:%d%H}{i:04d}"
            session.add(
                ShipmentRow(
                    id=new_id("shp"),
                    source="test",
                    source_ref=f"{account}:{state}:{labelled:%d%H}:{i}",
                    reference=f"WH/OUT/{i:04d}",
                    state=state,
                    carrier_account=account,
                    service="ground",
                    source_snapshot={},
                    correlation_id="cid",
                    parcels=[ParcelRow(index=0, weight_kg=1, tracking_number=number)],
                    labels=[
                        LabelRow(
                            parcel_index=0,
                            tracking_number=number,
                            format="pdf",
                            data=b"label",
                            created_at=labelled,
                        )
                    ],
                )
            )


def test_one_manifest_per_account_each_shipment_once(sqlite_db: Database) -> None:
    at = datetime(2026, 3, 2, 15, tzinfo=UTC)
    seed(sqlite_db, "ups-main", 3, labelled=at)
    seed(sqlite_db, "easypost-main", 2, labelled=at)
    seed(sqlite_db, "ups-main", 4, labelled=at - timedelta(days=1))  # yesterday's: not today's
    seed(sqlite_db, "ups-main", 2, labelled=at, state="cancelled")  # voided: not handed over
    closing = ClosingAdapter()
    service = ManifestService(
        db=sqlite_db, directory=Directory({"ups-main": closing, "easypost-main": PlainAdapter()})
    )

    records = {r.account: r for r in service.close_day(DAY)}

    assert {a: len(r.shipment_ids) for a, r in records.items()} == {
        "ups-main": 3,
        "easypost-main": 2,
    }
    assert records["ups-main"].document.source == "carrier"
    assert records["ups-main"].document.carrier_reference == "SF-20260302-1"
    assert closing.calls == [records["ups-main"].tracking_numbers]
    sheet = list(csv.reader(io.StringIO(records["easypost-main"].document.data.decode())))
    assert [row[2] for row in sheet[4:]] == records["easypost-main"].tracking_numbers
    assert service.close_day(DAY) == []  # a re-run lists nobody twice


def test_shipments_labelled_after_the_close_go_in_a_second_manifest(sqlite_db: Database) -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    seed(sqlite_db, "easypost-main", 2, labelled=at)
    service = ManifestService(db=sqlite_db, directory=Directory({"easypost-main": PlainAdapter()}))
    (first,) = service.close_day(DAY)
    seed(sqlite_db, "easypost-main", 1, labelled=at + timedelta(hours=8))

    (second,) = service.close_day(DAY)

    assert len(second.shipment_ids) == 1
    assert not set(first.shipment_ids) & set(second.shipment_ids)
    assert first.manifest_id != second.manifest_id


def test_an_odoo_outage_leaves_the_manifest_stored_and_the_next_close_posts_it(
    sqlite_db: Database,
) -> None:
    from app.sync.odoo import OdooClient
    from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server

    box = OdooSandbox(version="17.0", seed=2, demo_data=False)
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    seed(sqlite_db, "easypost-main", 2, labelled=at)
    with run_sandbox_server(box, host="127.0.0.1", port=0) as url:
        odoo = OdooClient(
            url=url, db=box.db, username=box.login, api_key=box.api_key, retry_attempts=1
        )
        service = ManifestService(
            db=sqlite_db, directory=Directory({"easypost-main": PlainAdapter()}), odoo=odoo
        )
        box.fail_next(1, "unavailable")
        try:
            service.close_day(DAY)
            raise AssertionError("the outage should surface")
        except Exception as exc:  # the caller (CLI, scheduler) reports it and runs again
            assert "unavailable" in str(exc).lower() or exc.__class__.__name__.startswith("Odoo")
        with sqlite_db.session() as session:
            (stored,) = session.query(ManifestRow).all()
            assert stored.odoo_attachment_id is None and stored.shipment_count == 2
            sha = stored.document_sha256

        assert service.close_day(DAY) == []  # nothing new to close ...
        with sqlite_db.session() as session:
            (stored,) = session.query(ManifestRow).all()
            attachment_id = stored.odoo_attachment_id
        assert attachment_id is not None  # ... but the waiting document reached Odoo
        (attachment,) = odoo.read("ir.attachment", [attachment_id], ["name", "datas"])
        import base64
        import hashlib

        assert hashlib.sha256(base64.b64decode(attachment["datas"])).hexdigest() == sha
        odoo.close()


def test_a_shipment_already_on_a_manifest_is_never_listed_again(sqlite_db: Database) -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    seed(sqlite_db, "easypost-main", 2, labelled=at)
    service = ManifestService(db=sqlite_db, directory=Directory({"easypost-main": PlainAdapter()}))
    group = service.open_shipments(DAY)["easypost-main"]
    service.close_group("easypost-main", DAY, group[:1])
    with pytest.raises(Conflict) as raised:  # a racing close-out that read the day earlier
        service.close_group("easypost-main", DAY, group)
    assert raised.value.code == "manifest_conflict"
    with sqlite_db.session() as session:
        assert session.query(ManifestShipmentRow).count() == 1

"""End-of-day close-out: group the day's labelled shipments per carrier account, close each
group once, keep the manifest record and give Odoo the manifest document.

Why one manifest per account and day: the driver scans one document at pickup, and a carrier
that supports close-out (USPS SCAN form through karrio's ``create_manifest``) takes one request
per group, not per parcel. A carrier adapter that offers ``manifest(...)`` is asked for the
carrier's document; the others (karrio's EasyPost and UPS connectors have no manifest call) get
a manifest Waybill writes itself, so the warehouse has the same handover sheet either way.

Records: a ``manifests`` row per close-out and a ``manifest_shipments`` row per shipment it
lists, committed *before* the document goes to Odoo. The shipment is that table's primary key,
so a shipment can never be handed over twice — a re-run, or two close-outs racing, find it taken.
An Odoo outage after the commit leaves the manifest without its attachment; the next close-out
of the day posts it. Every close-out is also in the audit log.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core.audit import record_audit
from app.core.db import Database
from app.core.errors import Conflict
from app.core.logging import get_logger
from app.models import ShipmentState
from app.store.tables import (
    LabelRow,
    ManifestRow,
    ManifestShipmentRow,
    ParcelRow,
    ShipmentRow,
)
from app.sync.booking.directory import CarrierDirectory
from app.sync.odoo import OdooClient

log = get_logger(__name__)

MANIFESTED_STATES = (ShipmentState.BOOKED.value, ShipmentState.WRITTEN_BACK.value)
TARGET_TYPE = "manifest"
ACTION = "manifest.closed"


@dataclass
class ManifestDocument:
    name: str
    mimetype: str
    data: bytes
    carrier_reference: str | None = None
    source: str = "waybill"  # "carrier" when the carrier issued it


@dataclass
class ManifestRecord:
    manifest_id: str
    account: str
    day: date
    shipment_ids: list[str]
    tracking_numbers: list[str]
    document: ManifestDocument
    odoo_attachment_id: int | None = None
    odoo_carrier_id: int | None = None
    closed_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_body(self) -> dict[str, Any]:
        return {
            "manifest_id": self.manifest_id,
            "account": self.account,
            "day": self.day.isoformat(),
            "shipments": len(self.shipment_ids),
            "parcels": len(self.tracking_numbers),
            "document": self.document.name,
            "document_source": self.document.source,
            "carrier_reference": self.document.carrier_reference,
            "odoo_attachment_id": self.odoo_attachment_id,
        }


@dataclass
class OpenShipment:
    """A labelled shipment in no manifest yet: one line group of the handover sheet."""

    shipment_id: str
    reference: str
    odoo_carrier_id: int | None
    service: str | None
    numbers: list[str]


class ManifestService:
    def __init__(
        self,
        *,
        db: Database,
        directory: CarrierDirectory,
        odoo: OdooClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.directory = directory
        self.odoo = odoo
        self.clock = clock

    def close_day(self, day: date, *, accounts: list[str] | None = None) -> list[ManifestRecord]:
        """Close every account with open shipments labelled on ``day`` (UTC): one manifest each."""
        self.post_missing_documents(day)
        groups = self.open_shipments(day, accounts=accounts)
        return [self.close_group(account, day, group) for account, group in sorted(groups.items())]

    def open_shipments(
        self, day: date, *, accounts: list[str] | None = None
    ) -> dict[str, list[OpenShipment]]:
        """Shipments labelled that day, per account, minus those already in a manifest."""
        start = datetime.combine(day, time(), tzinfo=UTC)
        end = start + timedelta(days=1)
        with self.db.session() as session:
            labelled = (
                select(LabelRow.shipment_id)
                .group_by(LabelRow.shipment_id)
                .having(func.min(LabelRow.created_at) >= start, func.min(LabelRow.created_at) < end)
            )
            query = select(
                ShipmentRow.id,
                ShipmentRow.reference,
                ShipmentRow.carrier_account,
                ShipmentRow.odoo_carrier_id,
                ShipmentRow.service,
            ).where(
                ShipmentRow.state.in_(MANIFESTED_STATES),
                ShipmentRow.carrier_account.is_not(None),
                ShipmentRow.id.in_(labelled),
            )
            if accounts:
                query = query.where(ShipmentRow.carrier_account.in_(accounts))
            rows = session.execute(query.order_by(ShipmentRow.id)).all()
            numbers: dict[str, list[str]] = defaultdict(list)
            for shipment_id, number in session.execute(
                select(ParcelRow.shipment_id, ParcelRow.tracking_number)
                .where(ParcelRow.shipment_id.in_(labelled), ParcelRow.tracking_number.is_not(None))
                .order_by(ParcelRow.shipment_id, ParcelRow.index)
            ):
                numbers[shipment_id].append(number)
            done = self._already_manifested(session, day)
        groups: dict[str, list[OpenShipment]] = defaultdict(list)
        for shipment_id, reference, account, carrier_id, service in rows:
            if shipment_id not in done:
                groups[account].append(
                    OpenShipment(shipment_id, reference, carrier_id, service, numbers[shipment_id])
                )
        return dict(groups)

    def _already_manifested(self, session: Any, day: date) -> set[str]:
        start = datetime.combine(day, time(), tzinfo=UTC)
        labelled = (
            select(LabelRow.shipment_id)
            .group_by(LabelRow.shipment_id)
            .having(func.min(LabelRow.created_at) >= start)
        )
        return set(
            session.scalars(
                select(ManifestShipmentRow.shipment_id).where(
                    ManifestShipmentRow.shipment_id.in_(labelled)
                )
            )
        )

    def post_missing_documents(self, day: date) -> int:
        """Manifests of ``day`` whose document never reached Odoo (it was down): post them."""
        if self.odoo is None:
            return 0
        with self.db.session() as session:
            waiting = session.scalars(
                select(ManifestRow.id).where(
                    ManifestRow.day == day, ManifestRow.odoo_attachment_id.is_(None)
                )
            ).all()
        posted = 0
        for manifest_id in waiting:
            record = self._load(manifest_id)
            if record is not None:
                self._attach(record)
                posted += 1
        return posted

    def close_group(self, account: str, day: date, group: list[OpenShipment]) -> ManifestRecord:
        """Close ``group`` as one manifest (``close_day`` passes all of an account's day)."""
        numbers = [n for s in group for n in s.numbers]
        manifest_id = (
            f"{account}:{day.isoformat()}:"
            + hashlib.sha256("|".join(s.shipment_id for s in group).encode()).hexdigest()[:12]
        )
        document = self._carrier_document(account, day, group) or local_manifest(
            manifest_id, account, day, group
        )
        carrier_ids = [s.odoo_carrier_id for s in group if s.odoo_carrier_id]
        record = ManifestRecord(
            manifest_id=manifest_id,
            account=account,
            day=day,
            shipment_ids=[s.shipment_id for s in group],
            tracking_numbers=numbers,
            document=document,
            odoo_carrier_id=max(set(carrier_ids), key=carrier_ids.count) if carrier_ids else None,
            closed_at=self.clock(),
        )
        sha256 = hashlib.sha256(document.data).hexdigest()
        try:
            self._store(record, sha256)
        except IntegrityError as exc:  # another close-out listed one of these shipments first
            raise Conflict(
                f"a shipment of {account} on {day} is already on another manifest; close again",
                code="manifest_conflict",
            ) from exc
        self._attach(record)
        log.info("manifest_closed", **record.to_body())
        return record

    def _store(self, record: ManifestRecord, sha256: str) -> None:
        document, manifest_id = record.document, record.manifest_id
        with self.db.session() as session:
            session.add(
                ManifestRow(
                    id=manifest_id,
                    account=record.account,
                    day=record.day,
                    closed_at=record.closed_at,
                    shipment_count=len(record.shipment_ids),
                    parcel_count=len(record.tracking_numbers),
                    document_name=document.name,
                    document_source=document.source,
                    document_sha256=sha256,
                    carrier_reference=document.carrier_reference,
                    odoo_carrier_id=record.odoo_carrier_id,
                )
            )
            session.flush()  # the manifest before the rows that point at it
            session.add_all(
                ManifestShipmentRow(shipment_id=sid, manifest_id=manifest_id)
                for sid in record.shipment_ids
            )
            record_audit(
                session,
                actor="system:manifest",
                action=ACTION,
                target_type=TARGET_TYPE,
                target_id=manifest_id[:64],
                after={**record.to_body(), "sha256": sha256},
            )

    def _attach(self, record: ManifestRecord) -> None:
        record.odoo_attachment_id = self._post_to_odoo(record)
        if record.odoo_attachment_id is None:
            return
        with self.db.session() as session:
            row = session.get(ManifestRow, record.manifest_id)
            if row is not None:
                row.odoo_attachment_id = record.odoo_attachment_id

    def _load(self, manifest_id: str) -> ManifestRecord | None:
        """A stored manifest with its document rebuilt (the Waybill sheet is deterministic)."""
        with self.db.session() as session:
            row = session.get(ManifestRow, manifest_id)
            if row is None or row.document_source != "waybill":
                return None  # a carrier's own document is not stored; its reference is
            ids = session.scalars(
                select(ManifestShipmentRow.shipment_id)
                .where(ManifestShipmentRow.manifest_id == manifest_id)
                .order_by(ManifestShipmentRow.shipment_id)
            ).all()
            account, day, carrier_id = row.account, row.day, row.odoo_carrier_id
            closed_at = row.closed_at
        group = self._group(ids)
        document = local_manifest(manifest_id, account, day, group)
        return ManifestRecord(
            manifest_id=manifest_id,
            account=account,
            day=day,
            shipment_ids=[s.shipment_id for s in group],
            tracking_numbers=[n for s in group for n in s.numbers],
            document=document,
            odoo_carrier_id=carrier_id,
            closed_at=closed_at,
        )

    def _group(self, shipment_ids: list[str]) -> list[OpenShipment]:
        with self.db.session() as session:
            rows = session.execute(
                select(
                    ShipmentRow.id,
                    ShipmentRow.reference,
                    ShipmentRow.odoo_carrier_id,
                    ShipmentRow.service,
                )
                .where(ShipmentRow.id.in_(shipment_ids))
                .order_by(ShipmentRow.id)
            ).all()
            numbers: dict[str, list[str]] = defaultdict(list)
            for shipment_id, number in session.execute(
                select(ParcelRow.shipment_id, ParcelRow.tracking_number)
                .where(ParcelRow.shipment_id.in_(shipment_ids))
                .where(ParcelRow.tracking_number.is_not(None))
                .order_by(ParcelRow.shipment_id, ParcelRow.index)
            ):
                numbers[shipment_id].append(number)
        return [OpenShipment(sid, ref, cid, svc, numbers[sid]) for sid, ref, cid, svc in rows]

    def _carrier_document(
        self, account: str, day: date, group: list[OpenShipment]
    ) -> ManifestDocument | None:
        """The carrier's own close-out, where its adapter offers one."""
        adapter = self.directory.adapter(account)
        close = getattr(adapter, "manifest", None)
        if close is None:
            return None
        result = close([n for s in group for n in s.numbers], day=day)
        return ManifestDocument(
            name=f"Manifest-{account}-{day.isoformat()}.pdf",
            mimetype="application/pdf",
            data=result.data,
            carrier_reference=result.reference,
            source="carrier",
        )

    def _post_to_odoo(self, record: ManifestRecord) -> int | None:
        """One attachment per manifest, on the delivery carrier most of its shipments use."""
        if self.odoo is None:
            return None
        import base64

        vals: dict[str, Any] = {
            "name": record.document.name,
            "type": "binary",
            "datas": base64.b64encode(record.document.data).decode("ascii"),
            "mimetype": record.document.mimetype,
        }
        if record.odoo_carrier_id:
            vals.update(res_model="delivery.carrier", res_id=record.odoo_carrier_id)
        ids = self.odoo.create("ir.attachment", [vals])
        return int(ids[0]) if isinstance(ids, list) else int(ids)


def local_manifest(
    manifest_id: str, account: str, day: date, group: list[OpenShipment]
) -> ManifestDocument:
    """The handover sheet as CSV: one line per parcel, what the driver scans and signs for."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["manifest", manifest_id])
    writer.writerow(["account", account, "day", day.isoformat()])
    writer.writerow(["shipments", len(group), "parcels", sum(len(s.numbers) for s in group)])
    writer.writerow(["reference", "service", "tracking_number"])
    for s in group:
        for number in s.numbers:
            writer.writerow([s.reference, s.service or "", number])
    return ManifestDocument(
        name=f"Manifest-{account}-{day.isoformat()}.csv",
        mimetype="text/csv",
        data=out.getvalue().encode("utf-8"),
    )

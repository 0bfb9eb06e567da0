"""End-of-day close-out: group the day's labelled shipments per carrier account, close each
group once, keep the manifest record and give Odoo the manifest document.

Why one manifest per account and day: the driver scans one document at pickup, and a carrier
that supports close-out (USPS SCAN form through karrio's ``create_manifest``) takes one request
per group, not per parcel. A carrier adapter that offers ``manifest(...)`` is asked for the
carrier's document; the others (karrio's EasyPost and UPS connectors have no manifest call) get
a manifest Waybill writes itself, so the warehouse has the same handover sheet either way.

Records: until the store has a ``manifests`` table, each closed manifest is an audit row
(``target_type="manifest"``) holding the full record in its JSON ``after`` column; a shipment
already listed in a manifest of that day is never listed again, so a re-run is safe.
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

from app.core.audit import record_audit
from app.core.db import Database
from app.core.logging import get_logger
from app.models import ShipmentState
from app.store.tables import AuditRow, LabelRow, ParcelRow, ShipmentRow
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
        afters = session.scalars(
            select(AuditRow.after).where(
                AuditRow.target_type == TARGET_TYPE,
                AuditRow.action == ACTION,
                AuditRow.target_id.like(f"%:{day.isoformat()}:%"),
            )
        )
        return {sid for after in afters for sid in (after or {}).get("shipment_ids", [])}

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
        record.odoo_attachment_id = self._post_to_odoo(record)
        with self.db.session() as session:
            record_audit(
                session,
                actor="system:manifest",
                action=ACTION,
                target_type=TARGET_TYPE,
                target_id=manifest_id[:64],
                after={
                    **record.to_body(),
                    "shipment_ids": record.shipment_ids,
                    "closed_at": record.closed_at.isoformat(),
                    "sha256": hashlib.sha256(document.data).hexdigest(),
                },
            )
        log.info("manifest_closed", **record.to_body())
        return record

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

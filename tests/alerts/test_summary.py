"""The case summary: a short factual timeline, carried by exception activities too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.core.db import Database
from app.store.tables import (
    FeedbackRow,
    OutboxRow,
    ParcelRow,
    ShipmentRow,
    SuggestionRow,
    TrackingEventRow,
)
from app.sync.alerts.summary import case_summary_html, case_timeline
from app.sync.exceptions.service import ExceptionTriage
from app.triage.classifier import ExceptionClassifier

T0 = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
LATEST = {
    "p10": "2024-06-06T12:00:00+00:00",
    "p50": "2024-06-07T12:00:00+00:00",
    "p90": "2024-06-09T12:00:00+00:00",
    "p95": "2024-06-10T12:00:00+00:00",
    "stage": "first_scan",
}


def seed(db: Database) -> None:
    with db.session() as s:
        row = ShipmentRow(
            id="shp_1",
            source="odoo:demo",
            source_ref="stock.picking:7",
            reference="WH/OUT/7",
            state="written_back",
            carrier="ups",
            service="ground",
            odoo_picking_id=7,
            promised_date=datetime(2024, 6, 6, tzinfo=UTC),
            correlation_id="c",
            created_at=T0,
        )
        row.parcels.append(ParcelRow(index=0, weight_kg=Decimal("1"), tracking_number="1Z1"))
        s.add(row)
        for i, (status, category, text) in enumerate(
            [
                ("info_received", None, "Label created"),
                ("in_transit", None, "Arrival scan"),
                ("in_transit", None, "Departure scan"),
                ("exception", "weather_delay", "Severe weather"),
            ]
        ):
            s.add(
                TrackingEventRow(
                    dedupe_key=f"e{i}",
                    shipment_id="shp_1",
                    carrier="ups",
                    tracking_number="1Z1",
                    occurred_at=T0 + timedelta(hours=6 * i),
                    status=status,
                    raw_description=text,
                    exception_category=category,
                    location={"city": "Louisville", "country": "US"},
                )
            )
        s.add(
            SuggestionRow(
                id="eta_1",
                kind="eta",
                dedupe_key="shp_1",
                shipment_id="shp_1",
                payload={**LATEST, "history": [{"p50": "2024-06-05T12:00:00+00:00"}, LATEST]},
            )
        )
        s.add(
            SuggestionRow(
                id="sug_1",
                kind="triage",
                dedupe_key="shp_1:x",
                state="done",
                shipment_id="shp_1",
                payload={"category": "address_issue"},
            )
        )
        s.flush()
        s.add(FeedbackRow(suggestion_id="sug_1", decision="done", actor="odoo"))


def test_timeline_lists_milestones_exceptions_eta_moves_and_what_was_done(db: Database) -> None:
    seed(db)
    with db.session() as s:
        shipment = s.get(ShipmentRow, "shp_1")
        assert shipment is not None
        lines = [x.text for x in case_timeline(s, shipment, now=T0 + timedelta(days=2))]
        html = case_summary_html(s, shipment, now=T0 + timedelta(days=2))
    assert lines[0].startswith("Booked with ups ground (1Z1); promised 2024-06-06")
    assert "In transit (Louisville, US)" in lines  # the first scan of each status, once
    assert sum("In transit" in x for x in lines) == 1
    assert "Exception [weather_delay]: Severe weather (Louisville, US)" in lines
    assert "Delivery estimate moved 05 Jun → 07 Jun" in lines
    assert (
        "Waybill raised an exception activity (address issue): done, marked done in Odoo" in lines
    )
    assert "No carrier scan for 30 h" in lines
    assert "<b>Case summary</b>" in html and "03 Jun 14:00 — In transit" in html


def test_exception_activities_carry_the_case_summary(db: Database) -> None:
    seed(db)
    triage = ExceptionTriage(db=db, classifier=ExceptionClassifier)
    event = {
        "carrier": "ups",
        "tracking_number": "1Z1",
        "raw_code": "",
        "raw_description": "Severe weather",
        "occurred_at": T0.isoformat(),
    }
    assert triage.triage("shp_1", event, status_so_far="in_transit") is not None
    with db.session() as s:
        writes = s.scalars(select(OutboxRow).where(OutboxRow.kind == "record.activity")).all()
    assert len(writes) == 1
    note = writes[0].payload["note_html"]
    assert "Case summary" in note and "Exception [weather_delay]" in note

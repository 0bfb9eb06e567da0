"""``waybill export history``: a store with a few rows becomes contract-valid training tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from app.core.db import Database
from app.store.tables import (
    FeedbackRow,
    LabelRow,
    ParcelRow,
    RateRow,
    ShipmentRow,
    SuggestionRow,
    TrackingEventRow,
)
from training.platform.export import build_history, export_history
from training.schemas import validate_tables
from training.simulator.io import read_tables

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _request(ref: str, country: str = "BE") -> dict:
    return {
        "reference": ref,
        "shipper": {"name": "Shop", "street1": "Dock 1", "city": "Tilburg",
                    "postal_code": "5041", "country_code": "NL", "state_code": "NB"},
        "recipient": {"name": "Ann", "street1": "Main 2", "city": "Gent", "postal_code": "9000",
                      "country_code": country},
        "parcels": [{"weight": "1.5", "length": "30", "width": "20", "height": "10"},
                    {"weight": "500", "weight_unit": "g"}],
        "promised_date": "2026-03-05",
        "metadata": {"warehouse": "WH-NL1", "customer_tier": "vip",
                     "service_level": "standard"},
    }


def _shipment(sid: str, *, booked: bool, request: dict | None) -> ShipmentRow:
    row = ShipmentRow(
        id=sid, source="odoo:demo", source_ref=f"stock.picking:{sid}", revision=1,
        reference=sid, state="booked" if booked else "rated", request=request,
        correlation_id=f"c-{sid}", created_at=T0, updated_at=T0,
        carrier="lowlands" if booked else None,
        carrier_account="lowlands-WH-NL1" if booked else None,
        service="LL_EUROPE" if booked else None,
        price_amount=Decimal("7.90") if booked else None, price_currency="EUR",
        promised_date=datetime(2026, 3, 5, tzinfo=UTC) if booked else None,
    )
    row.parcels.append(ParcelRow(index=0, weight_kg=Decimal("2.0"),
                                 tracking_number=f"LL{sid}" if booked else None))
    for carrier, account, service, amount, chosen in (
        ("lowlands", "lowlands-WH-NL1", "LL_EUROPE", "7.90", booked),
        ("parcelo", "parcelo-WH-NL1", "PARCELO_EUROPA", "9.50", False),
        ("postnova", "postnova-WH-NL1", "PN_INTL_TRACKED", "6.10", False),
    ):
        row.rates.append(RateRow(
            carrier=carrier, carrier_account=account, service=service, amount=Decimal(amount),
            currency="EUR", transit_days=2, chosen=chosen, quoted_at=T0,
            estimated_delivery=datetime(2026, 3, 5, tzinfo=UTC),
            scores={"service_level": "international", "policy": "recommender"}))
    if booked:
        row.labels.append(LabelRow(parcel_index=0, tracking_number=f"LL{sid}", format="pdf",
                                   data=b"%PDF", created_at=T0 + timedelta(minutes=5)))
    return row


def _event(sid: str, n: int, status: str, hours: float, category: str | None = None,
           text: str = "") -> TrackingEventRow:
    return TrackingEventRow(
        dedupe_key=f"{sid}-{n}", shipment_id=sid, carrier="lowlands", tracking_number=f"LL{sid}",
        occurred_at=T0 + timedelta(hours=hours), status=status, raw_code=f"C{n}",
        raw_description=text or status, exception_category=category,
        location={"country_code": "BE", "region": "VOV"})


def _populate(db: Database) -> int:
    with db.session() as s:
        s.add(_shipment("shp_a", booked=True, request=_request("A")))
        s.add(_shipment("shp_b", booked=False, request=_request("B", "DE")))
        s.add(_shipment("shp_c", booked=False, request=None))  # an invalid picking
        s.flush()
        events = [
            _event("shp_a", 3, "out_for_delivery", 40),  # arrives out of order
            _event("shp_a", 0, "info_received", 0.2),
            _event("shp_a", 1, "in_transit", 9),
            _event("shp_a", 2, "exception", 30, None, "Klant niet thuis"),
            _event("shp_a", 4, "delivered", 50),
        ]
        s.add_all(events)
        s.flush()
        exc = events[3]
        summary = {"carrier": "lowlands", "tracking_number": exc.tracking_number,
                   "occurred_at": exc.occurred_at.isoformat(), "raw_code": exc.raw_code,
                   "raw_description": exc.raw_description}
        s.add(SuggestionRow(id="sug_1", kind="exception_triage", dedupe_key="e1",
                            shipment_id="shp_a", state="done",
                            payload={"event": summary, "category": "recipient_unavailable"},
                            model_name="waybill-triage", model_version="3", confidence=0.41))
        s.add(SuggestionRow(id="sug_2", kind="exception_triage", dedupe_key="e2",
                            shipment_id="shp_a", state="dismissed",
                            payload={"event_id": exc.id, "category": "damaged"}))
        s.flush()
        # what app.sync.exceptions.feedback records: the proposal and the person's category
        s.add(FeedbackRow(suggestion_id="sug_1", decision="recategorized", actor="cs:marie",
                          label={"proposed": "other_exception", "confidence": 0.41,
                                 "model_version": "3", "category": "recipient_unavailable",
                                 "confirmed": False}))
        s.add(FeedbackRow(suggestion_id="sug_2", decision="cancelled", actor="cs:marie",
                          label={"proposed": "damaged", "category": "damaged"}))
    return exc.id


def test_export_from_a_small_store_passes_the_contract(sqlite_db: Database, tmp_path: Path
                                                       ) -> None:
    _populate(sqlite_db)
    result = build_history(sqlite_db)
    assert result.report.ok, result.report.errors
    t = result.tables
    assert list(t["shipments"]["shipment_id"]) == ["shp_a", "shp_b"]
    assert result.dropped == {"shipments_without_valid_request": 1,
                              "quotes_of_unbooked_shipments": 3}
    a = t["shipments"].iloc[0]
    assert (a["origin_zone"], a["destination_country"], a["customer_tier"]) == ("NL-NB", "BE",
                                                                                "vip")
    assert a["weight_kg"] == 2.0 and a["length_cm"] == 30.0
    assert a["requested_service_level"] == "standard" and a["n_quotes"] == 3
    q = t["quotes"]
    assert len(q) == 3 and q["chosen"].sum() == 1
    chosen = q.loc[q["chosen"]].iloc[0]
    assert chosen["delivered_on_time"] and chosen["had_exception"]
    assert chosen["exception_category"] == "recipient_unavailable"  # the person's label
    assert q.loc[~q["chosen"], "delivered_on_time"].isna().all()  # never booked: unknown
    e = t["events"]
    assert list(e["seq"]) == [0, 1, 2, 3, 4]
    assert list(e["status"]) == ["info_received", "in_transit", "exception", "out_for_delivery",
                                 "delivered"]
    assert e.loc[2, "label_source"] == "feedback"
    d = t["deliveries"].iloc[0]
    assert d["final_status"] == "delivered" and d["on_time"] and d["transit_hours"] == 41.0
    fb = t["feedback"]
    assert list(fb["decision"]) == ["recategorized", "cancelled"]  # a dismissal is no label
    assert fb.loc[0, "model_version"] == "3"

    out = tmp_path / "export"
    written = export_history(sqlite_db, out, "csv")
    assert written.report.ok
    assert (out / "feedback.csv").exists() and (out / "manifest.json").exists()
    assert validate_tables(read_tables(out), lifecycle="warn").ok


def test_export_of_an_empty_store_is_valid(sqlite_db: Database) -> None:
    result = build_history(sqlite_db)
    assert all(len(df) == 0 for df in result.tables.values())
    assert result.report.ok, result.report.errors

"""``waybill export history``: Waybill's own store as the training-data contract's tables.

Real history replaces the simulator wherever it exists. From the store (``app/store/tables.py``)
this writes the same ``shipments``, ``quotes``, ``events`` and ``deliveries`` tables the
simulator writes, filling what the store knows and leaving the rest null:

* ``shipments`` - one per intent with a valid request (origin and destination country are
  required by the contract); lane, parcel, customs and the booked label. What the intake took
  from Odoo travels in the request (``metadata``: ``warehouse``, ``customer_tier``,
  ``customer_type``, ``service_level``, ``goods_category``, ``order_value``);
* ``quotes`` - every rate offered (``RateRow``) of shipments that were booked, the chosen one
  carrying the realized outcome (unbooked quotes have none: that is what real data knows);
* ``events`` - stored tracking events in time order (``seq``), statuses and categories as
  normalized; the category a person gave or confirmed in the feedback on a triage suggestion
  (``label.category``; the event found by the suggestion's ``event_id`` or its event summary)
  replaces the carrier's and is marked ``label_source = feedback``;
* ``deliveries`` - derived from the events: hand-over, delivery, on-time against the promised
  date, returns, exception count;
* ``feedback`` - every human decision on a suggestion (extra table, not in the contract).

Validation uses the contract with ``lifecycle="warn"``: carrier feeds arrive out of order and
incomplete, so event-sequence findings are reported as warnings, everything else as errors.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.db import Database
from app.models.countries import ISO_COUNTRIES
from app.models.enums import ExceptionCategory, TrackingStatus
from app.store.tables import (
    FeedbackRow,
    RateRow,
    ShipmentRow,
    SuggestionRow,
    TrackingEventRow,
)
from training.schemas import (
    DISTANCE_CLASSES,
    SERVICE_LEVELS,
    TABLES,
    ValidationReport,
    validate_tables,
)

STATUSES = {s.value for s in TrackingStatus}
CATEGORIES = {c.value for c in ExceptionCategory}
FORWARD = {TrackingStatus.IN_TRANSIT.value, TrackingStatus.OUT_FOR_DELIVERY.value,
           TrackingStatus.AVAILABLE_FOR_PICKUP.value, TrackingStatus.DELIVERED.value}


@dataclass
class ExportResult:
    tables: dict[str, pd.DataFrame]
    report: ValidationReport
    dropped: dict[str, int] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {**{k: len(v) for k, v in self.tables.items()}, "dropped": self.dropped,
                "valid": self.report.ok, "errors": len(self.report.errors),
                "warnings": len(self.report.warnings)}


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _float(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def _country(v: Any) -> str | None:
    code = str(v).strip().upper() if v else None
    return code if code in ISO_COUNTRIES else None


def _zone(address: Any) -> str | None:
    country, state = _country(_get(address, "country_code")), _get(address, "state_code")
    return f"{country}-{state}" if country and state else None


def _prefix(address: Any) -> str | None:
    postal = _get(address, "postal_code")
    return str(postal).strip()[:2] or None if postal else None


def _enum(v: Any, allowed: Iterable[str]) -> str | None:
    return v if isinstance(v, str) and v in set(allowed) else None


def _day(v: Any) -> pd.Timestamp | None:
    if v is None or v == "":
        return None
    ts = pd.Timestamp(v)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def _weight_kg(parcel: dict[str, Any]) -> float | None:
    w = _float(parcel.get("weight"))
    unit = parcel.get("weight_unit", "kg")
    factor = {"kg": 1.0, "g": 0.001, "lb": 0.45359237, "oz": 0.028349523125}.get(unit, 1.0)
    return None if w is None else w * factor


def _dims_cm(parcel: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    factor = {"cm": 1.0, "mm": 0.1, "in": 2.54}.get(parcel.get("dimension_unit", "cm"), 1.0)
    dims = [_float(parcel.get(k)) for k in ("length", "width", "height")]
    if any(d is None for d in dims):
        return None, None, None
    out = sorted((d * factor for d in dims if d is not None), reverse=True)
    return out[0], out[1], out[2]


# -- reading the store ---------------------------------------------------------------------------
def _load(db: Database) -> tuple[list[ShipmentRow], list[TrackingEventRow],
                                 list[tuple[FeedbackRow, SuggestionRow]]]:
    with db.session() as s:
        shipments = list(s.scalars(select(ShipmentRow).options(
            selectinload(ShipmentRow.parcels), selectinload(ShipmentRow.rates),
            selectinload(ShipmentRow.labels)).order_by(ShipmentRow.created_at)).all())
        events = list(s.scalars(select(TrackingEventRow).where(
            TrackingEventRow.shipment_id.is_not(None)).order_by(
            TrackingEventRow.shipment_id, TrackingEventRow.occurred_at,
            TrackingEventRow.id)).all())
        feedback = list(s.execute(select(FeedbackRow, SuggestionRow).join(
            SuggestionRow, FeedbackRow.suggestion_id == SuggestionRow.id).order_by(
            FeedbackRow.created_at, FeedbackRow.id)).tuples().all())
    return shipments, events, feedback


# -- building the tables -------------------------------------------------------------------------
def _shipment_record(row: ShipmentRow) -> dict[str, Any] | None:
    req = row.request or {}
    shipper, recipient = req.get("shipper"), req.get("recipient")
    origin = _country(_get(shipper, "country_code"))
    dest = _country(_get(recipient, "country_code"))
    if origin is None or dest is None:
        return None
    meta = req.get("metadata") or {}
    parcels = req.get("parcels") or []
    weights = [w for w in (_weight_kg(p) for p in parcels) if w is not None]
    dims = max((_dims_cm(p) for p in parcels), key=lambda d: d[0] or 0.0,
               default=(None, None, None))
    chosen = next((r for r in row.rates if r.chosen), None)
    declared = req.get("declared_value") or {}
    labels = sorted(row.labels, key=lambda lb: lb.created_at)
    tracking = next((p.tracking_number for p in row.parcels if p.tracking_number), None)
    scores = (chosen.scores or {}) if chosen else {}
    return {
        "shipment_id": row.id,
        "source": "waybill",
        "created_at": row.created_at,
        "booked_at": labels[0].created_at if labels else None,
        "ship_at": None,
        "warehouse": meta.get("warehouse"),
        "origin_country": origin,
        "origin_zone": _zone(shipper),
        "origin_postal_prefix": _prefix(shipper),
        "destination_country": dest,
        "destination_zone": _zone(recipient),
        "destination_postal_prefix": _prefix(recipient),
        "lane_distance_km": _float(meta.get("lane_distance_km")),
        "distance_class": _enum(meta.get("distance_class"), DISTANCE_CLASSES),
        "is_international": origin != dest,
        "needs_customs": req.get("customs") is not None,
        "is_return": bool(req.get("is_return")),
        "weight_kg": sum(weights) if weights else None,
        "length_cm": dims[0], "width_cm": dims[1], "height_cm": dims[2],
        "declared_value": _float(declared.get("amount")),
        "order_value": _float(meta.get("order_value")),
        "currency": row.price_currency or declared.get("currency"),
        "goods_category": meta.get("goods_category"),
        "customer_tier": meta.get("customer_tier"),
        "customer_type": _enum(meta.get("customer_type"), ("b2c", "b2b")),
        "requested_service_level": _enum(meta.get("service_level"), ("standard", "express")),
        "incoterm": _get(req, "customs", "incoterm"),
        "dangerous_goods": meta.get("dangerous_goods"),
        "policy": scores.get("policy"),
        "carrier": row.carrier,
        "carrier_account": row.carrier_account,
        "service": row.service,
        "service_level": _enum(scores.get("service_level"), SERVICE_LEVELS),
        "tracking_number": tracking,
        "price": _float(row.price_amount),
        "promised_transit_days": chosen.transit_days if chosen else None,
        "promised_date": _day(row.promised_date or (chosen.estimated_delivery if chosen
                                                   else None) or req.get("promised_date")),
        "n_quotes": len(row.rates),
    }


def _quote_record(rate: RateRow) -> dict[str, Any]:
    scores = rate.scores or {}
    return {
        "shipment_id": rate.shipment_id,
        "carrier": rate.carrier,
        "carrier_account": rate.carrier_account,
        "service": rate.service,
        "service_level": _enum(scores.get("service_level"), SERVICE_LEVELS),
        "price": float(rate.amount),
        "currency": rate.currency,
        "billable_weight_kg": _float(scores.get("billable_weight_kg")),
        "pickup_date": _day(scores.get("pickup_date")),
        "promised_transit_days": rate.transit_days,
        "promised_date": _day(rate.estimated_delivery),
        "chosen": bool(rate.chosen),
        "propensity": None,
    }


def _event_records(events: list[TrackingEventRow], corrections: dict[int, str]
                   ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seq: dict[str, int] = defaultdict(int)
    for e in events:
        sid = str(e.shipment_id)
        status = e.status if e.status in STATUSES else TrackingStatus.UNKNOWN.value
        category = _enum(e.exception_category, CATEGORIES)
        source = "carrier" if category else None
        if e.id in corrections:
            category, source = corrections[e.id], "feedback"
        loc = e.location or {}
        out.append({
            "shipment_id": sid, "seq": seq[sid], "carrier": e.carrier,
            "tracking_number": e.tracking_number, "occurred_at": e.occurred_at,
            "status": status, "raw_code": e.raw_code, "raw_description": e.raw_description,
            "exception_category": category,
            "location_zone": _zone({"country_code": loc.get("country_code"),
                                    "state_code": loc.get("region")}),
            "location_country": _country(loc.get("country_code")),
            "label_source": source,
        })
        seq[sid] += 1
    return out


def _delivery_record(ship: dict[str, Any], evs: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = [e["status"] for e in evs]
    meaningful = [s for s in statuses if s != TrackingStatus.UNKNOWN.value]
    final = meaningful[-1] if meaningful else TrackingStatus.INFO_RECEIVED.value
    handed = next((e["occurred_at"] for e in evs if e["status"] in FORWARD), None)
    delivered_at = None
    if final == TrackingStatus.DELIVERED.value:
        delivered_at = max(e["occurred_at"] for e in evs
                           if e["status"] == TrackingStatus.DELIVERED.value)
    returned = TrackingStatus.RETURN_TO_SENDER.value in statuses
    if returned:
        final, delivered_at = TrackingStatus.RETURN_TO_SENDER.value, None
    promised = ship.get("promised_date")
    on_time: bool | None = None
    days_late: float | None = None
    if delivered_at is not None and promised is not None:
        day = pd.Timestamp(delivered_at).tz_convert("UTC").tz_localize(None).normalize()
        days_late = float((day - promised).days)
        on_time = days_late <= 0
    elif returned and promised is not None:
        on_time = False
    transit = None
    if delivered_at is not None and handed is not None and delivered_at >= handed:
        transit = (delivered_at - handed).total_seconds() / 3600
    elif delivered_at is not None and handed is not None:
        handed = None  # a hand-over scan after delivery is noise, not a negative transit
    excs = [e for e in evs if e["status"] == TrackingStatus.EXCEPTION.value]
    return {
        "shipment_id": ship["shipment_id"], "carrier": ship["carrier"],
        "handed_over_at": handed, "delivered_at": delivered_at, "transit_hours": transit,
        "promised_date": promised, "on_time": on_time, "days_late": days_late,
        "final_status": final, "returned": returned,
        "returned_at": next((e["occurred_at"] for e in reversed(evs)
                             if e["status"] == TrackingStatus.RETURN_TO_SENDER.value), None),
        "n_exceptions": len(excs),
        "first_exception_category": next((e["exception_category"] for e in excs
                                          if e["exception_category"]), None),
    }


def _typed(name: str, records: list[dict[str, Any]], extra: Iterable[str] = ()) -> pd.DataFrame:
    """A frame with the contract's columns and dtypes for ``name`` (plus ``extra`` columns)."""
    cols = [c.name for c in TABLES[name]] if name in TABLES else []
    names = list(dict.fromkeys([*cols, *extra, *(k for r in records[:1] for k in r)]))
    df = pd.DataFrame.from_records(records, columns=names)
    for spec in TABLES.get(name, ()):
        c = spec.name
        if spec.kind == "timestamp":
            df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
        elif spec.kind == "date":
            df[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
        elif spec.kind == "bool":
            df[c] = df[c].astype("boolean") if spec.nullable else df[c].astype(bool)
        elif spec.kind == "int":
            df[c] = pd.to_numeric(df[c]).astype("Int64" if spec.nullable else "int64")
        elif spec.kind == "float":
            df[c] = pd.to_numeric(df[c]).astype(float)
        else:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
            if df[c].isna().all():
                df[c] = df[c].astype("string")
    return df


def _human_category(decision: str, label: dict[str, Any]) -> str | None:
    """The category a person gave or confirmed; None for a dismissed suggestion."""
    if decision in ("cancelled", "dismissed", "rejected"):
        return None
    return _enum(label.get("exception_category") or label.get("category"), CATEGORIES)


def _event_locator(events: list[TrackingEventRow]) -> Any:
    """Find the stored event a triage suggestion was about: by ``event_id`` in its payload, or
    by the event summary it carries (tracking number, scan time, carrier text)."""
    ids = {e.id for e in events}
    by_summary: dict[tuple[str, str, str], int] = {}
    for e in events:
        stamp = pd.Timestamp(e.occurred_at).tz_convert("UTC").isoformat()
        by_summary[(e.tracking_number, stamp, e.raw_description or "")] = e.id

    def locate(payload: dict[str, Any]) -> int | None:
        event_id = payload.get("event_id")
        if isinstance(event_id, int) and event_id in ids:
            return event_id
        summary = payload.get("event")
        if not isinstance(summary, dict) or not summary.get("occurred_at"):
            return None
        try:
            stamp = pd.Timestamp(summary["occurred_at"])
        except (TypeError, ValueError):
            return None
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        key = (str(summary.get("tracking_number") or ""), stamp.isoformat(),
               str(summary.get("raw_description") or ""))
        return by_summary.get(key)

    return locate


def build_history(db: Database) -> ExportResult:
    shipments, events, feedback = _load(db)
    dropped: dict[str, int] = defaultdict(int)
    corrections: dict[int, str] = {}
    fb_records = []
    locate = _event_locator(events)
    for fb, sug in feedback:
        label = fb.label or {}
        category = _human_category(fb.decision, label)
        event_id = locate(sug.payload or {})
        if category and event_id is not None:
            corrections[event_id] = category
        fb_records.append({
            "feedback_id": fb.id, "suggestion_id": sug.id, "kind": sug.kind,
            "shipment_id": sug.shipment_id, "model_name": sug.model_name,
            "model_version": sug.model_version, "confidence": sug.confidence,
            "suggestion_state": sug.state, "suggested": json.dumps(sug.payload, default=str),
            "decision": fb.decision, "label": json.dumps(label, default=str),
            "actor": fb.actor, "note": fb.note, "decided_at": fb.created_at,
        })

    ship_records: dict[str, dict[str, Any]] = {}
    quote_records: list[dict[str, Any]] = []
    for row in shipments:
        rec = _shipment_record(row)
        if rec is None:
            dropped["shipments_without_valid_request"] += 1
            continue
        ship_records[row.id] = rec
        chosen = [r for r in row.rates if r.chosen]
        if len(chosen) != 1 or row.carrier is None:
            if row.rates:
                dropped["quotes_of_unbooked_shipments"] += len(row.rates)
            continue
        quote_records.extend(_quote_record(r) for r in row.rates)

    events_by_ship: dict[str, list[dict[str, Any]]] = defaultdict(list)
    event_records = [e for e in _event_records(events, corrections)
                     if e["shipment_id"] in ship_records]
    dropped["events_of_unexported_shipments"] = sum(
        1 for e in events if str(e.shipment_id) not in ship_records)
    for e in event_records:
        events_by_ship[e["shipment_id"]].append(e)
    deliveries = [_delivery_record(s, events_by_ship.get(sid, []))
                  for sid, s in ship_records.items() if s["carrier"]]
    by_delivery = {d["shipment_id"]: d for d in deliveries}
    for q in quote_records:
        d = by_delivery.get(q["shipment_id"]) if q["chosen"] else None
        q.update({
            "realized_handed_over_at": d["handed_over_at"] if d else None,
            "realized_delivered_at": d["delivered_at"] if d else None,
            "realized_transit_hours": d["transit_hours"] if d else None,
            "delivered_on_time": d["on_time"] if d else None,
            "had_exception": (d["n_exceptions"] > 0) if d else None,
            "exception_category": d["first_exception_category"] if d else None,
            "realized_final_status": d["final_status"] if d else None,
            "realized_returned": d["returned"] if d else None,
        })
    tables = {
        "shipments": _typed("shipments", list(ship_records.values())),
        "quotes": _typed("quotes", quote_records),
        "events": _typed("events", event_records, extra=("label_source",)),
        "deliveries": _typed("deliveries", deliveries),
    }
    for df in tables.values():
        if "shipment_id" in df:
            df["shipment_id"] = df["shipment_id"].astype(str)
    report = validate_tables(tables, lifecycle="warn")
    tables["feedback"] = pd.DataFrame.from_records(fb_records, columns=[
        "feedback_id", "suggestion_id", "kind", "shipment_id", "model_name", "model_version",
        "confidence", "suggestion_state", "suggested", "decision", "label", "actor", "note",
        "decided_at"])
    tables["feedback"]["decided_at"] = pd.to_datetime(tables["feedback"]["decided_at"],
                                                      utc=True)
    return ExportResult(tables=tables, report=report,
                        dropped={k: v for k, v in dropped.items() if v})


def export_history(db: Database, out_dir: str | Path, fmt: str = "parquet") -> ExportResult:
    """Build, validate and write the tables (``manifest.json`` says where they came from)."""
    from training.simulator.io import write_tables

    result = build_history(db)
    manifest = {"source": "waybill", "exported_at": datetime.now().astimezone().isoformat(
        timespec="seconds"), "database": db.engine.dialect.name,
        "rows": {k: len(v) for k, v in result.tables.items()}, "dropped": result.dropped,
        "valid": result.report.ok, "warnings": result.report.warnings[:20]}
    result.paths = write_tables(result.tables, out_dir, fmt, manifest)  # type: ignore[arg-type]
    return result


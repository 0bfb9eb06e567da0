"""Re-predicting a shipment's delivery time on every status change.

The prediction (p10/p50/p90/p95 and the stage it was made at) is stored as the shipment's
``eta`` suggestion; when its median moves by more than ``move_threshold`` Odoo is told in the
picking's chatter, so customer service sees the new date without asking. The exception
activity quotes the latest prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.core.db import Database
from app.core.ids import new_id
from app.core.logging import get_logger
from app.store.tables import RateRow, ShipmentRow, SuggestionRow, TrackingEventRow
from app.sync.tracking.state import TrackingState
from app.sync.writeback.outbox import queue_picking_message
from app.triage.eta import EtaPrediction, predict_for_shipment

log = get_logger(__name__)
KIND = "eta"
DEFAULT_MOVE = timedelta(hours=12)


def shipment_features(row: ShipmentRow) -> dict[str, Any]:
    """Waybill's shipment in the training contract's vocabulary (what the model reads)."""
    request = row.request or {}
    shipper, recipient = request.get("shipper") or {}, request.get("recipient") or {}
    weight = sum(float(p.weight_kg) for p in row.parcels) if row.parcels else None
    return {
        "shipment_id": row.id,
        "carrier": row.carrier,
        "carrier_account": row.carrier_account,
        "service": row.service,
        "origin_country": shipper.get("country_code"),
        "destination_country": recipient.get("country_code"),
        "origin_zone": shipper.get("country_code"),
        "destination_zone": recipient.get("country_code"),
        "is_international": shipper.get("country_code") != recipient.get("country_code"),
        "weight_kg": weight,
        "price": float(row.price_amount) if row.price_amount else None,
        "created_at": row.created_at,
        "booked_at": row.created_at,
        "ship_at": row.created_at,
        "promised_date": row.promised_date.date().isoformat() if row.promised_date else None,
        "is_return": bool(request.get("is_return")),
    }


class EtaTracker:
    def __init__(
        self,
        *,
        db: Database,
        model: Callable[[], Any] = lambda: None,
        move_threshold: timedelta = DEFAULT_MOVE,
        on_writes_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.model = model
        self.move_threshold = move_threshold
        self.on_writes_queued = on_writes_queued

    def on_status_change(
        self, shipment_id: str, state: TrackingState, event: Mapping[str, Any]
    ) -> None:
        self.update(shipment_id)

    def predict(self, shipment_id: str) -> EtaPrediction | None:
        model = self.model()  # never inside a unit of work: loading may read the registry
        with self.db.session() as session:
            inputs = _inputs(session, shipment_id)
            return None if inputs is None else self._predict(session, shipment_id, inputs, model)

    def _predict(
        self, session: Session, shipment_id: str, inputs: _Inputs, model: Any
    ) -> EtaPrediction:
        try:
            return predict_for_shipment(inputs.features, inputs.events, model=model)
        except (ValueError, KeyError, TypeError) as exc:  # a lane the model cannot place
            log.info("eta_model_fallback", shipment_id=shipment_id, error=type(exc).__name__)
        # The chosen rate's promise: only read when the model cannot answer.
        promised_days = session.scalars(
            select(RateRow.transit_days).where(
                RateRow.shipment_id == shipment_id, RateRow.chosen.is_(True)
            )
        ).first()
        return promise_eta(inputs.features["ship_at"], promised_days, inputs.events)

    def update(self, shipment_id: str) -> EtaPrediction | None:
        """Predict, store, and tell Odoo when the median moved enough: one unit of work that
        reads the shipment, its parcels, events and stored estimate, then writes."""
        queued = False
        try:
            model = self.model()  # outside the unit of work, as in predict()
        except Exception as exc:  # a prediction must never break tracking
            log.warning("eta_prediction_failed", shipment_id=shipment_id, error=type(exc).__name__)
            return None
        with self.db.session() as session:
            try:
                inputs = _inputs(session, shipment_id)
                prediction = (
                    None if inputs is None else self._predict(session, shipment_id, inputs, model)
                )
            except Exception as exc:  # a prediction must never break tracking
                session.rollback()
                log.warning(
                    "eta_prediction_failed", shipment_id=shipment_id, error=type(exc).__name__
                )
                return None
            if prediction is None or inputs is None:
                return None
            row = session.scalars(
                select(SuggestionRow).where(
                    SuggestionRow.kind == KIND, SuggestionRow.dedupe_key == shipment_id
                )
            ).first()
            previous = datetime.fromisoformat(row.payload["p50"]) if row is not None else None
            payload = {q: getattr(prediction, q).isoformat() for q in ("p10", "p50", "p90", "p95")}
            payload["stage"] = prediction.stage
            if row is None:
                row = SuggestionRow(
                    id=new_id("eta"),
                    kind=KIND,
                    dedupe_key=shipment_id,
                    shipment_id=shipment_id,
                    state="open",
                )
                session.add(row)
            history = list((row.payload or {}).get("history", []))[-19:]
            row.payload = {**payload, "history": [*history, payload]}
            row.model_name, row.model_version = "waybill-eta", prediction.model_version
            moved = previous is not None and abs(prediction.p50 - previous) > self.move_threshold
            if moved and inputs.picking_id is not None:
                ref = f"{shipment_id}:eta:{prediction.p50.isoformat()}"
                queue_picking_message(
                    session, inputs.picking_id, ref, eta_html(prediction, previous)
                )
                queued = True
        if queued and self.on_writes_queued is not None:
            self.on_writes_queued()
        return prediction


@dataclass(frozen=True)
class _Inputs:
    features: dict[str, Any]
    events: list[dict[str, Any]]
    picking_id: int | None


def _inputs(session: Session, shipment_id: str) -> _Inputs | None:
    """The shipment (with its parcels) and its events: three reads."""
    row = session.get(ShipmentRow, shipment_id, options=[selectinload(ShipmentRow.parcels)])
    if row is None:
        return None
    events = [
        {"occurred_at": occurred_at, "status": status, "exception_category": category}
        for occurred_at, status, category in session.execute(
            select(
                TrackingEventRow.occurred_at,
                TrackingEventRow.status,
                TrackingEventRow.exception_category,
            ).where(TrackingEventRow.shipment_id == shipment_id)
        )
    ]
    return _Inputs(shipment_features(row), events, row.odoo_picking_id)


EXCEPTION_DELAY = timedelta(days=2)  # what one exception typically costs


def promise_eta(
    ship_at: datetime, transit_days: int | None, events: list[dict[str, Any]]
) -> EtaPrediction:
    """The carrier's promise, pushed back by each exception so far: the safe fallback."""
    days = transit_days if transit_days is not None else 3
    delay = EXCEPTION_DELAY * sum(1 for e in events if e["status"] == "exception")
    p50 = ship_at + timedelta(days=days) + delay
    stage = "first_scan" if events else "booking"
    return EtaPrediction(
        p50 - timedelta(days=1),
        p50,
        p50 + timedelta(days=2),
        p50 + timedelta(days=3),
        stage,
        "promise-baseline",
    )


def eta_html(prediction: EtaPrediction, previous: datetime | None) -> str:
    dates = prediction.local_dates()
    was = f" (was {previous.date().isoformat()})" if previous else ""
    return (
        f"<p><b>New delivery estimate: {escape(dates['p50'].isoformat())}</b>{escape(was)}"
        f"</p><p>80 % likely between {escape(dates['p10'].isoformat())} and "
        f"{escape(dates['p90'].isoformat())}; {escape(prediction.stage)} estimate, model "
        f"{escape(prediction.model_version)}.</p>"
    )


def latest_eta(db: Database, shipment_id: str) -> dict[str, Any] | None:
    with db.session() as session:
        row = session.scalars(
            select(SuggestionRow).where(
                SuggestionRow.kind == KIND, SuggestionRow.dedupe_key == shipment_id
            )
        ).first()
        if row is None:
            return None
        payload = dict(row.payload or {})
        payload.pop("history", None)
        return {**payload, "model_version": row.model_version, "updated_at": row.updated_at}

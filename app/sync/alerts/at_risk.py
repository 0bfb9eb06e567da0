"""Shipments at risk of missing their promise: one proactive activity for customer service.

After a shipment's status changes, and on a schedule for shipments that went quiet, the ETA
prediction (quantiles as of the latest scan) is turned into the probability of delivering after
the promised day, conditioned on "not delivered yet" (``risk.py``). Above ``threshold`` - chosen
on history from the precision/recall curve (``waybill alerts evaluate at-risk``) - the order
gets one To-Do for customer service: predicted new date, the signals behind it, a suggested
message to the customer and the case summary. One open activity per shipment: later checks
refresh it when the picture changes; when the shipment is delivered (or returned, cancelled) or
its risk falls well below the threshold, Waybill marks the activity done itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.core.db import Database
from app.core.ids import new_id
from app.core.logging import get_logger
from app.models import TrackingStatus
from app.store.tables import ShipmentRow, SuggestionRow, TrackingEventRow
from app.sync.alerts.metrics import AT_RISK_OPEN, AT_RISK_TRANSITIONS
from app.sync.alerts.risk import conditional_quantile, hours, miss_probability, promise_deadline
from app.sync.alerts.summary import case_summary_html
from app.sync.tracking.state import TrackingState
from app.sync.writeback.outbox import (
    KIND_ACTIVITY_DONE,
    enqueue_write,
    picking_aggregate,
    queue_suggestion_activity,
)
from app.triage.eta import EtaPrediction

log = get_logger(__name__)

KIND = "at_risk"
TEAM = "customer service"
ACTIVITY_TYPE = "mail.mail_activity_data_todo"
# Chosen on the simulator's threshold period by `waybill alerts evaluate at-risk` (max F1 on
# the precision/recall curve; README "Predictive alerting"), per predictor: the promise
# baseline that serves without a registered ETA model, and a trained model.
# WAYBILL_AT_RISK_THRESHOLD overrides both.
DEFAULT_THRESHOLDS = {"baseline": 0.86, "model": 0.69}


def default_threshold(model_version: str) -> float:
    return DEFAULT_THRESHOLDS["baseline" if "baseline" in model_version else "model"]


RECOVER_MARGIN = 0.15  # close on recovery only well below the threshold: no flapping
REFRESH_STEP = 0.10  # refresh the activity when the probability moved this much
ENDED = frozenset({"delivered", "return_to_sender", "cancelled"})
IN_FLIGHT_STATES = ("booked", "written_back")


@dataclass(frozen=True)
class Assessment:
    shipment_id: str
    probability: float
    promised: date
    deadline: datetime
    now: datetime
    predicted: date
    threshold: float
    signals: list[str] = field(default_factory=list)

    @property
    def at_risk(self) -> bool:
        return self.probability >= self.threshold

    def as_payload(self) -> dict[str, Any]:
        return {
            "probability": round(self.probability, 4),
            "promised": self.promised.isoformat(),
            "deadline": self.deadline.isoformat(),
            "assessed_at": self.now.isoformat(),
            "predicted_date": self.predicted.isoformat(),
            "threshold": self.threshold,
            "signals": self.signals,
        }


def promise_of(row: ShipmentRow) -> date | None:
    """The customer's promised day, else the booked carrier's estimate."""
    if row.promised_date is not None:
        return row.promised_date.date()
    chosen = next((r for r in row.rates if r.chosen), None)
    if chosen is not None and chosen.estimated_delivery is not None:
        return chosen.estimated_delivery.date()
    if chosen is not None and chosen.transit_days is not None:
        return (row.created_at + timedelta(days=chosen.transit_days)).date()
    return None


class AtRiskMonitor:
    def __init__(
        self,
        *,
        db: Database,
        predict: Callable[[str], EtaPrediction | None],
        threshold: float | None = None,
        team_users: Mapping[str, int] | None = None,
        advisories: Callable[[Session, ShipmentRow], list[str]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_writes_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.predict = predict
        self.threshold = threshold
        self.team_users = dict(team_users or {})
        self.advisories = advisories
        self.clock = clock
        self.on_writes_queued = on_writes_queued

    # -- triggers -------------------------------------------------------------------------------
    def on_status_change(
        self, shipment_id: str, state: TrackingState, event: Mapping[str, Any]
    ) -> None:
        if state.status.value in ENDED:
            self.close(shipment_id, reason=state.status.value)
        else:
            self.check(shipment_id)

    def sweep(self, *, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
        """The schedule: re-check in-flight shipments, the longest-silent first, and close what
        ended without us hearing (a missed event)."""
        now = now or self.clock()
        with self.db.session() as session:
            ended = session.scalars(
                select(SuggestionRow.shipment_id)
                .join(ShipmentRow, ShipmentRow.id == SuggestionRow.shipment_id)
                .where(
                    SuggestionRow.kind == KIND,
                    SuggestionRow.state == "open",
                    or_(
                        ShipmentRow.tracking_status.in_(ENDED),
                        ShipmentRow.state == "cancelled",
                    ),
                )
            ).all()
            candidates = session.scalars(
                select(ShipmentRow.id)
                .where(
                    ShipmentRow.state.in_(IN_FLIGHT_STATES),
                    or_(
                        ShipmentRow.tracking_status.is_(None),
                        ShipmentRow.tracking_status.not_in(ENDED),
                    ),
                )
                .order_by(func.coalesce(ShipmentRow.tracking_status_at, ShipmentRow.created_at))
                .limit(limit)
            ).all()
        closed = sum(self.close(sid, reason="ended", now=now) for sid in ended if sid)
        flagged = 0
        for shipment_id in candidates:
            assessment = self.check(shipment_id, now=now)
            flagged += bool(assessment and assessment.at_risk)
        with self.db.session() as session:
            AT_RISK_OPEN.set(
                session.scalar(
                    select(func.count())
                    .select_from(SuggestionRow)
                    .where(SuggestionRow.kind == KIND, SuggestionRow.state == "open")
                )
                or 0
            )
        return {"checked": len(candidates), "at_risk": flagged, "closed": closed}

    # -- assessing ------------------------------------------------------------------------------
    def assess(self, shipment_id: str, *, now: datetime | None = None) -> Assessment | None:
        """The probability of missing the promise now, with the signals behind it."""
        now = now or self.clock()
        with self.db.session() as session:
            row = session.get(ShipmentRow, shipment_id)
            if row is None or (row.tracking_status or "") in ENDED:
                return None
            promised = promise_of(row)
            if promised is None:
                return None
            events = session.scalars(
                select(TrackingEventRow)
                .where(TrackingEventRow.shipment_id == shipment_id)
                .order_by(TrackingEventRow.occurred_at)
            ).all()
            extra = self.advisories(session, row) if self.advisories else []
            facts = [(e.status, e.exception_category, e.occurred_at) for e in events]
        prediction = self.predict(shipment_id)
        if prediction is None or prediction.stage == "delivered":
            return None
        deadline = promise_deadline(promised, prediction.timezone)
        quantiles = [hours(getattr(prediction, q), now) for q in ("p10", "p50", "p90", "p95")]
        probability = float(miss_probability([quantiles], hours(deadline, now), 0.0)[0])
        median_h = conditional_quantile(quantiles, 0.0, 0.5)
        predicted = (
            pd.Timestamp(now + timedelta(hours=median_h)).tz_convert(prediction.timezone).date()
        )
        signals = _signals(facts, prediction, deadline, promised, now) + extra
        threshold = (
            self.threshold
            if self.threshold is not None
            else default_threshold(prediction.model_version)
        )
        return Assessment(
            shipment_id, probability, promised, deadline, now, predicted, threshold, signals
        )

    def check(self, shipment_id: str, *, now: datetime | None = None) -> Assessment | None:
        """Assess and act: open or refresh the activity above the threshold, close it on a
        clear recovery. Never raises into tracking."""
        try:
            assessment = self.assess(shipment_id, now=now)
        except Exception as exc:  # a risk estimate must never break tracking
            log.warning("at_risk_failed", shipment_id=shipment_id, error=type(exc).__name__)
            return None
        if assessment is None:
            return None
        if assessment.at_risk:
            self._raise(assessment)
        elif assessment.probability < assessment.threshold - RECOVER_MARGIN:
            self.close(shipment_id, reason="recovered", now=assessment.now)
        return assessment

    # -- acting ---------------------------------------------------------------------------------
    def _raise(self, a: Assessment) -> None:
        queued = False
        with self.db.session() as session:
            shipment = session.get(ShipmentRow, a.shipment_id)
            if shipment is None:
                return
            row = _open_row(session, a.shipment_id)
            is_new = row is None
            previous = dict(row.payload or {}) if row is not None else {}
            if row is None:
                _retire_closed(session, a.shipment_id)
                row = SuggestionRow(
                    id=new_id("risk"),
                    kind=KIND,
                    dedupe_key=a.shipment_id,
                    shipment_id=a.shipment_id,
                    state="open",
                )
                session.add(row)
            row.payload = {
                **a.as_payload(),
                "headline": f"may miss {a.promised.isoformat()}",
                "message": customer_message(shipment, a),
            }
            row.model_name, row.confidence = "waybill-at-risk", a.probability
            session.flush()
            moved = not is_new and (
                abs(float(previous.get("probability", 0.0)) - a.probability) >= REFRESH_STEP
                or previous.get("predicted_date") != a.predicted.isoformat()
            )
            if shipment.odoo_picking_id is not None and (is_new or moved):
                queued = self._queue_activity(session, row, shipment, a, update=not is_new)
            AT_RISK_TRANSITIONS.labels("opened" if is_new else "updated").inc()
        if is_new:
            log.info("shipment_at_risk", shipment_id=a.shipment_id, probability=a.probability)
        if queued and self.on_writes_queued is not None:
            self.on_writes_queued()

    def _queue_activity(
        self,
        session: Session,
        row: SuggestionRow,
        shipment: ShipmentRow,
        a: Assessment,
        *,
        update: bool,
    ) -> bool:
        return queue_suggestion_activity(
            session,
            picking_id=int(shipment.odoo_picking_id or 0),
            suggestion_id=row.id,
            activity_id=row.odoo_activity_id,
            update=update,
            moment=a.now,
            fields={
                "summary": f"At risk: may miss {a.promised.isoformat()} ({a.probability:.0%})"[
                    :120
                ],
                "note_html": activity_note(session, shipment, a),
                "date_deadline": a.now.date().isoformat(),
            },
            on_create={"activity_type_xmlid": ACTIVITY_TYPE, "user_id": self.team_users.get(TEAM)},
        )

    def close(self, shipment_id: str, *, reason: str, now: datetime | None = None) -> bool:
        """Resolve the open at-risk suggestion and mark its Odoo activity done."""
        now = now or self.clock()
        queued = False
        with self.db.session() as session:
            row = _open_row(session, shipment_id)
            if row is None:
                return False
            shipment = session.get(ShipmentRow, shipment_id)
            row.state = "resolved"
            row.payload = {
                **(row.payload or {}),
                "closed_reason": reason,
                "closed_at": now.isoformat(),
            }
            if shipment is not None and shipment.odoo_picking_id is not None:
                enqueue_write(
                    session,
                    aggregate=picking_aggregate(shipment.odoo_picking_id),
                    kind=KIND_ACTIVITY_DONE,
                    dedupe_key=f"{row.id}:done",
                    payload={
                        "model": "stock.picking",
                        "res_id": shipment.odoo_picking_id,
                        "ref": row.id,
                        "suggestion_id": row.id,
                        "activity_id": row.odoo_activity_id,
                        "feedback": CLOSING_FEEDBACK.get(reason, f"Closed by Waybill: {reason}"),
                    },
                )
                queued = True
        AT_RISK_TRANSITIONS.labels(f"closed_{reason}").inc()
        log.info("at_risk_closed", shipment_id=shipment_id, reason=reason)
        if queued and self.on_writes_queued is not None:
            self.on_writes_queued()
        return True


CLOSING_FEEDBACK = {
    "delivered": "Closed by Waybill: the shipment was delivered.",
    "recovered": "Closed by Waybill: the shipment is back on track for its promised date.",
    "return_to_sender": "Closed by Waybill: the shipment is being returned (see its exception).",
    "cancelled": "Closed by Waybill: the shipment was cancelled.",
    "ended": "Closed by Waybill: the shipment's journey ended.",
}


def _open_row(session: Session, shipment_id: str) -> SuggestionRow | None:
    return session.scalars(
        select(SuggestionRow).where(
            SuggestionRow.kind == KIND,
            SuggestionRow.dedupe_key == shipment_id,
            SuggestionRow.state == "open",
        )
    ).first()


def _retire_closed(session: Session, shipment_id: str) -> None:
    """A new episode after a closed one: the old row keeps its history under another key."""
    old = session.scalars(
        select(SuggestionRow).where(
            SuggestionRow.kind == KIND, SuggestionRow.dedupe_key == shipment_id
        )
    ).first()
    if old is not None:
        old.dedupe_key = f"{shipment_id}:{old.id}"
        session.flush()


def _signals(
    facts: list[tuple[str, str | None, datetime]],
    prediction: EtaPrediction,
    deadline: datetime,
    promised: date,
    now: datetime,
) -> list[str]:
    out = []
    exceptions = [c or "unclassified" for s, c, _ in facts if s == TrackingStatus.EXCEPTION.value]
    if exceptions:
        out.append(f"{len(exceptions)} exception scan(s): {', '.join(sorted(set(exceptions)))}")
    scans = [t for s, _, t in facts if s != TrackingStatus.INFO_RECEIVED.value]
    if not scans:
        out.append("no carrier scan yet")
    last = max((t for _, _, t in facts), default=None)
    if last is not None:
        silent = (now - last).total_seconds() / 3600.0
        if silent >= 24:
            out.append(f"no carrier scan for {silent:.0f} h")
    if prediction.p50 > deadline:
        out.append(
            f"estimated delivery {prediction.local_dates()['p50'].isoformat()} is after the "
            f"promised {promised.isoformat()}"
        )
    if now >= deadline:
        out.append(f"the promised day {promised.isoformat()} has passed")
    out.append(f"{prediction.stage.replace('_', ' ')} estimate, model {prediction.model_version}")
    return out


def customer_message(shipment: ShipmentRow, a: Assessment) -> str:
    """A suggested message the agent may send as it is or adapt."""
    promised = promise_of(shipment)
    instead = f" instead of {promised.strftime('%d %B')}" if promised else ""
    return (
        f"Hello, a quick update on your order {shipment.reference}: it is taking longer than "
        f"planned with {shipment.carrier or 'the carrier'}. We now expect delivery around "
        f"{a.predicted.strftime('%d %B')}{instead}. We are following it closely and will let "
        f"you know as soon as it moves. We are sorry for the wait."
    )


def activity_note(session: Session, shipment: ShipmentRow, a: Assessment) -> str:
    why = "".join(f"<li>{escape(s)}</li>" for s in a.signals)
    return (
        f"<p><b>{a.probability:.0%} likely to miss the promised day "
        f"({escape(a.promised.isoformat())})</b> — predicted delivery "
        f"{escape(a.predicted.isoformat())}.</p>"
        f"<p>Why:</p><ul>{why}</ul>"
        f"<p>Suggested message to the customer:</p><blockquote>"
        f"{escape(customer_message(shipment, a))}</blockquote>"
        + case_summary_html(session, shipment, now=a.now)
    )

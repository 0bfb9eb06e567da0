"""Carrier, service and lane degradation alerts from Waybill's own tracking history.

On each run (hourly) the detector replays the last ``window_days`` of complete UTC days from
the store (``series.daily_series`` + ``baseline``) and reconciles its verdict for the latest
day with the ``alerts`` table: a new episode opens an alert (metric, ops log line at error
level for on-call), a continuing one refreshes it, a recovered one is resolved by the
detector. People acknowledge or resolve through the API or the CLI (``states``). Active
carrier and service alerts advise the booking policy to ask the dispatcher instead of booking
the degraded carrier, with the reason in the explanation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.db import Database
from app.core.errors import Conflict, NotFound
from app.core.ids import new_id
from app.core.logging import get_logger
from app.models import Rate, ShipmentRequest
from app.store.tables import AlertRow, ShipmentRow, TrackingEventRow
from app.sync.alerts.baseline import BaselineConfig
from app.sync.alerts.metrics import ANOMALY_ALERTS_ACTIVE, ANOMALY_ALERTS_OPENED
from app.sync.alerts.series import busy_countries, daily_series, detect
from app.sync.alerts.states import ACTIVE, STATES, InvalidTransition, transition

log = get_logger(__name__)

METRIC_WORDS = {
    "transit_hours": ("transit time", "h"),
    "exception_rate": ("exception rate", "%"),
    "silent_share": ("parcels without a scan for 48 h", "%"),
}
BLOCKING_SCOPES = ("carrier", "service")  # a lane alert is news, not a reason to re-route


def describe(metric: str, value: float | None, expected: float | None) -> str:
    """``transit time 71 h vs usual 23 h`` - what the ops alert and the dispatcher read."""
    words, unit = METRIC_WORDS.get(metric, (metric, ""))
    if value is None or expected is None:
        return words
    if unit == "%":
        return f"{words} {value:.0%} vs usual {expected:.0%}"
    return f"{words} {value:.0f} {unit} vs usual {expected:.0f} {unit}"


@dataclass(frozen=True)
class RunReport:
    day: date | None
    series: int
    opened: int
    updated: int
    resolved: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat() if self.day else None,
            "series": self.series,
            "opened": self.opened,
            "updated": self.updated,
            "resolved": self.resolved,
        }


class AnomalyMonitor:
    def __init__(
        self,
        *,
        db: Database,
        config: BaselineConfig | None = None,
        window_days: int = 84,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.config = config or BaselineConfig()
        self.window_days = window_days
        self.clock = clock

    def history(self, since: datetime, until: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Shipments (scope columns) and their events in the window, from the store."""
        with self.db.session() as session:
            events = session.execute(
                select(
                    TrackingEventRow.shipment_id,
                    TrackingEventRow.occurred_at,
                    TrackingEventRow.status,
                ).where(
                    TrackingEventRow.shipment_id.is_not(None),
                    TrackingEventRow.occurred_at >= since - timedelta(days=30),
                    TrackingEventRow.occurred_at < until,
                )
            ).all()
            ids = {e.shipment_id for e in events}
            ships = (
                session.execute(
                    select(
                        ShipmentRow.id,
                        ShipmentRow.carrier,
                        ShipmentRow.service,
                        ShipmentRow.request,
                    ).where(ShipmentRow.id.in_(ids))
                ).all()
                if ids
                else []
            )
        shipments = pd.DataFrame(
            [
                {
                    "shipment_id": s.id,
                    "carrier": s.carrier,
                    "service": s.service,
                    "origin_zone": ((s.request or {}).get("shipper") or {}).get("country_code"),
                    "destination_zone": ((s.request or {}).get("recipient") or {}).get(
                        "country_code"
                    ),
                }
                for s in ships
            ],
            columns=["shipment_id", "carrier", "service", "origin_zone", "destination_zone"],
        )
        frame = pd.DataFrame(events, columns=["shipment_id", "occurred_at", "status"])
        return shipments, frame

    def run(self, *, now: datetime | None = None) -> RunReport:
        """Detect over complete days up to yesterday and reconcile the alerts table."""
        now = now or self.clock()
        today = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
        since = today - timedelta(days=self.window_days)
        shipments, events = self.history(since, today)
        if shipments.empty or events.empty:
            return RunReport(None, 0, 0, 0, 0)
        series = daily_series(shipments, events, until=pd.Timestamp(today))
        series = series.loc[pd.to_datetime(series["day"]) >= pd.Timestamp(since.date())]
        verdicts = detect(series, self.config, busy_countries(shipments))
        if verdicts.empty:
            return RunReport(None, 0, 0, 0, 0)
        latest = verdicts.sort_values("day").groupby(["scope", "key", "metric"]).tail(1)
        last_day = (today - timedelta(days=1)).date()
        opened = updated = resolved = 0
        with self.db.session() as session:
            for v in latest.itertuples(index=False):
                active = bool(v.active) and v.day >= last_day - timedelta(days=1)
                outcome = self._reconcile(session, v, active, now)
                opened += outcome == "opened"
                updated += outcome == "updated"
                resolved += outcome == "resolved"
        self.refresh_gauges()
        return RunReport(last_day, len(latest), opened, updated, resolved)

    def _reconcile(self, session: Session, v: Any, active: bool, now: datetime) -> str | None:
        rows = session.scalars(
            select(AlertRow).where(
                AlertRow.scope == v.scope,
                AlertRow.key == v.key,
                AlertRow.metric == v.metric,
                AlertRow.state.in_(ACTIVE),
            )
        ).all()
        if not active:
            for row in rows:
                _apply(row, "resolve", actor="detector", now=now, resolution="recovered")
            return "resolved" if rows else None
        started = datetime.combine(v.started, time(0), tzinfo=UTC)
        key = f"{v.scope}|{v.key}|{v.metric}|{v.started.isoformat()}"
        row = session.scalars(select(AlertRow).where(AlertRow.dedupe_key == key)).first()
        z = float(v.z) if v.z is not None and pd.notna(v.z) else None
        expected = float(v.expected) if pd.notna(v.expected) else None
        details = {
            "day": v.day.isoformat(),
            "count": int(v.count),
            "description": describe(v.metric, float(v.value), expected),
        }
        if row is None:
            row = AlertRow(
                id=new_id("alr"),
                dedupe_key=key,
                scope=v.scope,
                key=v.key,
                metric=v.metric,
                state="open",
                started_at=started,
                last_seen_at=now,
                value=float(v.value),
                expected=expected,
                score=z,
                peak_score=z,
                details=details,
            )
            session.add(row)
            ANOMALY_ALERTS_OPENED.labels(v.scope, v.metric).inc()
            log.error(  # the ops alert: on-call's log pipeline pages on this event
                "anomaly_alert_opened",
                alert_id=row.id,
                scope=v.scope,
                key=v.key,
                metric=v.metric,
                description=details["description"],
                score=z,
            )
            return "opened"
        if row.state == "resolved":
            return None  # a person closed this episode; the next one opens anew
        row.last_seen_at, row.value, row.expected, row.score = now, float(v.value), expected, z
        row.peak_score = max(row.peak_score or 0.0, z or 0.0)
        row.details = details
        return "updated"

    def refresh_gauges(self) -> None:
        with self.db.session() as session:
            counts = session.execute(
                select(AlertRow.scope, AlertRow.metric, AlertRow.state, func.count())
                .where(AlertRow.state.in_(ACTIVE))
                .group_by(AlertRow.scope, AlertRow.metric, AlertRow.state)
            ).all()
        ANOMALY_ALERTS_ACTIVE.clear()
        for scope, metric, state, n in counts:
            ANOMALY_ALERTS_ACTIVE.labels(scope, metric, state).set(n)


def _apply(
    row: AlertRow, action: str, *, actor: str, now: datetime, resolution: str = "manual"
) -> bool:
    new = transition(row.state, action)
    if new == row.state:
        return False
    row.state = new
    if new == "acknowledged":
        row.acknowledged_at, row.acknowledged_by = now, actor
    elif new == "resolved":
        row.resolved_at, row.resolved_by, row.resolution = now, actor, resolution
    return True


def act(db: Database, alert_id: str, action: str, *, actor: str) -> dict[str, Any]:
    """A person acknowledges or resolves an alert (idempotent; refused after resolved)."""
    with db.session() as session:
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise NotFound(f"no alert {alert_id!r}", code="alert_not_found")
        try:
            _apply(row, action, actor=actor, now=datetime.now(UTC))
        except InvalidTransition as exc:
            raise Conflict(str(exc), code="alert_state", details={"state": row.state}) from exc
        session.flush()
        body = alert_view(row)
    AnomalyMonitor(db=db).refresh_gauges()
    return body


def alert_view(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": "anomaly",
        "scope": row.scope,
        "key": row.key,
        "metric": row.metric,
        "state": row.state,
        "started_at": row.started_at,
        "last_seen_at": row.last_seen_at,
        "value": row.value,
        "expected": row.expected,
        "score": row.score,
        "peak_score": row.peak_score,
        "description": (row.details or {}).get("description"),
        "acknowledged_at": row.acknowledged_at,
        "acknowledged_by": row.acknowledged_by,
        "resolved_at": row.resolved_at,
        "resolved_by": row.resolved_by,
        "resolution": row.resolution,
    }


def list_alerts(
    db: Database, *, state: str | None = None, scope: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    if state is not None and state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    with db.session() as session:
        query = select(AlertRow).order_by(AlertRow.started_at.desc(), AlertRow.id).limit(limit)
        if state is not None:
            query = query.where(AlertRow.state == state)
        if scope is not None:
            query = query.where(AlertRow.scope == scope)
        return [alert_view(r) for r in session.scalars(query)]


def degradation_notes(
    session: Session,
    *,
    carrier: str | None,
    service: str | None,
    origin: str | None,
    destination: str | None,
    scopes: tuple[str, ...] = ("carrier", "service", "lane"),
) -> list[str]:
    """Active alerts touching a carrier, its service or the lane, as sentences."""
    wanted = {
        "carrier": carrier,
        "service": f"{carrier}:{service}" if carrier and service else None,
        "lane": f"{origin}:{destination}" if origin and destination else None,
    }
    notes = []
    for scope in scopes:
        key = wanted.get(scope)
        if not key:
            continue
        rows = session.scalars(
            select(AlertRow)
            .where(AlertRow.scope == scope, AlertRow.key == key, AlertRow.state.in_(ACTIVE))
            .order_by(AlertRow.started_at)
        ).all()
        for r in rows:
            notes.append(
                f"{scope} {key} degraded since {r.started_at.date().isoformat()}: "
                f"{describe(r.metric, r.value, r.expected)} (alert {r.id})"
            )
    return notes


def shipment_advisories(session: Session, shipment: ShipmentRow) -> list[str]:
    """For an at-risk activity: what the network around this shipment is doing."""
    request = shipment.request or {}
    return degradation_notes(
        session,
        carrier=shipment.carrier,
        service=shipment.service,
        origin=(request.get("shipper") or {}).get("country_code"),
        destination=(request.get("recipient") or {}).get("country_code"),
    )


def booking_advisor(db: Database) -> Callable[[ShipmentRequest, Rate], list[str]]:
    """For the booking policy: reasons to ask the dispatcher before booking ``rate``."""

    def advise(request: ShipmentRequest, rate: Rate) -> list[str]:
        try:
            with db.session() as session:
                return degradation_notes(
                    session,
                    carrier=rate.carrier,
                    service=rate.service,
                    origin=request.shipper.country_code,
                    destination=request.recipient.country_code,
                    scopes=BLOCKING_SCOPES,
                )
        except Exception as exc:  # advice must never block a booking
            log.warning("degradation_advice_failed", error=type(exc).__name__)
            return []

    return advise

"""A shipment's case summary: the short, factual timeline an agent reads instead of five screens.

Lines, oldest first: booking and promise; carrier milestones (the first scan of each status);
every exception with its words; how the delivery estimate moved; what Waybill and people already
did (activities raised, their outcome). Only stored facts, no model guesses beyond the ETA that
was actually shown. Used by exception activities and at-risk activities alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.tables import FeedbackRow, ShipmentRow, SuggestionRow, TrackingEventRow

MAX_EXCEPTIONS = 5
MAX_ETA_MOVES = 4
KIND_NAMES = {"triage": "exception activity", "at_risk": "at-risk activity", "approval": "approval"}


@dataclass(frozen=True)
class TimelineLine:
    at: datetime | None
    text: str


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%d %b %H:%M") if at else "—"


def _day(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%d %b")
    except ValueError:
        return iso[:10]


def case_timeline(
    session: Session, shipment: ShipmentRow, *, now: datetime | None = None
) -> list[TimelineLine]:
    """The timeline of one shipment (see module doc), oldest first."""
    lines: list[TimelineLine] = []
    numbers = ", ".join(p.tracking_number or "" for p in shipment.parcels) or "no tracking yet"
    promise = (
        f"; promised {shipment.promised_date.date().isoformat()}" if shipment.promised_date else ""
    )
    lines.append(
        TimelineLine(
            shipment.created_at,
            f"Booked with {shipment.carrier or '?'} {shipment.service or ''}".rstrip()
            + f" ({numbers}){promise}",
        )
    )
    events = session.scalars(
        select(TrackingEventRow)
        .where(TrackingEventRow.shipment_id == shipment.id)
        .order_by(TrackingEventRow.occurred_at, TrackingEventRow.id)
    ).all()
    seen: set[str] = set()
    exceptions = 0
    for e in events:
        where = _place(e.location)
        if e.status == "exception":
            exceptions += 1
            if exceptions <= MAX_EXCEPTIONS:
                category = f" [{e.exception_category}]" if e.exception_category else ""
                lines.append(
                    TimelineLine(e.occurred_at, f"Exception{category}: {e.raw_description}{where}")
                )
        elif e.status not in seen and e.status != "unknown":
            seen.add(e.status)
            label = e.status.replace("_", " ")
            lines.append(TimelineLine(e.occurred_at, f"{label.capitalize()}{where}"))
    if exceptions > MAX_EXCEPTIONS:
        lines.append(TimelineLine(None, f"… {exceptions - MAX_EXCEPTIONS} more exception scans"))
    lines.extend(_eta_moves(session, shipment.id))
    lines.extend(_actions(session, shipment.id))
    if events and events[-1].status not in ("delivered", "return_to_sender", "cancelled"):
        now = now or datetime.now(UTC)
        silent_h = (now - events[-1].occurred_at).total_seconds() / 3600.0
        if silent_h >= 12:
            lines.append(TimelineLine(now, f"No carrier scan for {silent_h:.0f} h"))
    dated = sorted((x for x in lines if x.at is not None), key=lambda x: x.at or now)
    return dated + [x for x in lines if x.at is None]


def _place(location: dict[str, object] | None) -> str:
    if not location:
        return ""
    city = location.get("city") or location.get("zone")
    country = location.get("country") or location.get("country_code")
    parts = [str(p) for p in (city, country) if p]
    return f" ({', '.join(parts)})" if parts else ""


def _eta_moves(session: Session, shipment_id: str) -> list[TimelineLine]:
    row = session.scalars(
        select(SuggestionRow).where(
            SuggestionRow.kind == "eta", SuggestionRow.dedupe_key == shipment_id
        )
    ).first()
    if row is None:
        return []
    history = [h for h in (row.payload or {}).get("history", []) if h.get("p50")]
    out: list[TimelineLine] = []
    previous: str | None = None
    for h in history:
        day = str(h["p50"])[:10]
        if previous is not None and day != previous:
            out.append(
                TimelineLine(None, f"Delivery estimate moved {_day(previous)} → {_day(day)}")
            )
        previous = day
    if previous is not None and not out:
        out.append(TimelineLine(None, f"Delivery estimate {_day(previous)} (unchanged)"))
    return out[-MAX_ETA_MOVES:]


def _actions(session: Session, shipment_id: str) -> list[TimelineLine]:
    rows = session.scalars(
        select(SuggestionRow)
        .where(SuggestionRow.shipment_id == shipment_id, SuggestionRow.kind != "eta")
        .order_by(SuggestionRow.created_at)
    ).all()
    out = []
    for row in rows:
        name = KIND_NAMES.get(row.kind, row.kind)
        topic = (row.payload or {}).get("category") or (row.payload or {}).get("headline") or ""
        decision = session.scalars(
            select(FeedbackRow.decision)
            .where(FeedbackRow.suggestion_id == row.id)
            .order_by(FeedbackRow.id.desc())
        ).first()
        outcome = f"{row.state}" + (f", marked {decision} in Odoo" if decision else "")
        subject = f" ({str(topic).replace('_', ' ')})" if topic else ""
        out.append(TimelineLine(row.created_at, f"Waybill raised an {name}{subject}: {outcome}"))
    return out


def case_summary_html(
    session: Session, shipment: ShipmentRow, *, now: datetime | None = None
) -> str:
    """The timeline as a short HTML list for an activity note."""
    items = "".join(
        f"<li>{escape(_when(line.at))} — {escape(line.text)}</li>"
        if line.at
        else f"<li>{escape(line.text)}</li>"
        for line in case_timeline(session, shipment, now=now)
    )
    return f"<p><b>Case summary</b></p><ul>{items}</ul>"

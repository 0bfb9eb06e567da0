"""A dispatcher approval still open near the warehouse cut-off is escalated once, in Odoo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking_env import BookingEnv
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from test_dispatcher_approval import held_shipment

from app.core.config import Settings
from app.store.tables import SuggestionRow
from app.sync.booking.escalation import WarehouseClock, escalate_pending_approvals

BERLIN = Settings(
    env="test",
    warehouse_cutoff="15:30",
    warehouse_timezone="Europe/Berlin",
    warehouse_days="mon,tue,wed,thu,fri",
    _env_file=None,  # type: ignore[call-arg]
)


@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)))
def test_next_cutoff_is_the_first_collection_cutoff_at_or_after_the_moment(naive: datetime) -> None:
    clock = WarehouseClock.from_settings(BERLIN)
    moment = naive.replace(tzinfo=UTC)
    cutoff = clock.next_cutoff(moment)
    local = cutoff.astimezone(clock.zone)
    assert cutoff >= moment
    assert (local.hour, local.minute) == (15, 30)  # across daylight-saving changes too
    assert local.weekday() < 5
    # no collection cut-off was skipped between the moment and the one returned
    day = moment.astimezone(clock.zone).date()
    while day < local.date():
        if day.weekday() < 5:
            assert clock.cutoff_on(day) < moment
        day += timedelta(days=1)


def test_friday_evening_waits_for_monday() -> None:
    clock = WarehouseClock.from_settings(BERLIN)
    friday_night = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    assert clock.next_cutoff(friday_night) == datetime(2026, 11, 30, 14, 30, tzinfo=UTC)


def _escalated_count() -> float:
    return sum(
        REGISTRY.get_sample_value("waybill_approvals_escalated_total", {"when": when}) or 0.0
        for when in ("before_cutoff", "after_cutoff")
    )


def _activity(benv: BookingEnv, activity_id: int) -> dict:  # type: ignore[type-arg]
    (activity,) = benv.odoo.read(
        "mail.activity", [activity_id], ["summary", "user_id", "date_deadline", "note"]
    )
    return activity


def _setup(benv: BookingEnv, **overrides: object) -> tuple[Settings, SuggestionRow, datetime]:
    held_shipment(benv)
    settings = benv.settings.model_copy(update=overrides)
    with benv.db.session() as session:
        (suggestion,) = session.query(SuggestionRow).filter_by(kind="approval").all()
        session.expunge(suggestion)
    assert suggestion.odoo_activity_id is not None  # the activity reached Odoo
    cutoff = WarehouseClock.from_settings(settings).next_cutoff(suggestion.created_at)
    return settings, suggestion, cutoff


def test_open_approval_near_the_cutoff_is_escalated_once_to_the_shift_lead(
    benv: BookingEnv,
) -> None:
    (lead_user,) = benv.odoo.search("res.users", [("login", "=", benv.odoo_box.login)], limit=1)
    settings, suggestion, cutoff = _setup(
        benv, approval_escalate_minutes=60, approval_escalation_user_id=lead_user
    )
    before = _escalated_count()
    assert escalate_pending_approvals(benv.db, settings, cutoff - timedelta(hours=2)) == []

    (escalation,) = escalate_pending_approvals(benv.db, settings, cutoff - timedelta(minutes=30))
    assert escalation.suggestion_id == suggestion.id and not escalation.missed
    benv.writer.drain()
    activity = _activity(benv, int(suggestion.odoo_activity_id or 0))
    assert activity["summary"].startswith("URGENT before cut-off 16:00")
    assert activity["user_id"][0] == lead_user
    assert str(activity["date_deadline"]).startswith(cutoff.date().isoformat())
    assert any("cut-off" in body for body in benv.messages(_picking(benv, suggestion)))

    # idempotent: the next runs change nothing
    assert escalate_pending_approvals(benv.db, settings, cutoff - timedelta(minutes=5)) == []
    assert benv.writer.drain().applied == 0
    assert _escalated_count() == before + 1


def test_approval_left_open_past_the_cutoff_says_it_was_missed(benv: BookingEnv) -> None:
    settings, suggestion, cutoff = _setup(benv)
    (escalation,) = escalate_pending_approvals(benv.db, settings, cutoff + timedelta(hours=1))
    assert escalation.missed
    benv.writer.drain()
    activity = _activity(benv, int(suggestion.odoo_activity_id or 0))
    assert activity["summary"].startswith("URGENT, cut-off 16:00 missed")
    assert "next collection" in activity["note"]


def _picking(benv: BookingEnv, suggestion: SuggestionRow) -> int:
    return int(benv.shipment(str(suggestion.shipment_id)).odoo_picking_id or 0)

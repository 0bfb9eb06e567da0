"""Routing rules: the DESIGN §4 table, priority steps, manual review, normal statuses."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from app.models.enums import ExceptionCategory, TrackingStatus
from app.triage.classifier import Classification
from app.triage.routing import PRIORITIES, ROUTES, bump, days_late, route, value_eur

X = ExceptionCategory


def _exc(
    category: ExceptionCategory, confidence: float = 0.9, needs_review: bool = False
) -> Classification:
    status = {
        X.RETURN_TO_SENDER: TrackingStatus.RETURN_TO_SENDER,
        X.CANCELLED: TrackingStatus.CANCELLED,
    }.get(category, TrackingStatus.EXCEPTION)
    return Classification(
        status, category, confidence, needs_review, ["'refused' (+1.20)"], "model"
    )


def test_every_category_has_a_route_matching_the_design_table() -> None:
    assert set(ROUTES) == set(ExceptionCategory)
    assert ROUTES[X.LOST].priority == "critical"
    assert ROUTES[X.LOST].team == "carrier ops + claims"
    assert ROUTES[X.WEATHER_DELAY].priority == "low"
    assert ROUTES[X.CUSTOMS_HOLD].team == "trade compliance"
    assert ROUTES[X.CARRIER_DELAY].team == "dispatch"
    assert ROUTES[X.DAMAGED].action == "open claim, reship"


def test_default_priority_without_context() -> None:
    for category, row in ROUTES.items():
        r = route(_exc(category), {})
        assert r.priority == row.priority
        assert r.team == row.team
        assert r.suggested_action == row.action
        assert r.category == category.value


def test_value_tier_and_lateness_raise_priority() -> None:
    base = route(_exc(X.RECIPIENT_UNAVAILABLE), {"order_value": 40, "currency": "EUR"})
    assert base.priority == "medium"
    rich = route(_exc(X.RECIPIENT_UNAVAILABLE), {"order_value": 400, "currency": "EUR"})
    assert rich.priority == "high"
    vip = route(_exc(X.RECIPIENT_UNAVAILABLE), {"order_value": 40, "customer_tier": "vip"})
    assert vip.priority == "high"
    late = route(_exc(X.WEATHER_DELAY), {"days_late": 6})
    assert late.priority == "high"
    everything = route(
        _exc(X.CARRIER_DELAY), {"order_value": 5000, "customer_tier": "vip", "days_late": 9}
    )
    assert everything.priority == "critical"
    assert any("vip" in line for line in everything.explanation)
    assert any("days late" in line for line in everything.explanation)


def test_currency_conversion_and_promised_date() -> None:
    assert value_eur(100, "EUR") == 100
    assert value_eur(1000, "PLN") < 300  # about 230 EUR
    assert value_eur("abc", "EUR") is None
    assert days_late({"promised_date": "2026-01-01"}, today=date(2026, 1, 4)) == 3
    assert days_late({"days_late": 2.5, "promised_date": "2020-01-01"}) == 2.5
    r = route(_exc(X.CARRIER_DELAY), {"promised_date": date(2026, 1, 1)}, today=date(2026, 1, 7))
    assert r.priority == "critical" or r.priority == "high"
    assert "6 days late" in r.summary


def test_needs_review_goes_to_manual_review() -> None:
    r = route(_exc(X.DAMAGED, confidence=0.3, needs_review=True), {"tracking_number": "1Z9"})
    assert r.team == "customer service"
    assert "manual" in r.suggested_action
    assert "needs manual review" in r.summary
    assert any("below the review threshold" in line for line in r.explanation)
    low = route(_exc(X.WEATHER_DELAY, confidence=0.3, needs_review=True), {})
    assert low.priority == "medium"  # a person has to look: never left at low


def test_normal_status_needs_no_one_unless_late() -> None:
    ok = Classification(TrackingStatus.IN_TRANSIT, None, 0.95, False, [], "model")
    r = route(ok, {"days_late": 0, "carrier": "ups", "tracking_number": "1Z1"})
    assert r.team == "none" and not r.needs_action and r.priority == "low"
    assert r.summary.startswith("ups 1Z1: in transit")
    late = route(ok, {"days_late": 3})
    assert late.team == "dispatch" and late.needs_action


def test_summary_and_explanation_carry_the_signals() -> None:
    r = route(_exc(X.REFUSED), {"carrier": "dhl", "tracking_number": "JD01", "order_value": 300})
    assert r.summary.startswith("dhl JD01: refused")
    assert any("'refused'" in line for line in r.explanation)
    assert r.as_dict()["priority"] == r.priority


@settings(max_examples=200, deadline=None)
@given(
    category=st.sampled_from(list(ExceptionCategory)),
    v1=st.floats(0, 50_000, allow_nan=False),
    v2=st.floats(0, 50_000, allow_nan=False),
    d1=st.floats(-10, 60, allow_nan=False),
    d2=st.floats(-10, 60, allow_nan=False),
    tier=st.sampled_from(["standard", "plus", "vip"]),
    currency=st.sampled_from(["EUR", "USD", "PLN", "GBP", "XYZ"]),
)
def test_priority_is_monotone_in_order_value_and_days_late(
    category: ExceptionCategory,
    v1: float,
    v2: float,
    d1: float,
    d2: float,
    tier: str,
    currency: str,
) -> None:
    lo_v, hi_v = sorted((v1, v2))
    lo_d, hi_d = sorted((d1, d2))
    rank = PRIORITIES.index
    c = _exc(category)
    low = route(
        c, {"order_value": lo_v, "currency": currency, "days_late": lo_d, "customer_tier": tier}
    )
    more_value = route(
        c, {"order_value": hi_v, "currency": currency, "days_late": lo_d, "customer_tier": tier}
    )
    later = route(
        c, {"order_value": lo_v, "currency": currency, "days_late": hi_d, "customer_tier": tier}
    )
    assert rank(more_value.priority) >= rank(low.priority)
    assert rank(later.priority) >= rank(low.priority)
    assert rank(low.priority) >= rank(ROUTES[category].priority)


@settings(max_examples=100, deadline=None)
@given(
    category=st.sampled_from(list(ExceptionCategory)),
    value=st.floats(0, 10_000, allow_nan=False),
    late=st.floats(-5, 30, allow_nan=False),
)
def test_priority_is_monotone_in_customer_tier(
    category: ExceptionCategory, value: float, late: float
) -> None:
    ranks = [
        PRIORITIES.index(
            route(
                _exc(category), {"order_value": value, "days_late": late, "customer_tier": t}
            ).priority
        )
        for t in ("standard", "plus", "vip")
    ]
    assert ranks == sorted(ranks)


def test_bump_caps_at_critical() -> None:
    assert bump("high", 5) == "critical"
    assert bump("low", 0) == "low"

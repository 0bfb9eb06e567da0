"""``route_frame`` (grouped by routing steps) against ``route`` row by row, on random frames."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from app.models.enums import ExceptionCategory, TrackingStatus
from app.triage.routing import CONTEXT_COLUMNS, route, route_frame

TODAY = date(2026, 6, 15)
STATUSES = [s.value for s in TrackingStatus]
CATEGORIES = [None, *(c.value for c in ExceptionCategory), "not_a_category"]

order_values = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.floats(-10, 5000, allow_nan=False),
    st.sampled_from([249.99, 250.0, 999.99, 1000.0, 1200.0]),  # around the steps, in EUR
    st.sampled_from(["300", " 1200.5 ", "n/a"]),  # text: the column is read cell by cell
)
currencies = st.one_of(st.none(), st.sampled_from(["EUR", "usd", "GBP", "PLN", "XXX", ""]))
tiers = st.one_of(st.none(), st.sampled_from(["standard", "plus", "vip", "VIP", "gold", ""]))
lates = st.one_of(
    st.none(), st.just(float("nan")), st.floats(-3, 9, allow_nan=False), st.sampled_from([2.0, 5.0])
)
promised = st.one_of(
    st.none(),
    st.dates(date(2026, 6, 1), date(2026, 6, 30)),
    st.dates(date(2026, 6, 1), date(2026, 6, 30)).map(date.isoformat),
    st.just(datetime(2026, 6, 10, 18, 30)),
    st.sampled_from(["", "not a date", "2026-06-13T09:00:00Z"]),
)


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(0, 60))
    # few outcomes, so that rows with different contexts share one and a wrong step would
    # put them in one group
    statuses = draw(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=2))
    categories = draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2))
    rows = [
        {
            "status": draw(st.sampled_from(statuses)),
            "category": draw(st.sampled_from(categories)),
            "confidence": 0.5,
            "needs_review": draw(st.booleans()),
            "order_value": draw(order_values),
            "currency": draw(currencies),
            "customer_tier": draw(tiers),
            "days_late": draw(lates),
            "promised_date": draw(promised),
        }
        for _ in range(n)
    ]
    columns = draw(st.sets(st.sampled_from(CONTEXT_COLUMNS)))
    frame = pd.DataFrame(rows, columns=[*rows[0]] if rows else None)
    preds = (
        frame[["status", "category", "confidence", "needs_review"]]
        if n
        else pd.DataFrame(columns=["status", "category", "confidence", "needs_review"])
    )
    events = frame[[c for c in CONTEXT_COLUMNS if c in columns]] if n else pd.DataFrame()
    return preds, events


def _cell(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


@settings(max_examples=150, deadline=None)
@given(frames())
def test_route_frame_is_route_row_by_row(case: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    preds, events = case
    got = route_frame(preds, events, today=TODAY)
    assert list(got.index) == list(preds.index)
    for i in range(len(preds)):
        p = preds.iloc[i]
        outcome = SimpleNamespace(
            status=p["status"],
            category=_cell(p["category"]),
            needs_review=bool(p["needs_review"]),
            confidence=0.0,
            explanation=[],
        )
        ctx = {c: _cell(events[c].iat[i]) for c in events.columns}
        want = route(outcome, ctx, today=TODAY)
        assert tuple(got.iloc[i]) == (want.team, want.priority, want.suggested_action), (i, ctx)


def test_many_order_values_are_few_routings() -> None:
    """100,000 different order values route through the handful of steps they fall into."""
    rng = np.random.default_rng(0)
    n = 100_000
    preds = pd.DataFrame(
        {
            "status": "exception",
            "category": rng.choice(["damaged", "lost", "refused"], n),
            "confidence": 0.9,
            "needs_review": False,
        }
    )
    events = pd.DataFrame({"order_value": rng.uniform(0, 3000, n), "currency": "EUR"})
    got = route_frame(preds, events, today=TODAY)
    high = events["order_value"] >= 1000
    damaged = preds["category"] == "damaged"
    assert set(got.loc[damaged & high, "priority"]) == {"critical"}
    assert set(got.loc[damaged & (events["order_value"] < 250), "priority"]) == {"high"}

"""Routing of a classified tracking event: team, priority, suggested action, why (DESIGN §4).

The routing table is data (``ROUTES``): one row per exception category with its team, default
priority and suggested action. Priority then rises with what is at stake, by table-driven
steps that only ever add:

* **order value** (converted to EUR with rough rates; unknown currencies count as EUR):
  ≥ 250 → +1, ≥ 1,000 → +2;
* **customer tier**: ``plus`` +0, ``vip`` +1 (``standard`` +0);
* **days late** against the promised date: ≥ 2 → +1, ≥ 5 → +2; when only the promised date
  is known, days late are computed from it.

Steps only add, so priority never falls below the category default and is monotone in order
value, tier and days late (the tests check it with hypothesis); it is capped at ``critical``.

Events that are not exceptions need no one, unless the parcel is already late (then dispatch
watches it). A classification flagged ``needs_review`` goes to customer service as a manual
review: the classifier was not sure, so a person reads the carrier's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
import pandas as pd

from app.models.enums import ExceptionCategory, TrackingStatus

Priority = Literal["low", "medium", "high", "critical"]
PRIORITIES: tuple[Priority, ...] = ("low", "medium", "high", "critical")

X = ExceptionCategory


@dataclass(frozen=True, slots=True)
class Route:
    team: str
    priority: Priority
    action: str
    meaning: str


# DESIGN §4, as data.
ROUTES: Mapping[ExceptionCategory, Route] = {
    X.ADDRESS_ISSUE: Route(
        "customer service",
        "high",
        "confirm address with the customer, request carrier correction",
        "wrong, incomplete or undeliverable address",
    ),
    X.RECIPIENT_UNAVAILABLE: Route(
        "customer service",
        "medium",
        "tell the customer, arrange redelivery or pickup point",
        "nobody home, business closed, attempt made, notice left",
    ),
    X.REFUSED: Route(
        "customer service", "high", "contact customer, start return/refund", "consignee refused"
    ),
    X.CUSTOMS_HOLD: Route(
        "trade compliance",
        "high",
        "send documents or pay duties",
        "clearance, missing documents, duties or taxes due",
    ),
    X.DAMAGED: Route("warehouse + claims", "high", "open claim, reship", "parcel damaged"),
    X.LOST: Route(
        "carrier ops + claims", "critical", "open trace/claim, reship", "missing, cannot be located"
    ),
    X.WEATHER_DELAY: Route(
        "customer service",
        "low",
        "proactive delay notice with new ETA",
        "weather, natural disaster, force majeure",
    ),
    X.CARRIER_DELAY: Route(
        "dispatch",
        "medium",
        "watch; escalate to carrier past threshold",
        "network delay, missed connection, mis-sort, capacity",
    ),
    X.HELD_BY_CARRIER_SECURITY: Route(
        "trade compliance",
        "high",
        "provide declaration or arrange return",
        "dangerous goods, prohibited item, regulatory hold",
    ),
    X.RETURN_TO_SENDER: Route(
        "warehouse", "medium", "expect return, restock, tell customer", "being returned"
    ),
    X.CANCELLED: Route("dispatch", "medium", "rebook or close", "shipment cancelled"),
    X.OTHER_EXCEPTION: Route(
        "customer service", "medium", "review", "an exception that fits none of the categories"
    ),
}
NO_ACTION = Route("none", "low", "no action needed", "normal progress")
LATE_NORMAL = Route(
    "dispatch",
    "low",
    "watch: the parcel is late without a carrier exception",
    "late, no exception reported",
)
MANUAL_REVIEW_TEAM = "customer service"
MANUAL_REVIEW_ACTION = (
    "review the carrier event manually: the classifier is not sure (confirm the category, then act)"
)

# Priority steps: (threshold, steps). The largest threshold reached applies.
VALUE_STEPS_EUR: tuple[tuple[float, int], ...] = ((250.0, 1), (1000.0, 2))
TIER_STEPS: Mapping[str, int] = {"standard": 0, "plus": 0, "vip": 1}
LATE_STEPS_DAYS: tuple[tuple[float, int], ...] = ((2.0, 1), (5.0, 2))
LATE_WATCH_DAYS = 2.0

# Rough conversion to EUR for the value thresholds (order of magnitude is all that matters).
EUR_PER_UNIT: Mapping[str, float] = {
    "EUR": 1.0,
    "USD": 0.92,
    "GBP": 1.17,
    "CHF": 1.05,
    "PLN": 0.23,
    "SEK": 0.088,
    "DKK": 0.134,
    "NOK": 0.086,
    "CZK": 0.040,
    "HUF": 0.0025,
    "BRL": 0.17,
    "CAD": 0.68,
    "AUD": 0.61,
    "JPY": 0.0062,
    "CNY": 0.13,
}


@dataclass(frozen=True, slots=True)
class Routing:
    team: str
    priority: Priority
    suggested_action: str
    summary: str
    explanation: list[str] = field(default_factory=list)
    category: str | None = None
    needs_action: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "priority": self.priority,
            "suggested_action": self.suggested_action,
            "summary": self.summary,
            "explanation": list(self.explanation),
            "category": self.category,
            "needs_action": self.needs_action,
        }


def _steps(value: float | None, table: tuple[tuple[float, int], ...]) -> int:
    if value is None:
        return 0
    return max((s for t, s in table if value >= t), default=0)


def value_eur(value: Any, currency: str | None) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    if v != v:  # NaN
        return None
    return v * EUR_PER_UNIT.get((currency or "EUR").upper(), 1.0)


def days_late(context: Mapping[str, Any], today: date | None = None) -> float | None:
    """``days_late`` from the context, else from ``promised_date`` (positive = late)."""
    raw = context.get("days_late")
    if raw is not None:
        try:
            v = float(raw)
            if v == v:
                return v
        except (TypeError, ValueError):
            pass
    promised = context.get("promised_date")
    if promised in (None, ""):
        return None
    if isinstance(promised, datetime):
        promised = promised.date()
    elif isinstance(promised, str):
        try:
            promised = date.fromisoformat(promised[:10])
        except ValueError:
            return None
    if not isinstance(promised, date):
        return None
    return float(((today or date.today()) - promised).days)


def bump(priority: Priority, steps: int) -> Priority:
    i = PRIORITIES.index(priority) + max(0, steps)
    return PRIORITIES[min(i, len(PRIORITIES) - 1)]


def route(
    classification: Any, context: Mapping[str, Any] | None = None, *, today: date | None = None
) -> Routing:
    """Team, priority, action and a short explanation for one classified event.

    ``classification`` is an ``app.triage.classifier.Classification`` (or anything with
    ``status``, ``category``, ``confidence``, ``needs_review`` and ``explanation``);
    ``context`` may hold ``order_value, currency, customer_tier, promised_date, days_late,
    carrier, tracking_number``.
    """
    ctx = dict(context or {})
    category = _category(getattr(classification, "category", None))
    status = _status(getattr(classification, "status", None))
    needs_review = bool(getattr(classification, "needs_review", False))
    confidence = float(getattr(classification, "confidence", 0.0) or 0.0)
    signals = list(getattr(classification, "explanation", []) or [])

    value = value_eur(ctx.get("order_value"), ctx.get("currency"))
    tier = str(ctx.get("customer_tier") or "standard").lower()
    late = days_late(ctx, today)
    why: list[str] = []

    if category is None and not needs_review:
        base = LATE_NORMAL if (late is not None and late >= LATE_WATCH_DAYS) else NO_ACTION
        steps = _steps(late, LATE_STEPS_DAYS) - 1 if base is LATE_NORMAL else 0
        priority = bump(base.priority, max(steps, 0))
        ref = _reference(ctx)
        summary = f"{ref}{status.value.replace('_', ' ')}" + (
            f", {late:g} days late" if base is LATE_NORMAL and late else ""
        )
        why.append(f"status {status.value}: not an exception")
        if base is LATE_NORMAL:
            why.append(f"{late:g} days past the promised date")
        return Routing(base.team, priority, base.action, summary, why, None, base is LATE_NORMAL)

    route_row = ROUTES[category] if category is not None else ROUTES[X.OTHER_EXCEPTION]
    priority: Priority = route_row.priority
    why.append(
        f"category {category.value if category else 'unclear'}: default "
        f"{route_row.priority} for {route_row.team}"
    )
    v_steps = _steps(value, VALUE_STEPS_EUR)
    if v_steps:
        why.append(f"order value ≈ {value:,.0f} EUR: +{v_steps}")
    t_steps = TIER_STEPS.get(tier, 0)
    if t_steps:
        why.append(f"customer tier {tier}: +{t_steps}")
    l_steps = _steps(late, LATE_STEPS_DAYS)
    if l_steps:
        why.append(f"{late:g} days late: +{l_steps}")
    priority = bump(priority, v_steps + t_steps + l_steps)

    team, action = route_row.team, route_row.action
    if needs_review:
        team, action = MANUAL_REVIEW_TEAM, MANUAL_REVIEW_ACTION
        priority = bump(priority, 1 if priority == "low" else 0)
        why.append(f"classifier confidence {confidence:.2f} is below the review threshold")
    why.extend(s for s in signals[:3] if s)
    label = category.value.replace("_", " ") if category else "unclear exception"
    summary = f"{_reference(ctx)}{label} ({route_row.meaning})"
    if late is not None and late > 0:
        summary += f", {late:g} days late"
    if needs_review:
        summary += " - needs manual review"
    return Routing(team, priority, action, summary, why, category.value if category else None, True)


CONTEXT_COLUMNS = ("order_value", "currency", "customer_tier", "promised_date", "days_late")


def route_frame(
    predictions: pd.DataFrame, events: pd.DataFrame | None = None, *, today: date | None = None
) -> pd.DataFrame:
    """``team, priority, suggested_action`` for a batch of classified events.

    ``predictions`` has ``status, category, confidence, needs_review`` per row; ``events`` (same
    index order) may carry the context columns of ``route`` (``CONTEXT_COLUMNS``). Team,
    priority and action depend on the context only through its steps (order-value band, tier
    step, days-late band), so rows are grouped by outcome and steps and each group is routed
    once, by ``route`` itself on its first row: a batch of 100,000 events with as many
    different order values is a few hundred routings.
    """
    n = len(predictions)
    ctx_cols = [c for c in CONTEXT_COLUMNS if events is not None and c in events.columns]
    columns = {c: events[c].astype(object).to_numpy() for c in ctx_cols}  # type: ignore[index]
    late = _late_days(columns, n, today)
    keys = pd.DataFrame(
        {
            "status": predictions["status"].astype(object).to_numpy(),
            "category": predictions["category"].astype(object).to_numpy(),
            "needs_review": predictions["needs_review"].astype(bool).to_numpy(),
            "value_steps": _value_steps(
                events["order_value"] if "order_value" in columns else None,  # type: ignore[index]
                columns.get("currency"),
                n,
            ),
            "tier_steps": _per_distinct(columns.get("customer_tier"), n, _tier_steps),
            "late_watch": np.greater_equal(
                late, LATE_WATCH_DAYS, where=~np.isnan(late), out=np.zeros(n, bool)
            ),
            "late_steps": _steps_array(late, LATE_STEPS_DAYS),
        }
    )
    codes, first = _groups(keys)
    routed = []
    for i in first:
        outcome = SimpleNamespace(
            status=keys["status"].iat[i],
            category=None if _missing(keys["category"].iat[i]) else keys["category"].iat[i],
            needs_review=bool(keys["needs_review"].iat[i]),
            confidence=0.0,
            explanation=[],
        )
        context = {c: (None if _missing(v[i]) else v[i]) for c, v in columns.items()}
        r = route(outcome, context, today=today)
        routed.append((r.team, r.priority, r.suggested_action))
    table = np.array(routed, dtype=object).reshape(-1, 3)
    return pd.DataFrame(
        table[codes] if n else np.empty((0, 3), object),
        columns=["team", "priority", "suggested_action"],
        index=predictions.index,
    )


def _groups(keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Group code per row, and the first row of each group."""
    if not len(keys):
        return np.empty(0, np.intp), np.empty(0, np.intp)
    codes = np.zeros(len(keys), np.int64)
    for name in keys.columns:
        col_codes, uniques = pd.factorize(keys[name].to_numpy(), use_na_sentinel=False)
        codes, _ = pd.factorize(codes * len(uniques) + col_codes)  # stays below len(keys)
    first = np.unique(codes, return_index=True)[1]
    return codes, first


def _steps_array(values: np.ndarray, table: tuple[tuple[float, int], ...]) -> np.ndarray:
    """``_steps`` of every value (NaN counts as unknown: no step)."""
    out = np.zeros(len(values), np.int64)
    known = ~np.isnan(values)
    for threshold, steps in table:
        hit = np.greater_equal(values, threshold, where=known, out=np.zeros(len(values), bool))
        out = np.where(hit, np.maximum(out, steps), out)
    return out


def _per_distinct(column: np.ndarray | None, n: int, fn: Any) -> np.ndarray:
    """``fn`` of every cell (missing cells as None), evaluated once per distinct value."""
    if column is None:
        return np.full(n, fn(None))
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    results = [fn(None if _missing(v) else v) for v in uniques]
    missing = fn(None)
    return np.array([*results, missing], dtype=object)[codes] if n else np.empty(0, object)


def _tier_steps(tier: Any) -> int:
    return TIER_STEPS.get(str(tier or "standard").lower(), 0)


def _value_steps(order_value: pd.Series | None, currency: np.ndarray | None, n: int) -> np.ndarray:
    """Order-value steps per row, as ``route`` computes them from ``value_eur``."""
    if order_value is None:
        return np.zeros(n, np.int64)
    factor = _as_float(_per_distinct(currency, n, lambda c: value_eur(1.0, c)))
    if pd.api.types.is_numeric_dtype(order_value.dtype):
        values = order_value.to_numpy(dtype=float, na_value=np.nan)
    else:  # text, objects: each distinct cell as ``value_eur`` reads it
        values = _as_float(
            _per_distinct(order_value.astype(object).to_numpy(), n, lambda v: value_eur(v, None))
        )
    return _steps_array(values * factor, VALUE_STEPS_EUR)


def _late_days(columns: dict[str, np.ndarray], n: int, today: date | None) -> np.ndarray:
    """``days_late`` per row (NaN: unknown), each distinct cell computed once: the number in
    ``days_late`` where there is one, else the days since ``promised_date``."""
    late = np.full(n, np.nan)
    if "days_late" in columns:
        late = _as_float(_per_distinct(columns["days_late"], n, _number_or_none))
    if "promised_date" in columns:
        promised = _per_distinct(
            columns["promised_date"], n, lambda p: days_late({"promised_date": p}, today)
        )
        late = np.where(np.isnan(late), _as_float(promised), late)
    return late


def _number_or_none(raw: Any) -> float | None:
    """How ``days_late`` reads the ``days_late`` value: a number, or None to look further."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if value == value else None


def _as_float(values: np.ndarray) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _missing(value: Any) -> bool:
    """None, NaN or NaT (what a missing cell of a frame holds)."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _reference(ctx: Mapping[str, Any]) -> str:
    carrier, number = ctx.get("carrier"), ctx.get("tracking_number")
    if carrier and number:
        return f"{carrier} {number}: "
    if number:
        return f"{number}: "
    return ""


def _category(value: Any) -> ExceptionCategory | None:
    if value is None or value == "":
        return None
    try:
        return ExceptionCategory(getattr(value, "value", value))
    except ValueError:
        return ExceptionCategory.OTHER_EXCEPTION


def _status(value: Any) -> TrackingStatus:
    try:
        return TrackingStatus(getattr(value, "value", value))
    except ValueError:
        return TrackingStatus.UNKNOWN


__all__ = [
    "PRIORITIES",
    "ROUTES",
    "Routing",
    "bump",
    "days_late",
    "route",
    "route_frame",
    "value_eur",
]

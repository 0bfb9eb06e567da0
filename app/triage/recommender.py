"""Carrier recommendation at serving time: score every quote, rank, explain the choice.

For each quote of a shipment the risk model predicts the probability of delivery by the
promised date and of a delivery exception; the cost model of the customer's tier turns them
into an expected total cost (``app.triage.recommender_costs``), and the cheapest expected total
among the quotes matching the requested service level wins. The explanation compares the choice
with the cheapest and the fastest quote::

    Book lowlands LL_STANDARD: €8.40, 96 % on time, €9.90 expected all-in; saves €2.10 expected
    vs the cheapest, postnova PN_PARCEL (€6.10, 71 % on time); the fastest, velox ...

Predictors (what MLflow stores as ``waybill-recommender``):

* ``RiskPredictor`` - two LightGBM classifiers (on time, exception) over
  ``recommender_features.FEATURES`` with frozen lane history;
* ``CheapestBaseline`` (``baseline_predictor()``) - no risk estimates, so the expected total
  is the freight and the cheapest eligible quote wins; the service uses it while no model is
  registered.

Both return, per input quote: ``p_on_time``, ``p_exception``, the expected costs, ``eligible``,
``rank`` (1 = book this) and ``chosen``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from app.triage.recommender_costs import CostModel, rank_quotes
from app.triage.recommender_features import (
    LaneHistory,
    as_categorical,
    eligible_mask,
    prepare_quotes,
    quote_features,
)

OUTPUT_COLUMNS: tuple[str, ...] = (
    "shipment_id", "carrier", "carrier_account", "service", "price", "p_on_time",
    "p_exception", "expected_late_cost", "expected_exception_cost", "expected_total_cost",
    "eligible", "rank", "chosen",
)


@dataclass
class RiskPredictor:
    """LightGBM risk classifiers + frozen lane history + the training-time cost model."""

    on_time_model: Any  # lightgbm.Booster predicting P(late)
    exception_model: Any  # lightgbm.Booster predicting P(exception)
    categories: dict[str, list[str]]
    history: LaneHistory
    costs: CostModel = field(default_factory=CostModel)
    info: dict[str, Any] = field(default_factory=dict)

    def risks(self, quotes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(P(on time), P(exception)) of prepared quotes."""
        if len(quotes) == 0:
            return np.zeros(0), np.zeros(0)
        x = as_categorical(quote_features(quotes, self.history.lookup(quotes)), self.categories)
        p_late = np.clip(self.on_time_model.predict(x), 0.0, 1.0)
        p_exc = np.clip(self.exception_model.predict(x), 0.0, 1.0)
        return 1.0 - p_late, p_exc

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        quotes = prepare_quotes(frame)
        p_on_time, p_exc = self.risks(quotes)
        return rank_quotes(quotes, p_on_time, p_exc, self.costs, eligible_mask(quotes))[
            list(OUTPUT_COLUMNS)]


@dataclass
class CheapestBaseline:
    """The cheapest eligible quote (no risk model): what serves before anything is trained."""

    costs: CostModel = field(default_factory=CostModel)

    def risks(self, quotes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        nan = np.full(len(quotes), np.nan)
        return nan, nan.copy()

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        quotes = prepare_quotes(frame)
        p_on_time, p_exc = self.risks(quotes)
        return rank_quotes(quotes, p_on_time, p_exc, self.costs, eligible_mask(quotes))[
            list(OUTPUT_COLUMNS)]


def baseline_predictor() -> CheapestBaseline:
    return CheapestBaseline()


# -- the serving API -----------------------------------------------------------------------------
class ScoredQuote(BaseModel):
    carrier: str
    carrier_account: str
    service: str
    price: float
    currency: str | None = None
    promised_date: date | None = None
    promised_transit_days: float | None = None
    p_on_time: float | None = None
    p_exception: float | None = None
    expected_late_cost: float
    expected_exception_cost: float
    expected_total_cost: float
    eligible: bool
    rank: int

    @property
    def label(self) -> str:
        return f"{self.carrier} {self.service}"


class Ranking(BaseModel):
    shipment_id: str
    choice: ScoredQuote
    cheapest: ScoredQuote
    fastest: ScoredQuote
    quotes: list[ScoredQuote]
    explanation: str
    source: str = "baseline"
    model_version: str | None = None


_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def money(amount: float, currency: str | None) -> str:
    sym = _SYMBOLS.get((currency or "").upper())
    return f"{sym}{amount:,.2f}" if sym else f"{amount:,.2f} {currency or ''}".rstrip()


def _odds(q: ScoredQuote) -> str:
    return "" if q.p_on_time is None else f", {round(100 * q.p_on_time)} % on time"


def explain(choice: ScoredQuote, cheapest: ScoredQuote, fastest: ScoredQuote,
            currency: str | None) -> str:
    """One sentence a dispatcher can check: the choice against the cheapest and the fastest."""
    m = lambda v: money(v, currency)  # noqa: E731
    head = f"Book {choice.label}: {m(choice.price)}{_odds(choice)}"
    if choice.p_on_time is None:
        return head + " - the cheapest eligible quote (no risk model registered yet)."
    head += f", {m(choice.expected_total_cost)} expected all-in"
    parts = []
    for role, other in (("cheapest", cheapest), ("fastest", fastest)):
        if other.label == choice.label:
            parts.append(f"it is also the {role}")
            continue
        delta = other.expected_total_cost - choice.expected_total_cost
        verb = "saves" if delta >= 0 else "costs"
        parts.append(f"{verb} {m(abs(delta))} expected vs the {role}, {other.label} "
                     f"({m(other.price)}{_odds(other)})")
    return head + "; " + "; ".join(parts) + "."


def _quote_row(quote: Mapping[str, Any]) -> dict[str, Any]:
    """A rate as the carriers layer gives it (``total``, ``transit_days``, ...) -> quote row."""
    row = dict(quote)
    total = row.pop("total", None)
    if isinstance(total, Mapping):
        row.setdefault("price", total.get("amount"))
        row.setdefault("currency", total.get("currency"))
    if "transit_days" in row:
        row.setdefault("promised_transit_days", row.pop("transit_days"))
    if "estimated_delivery" in row:
        row.setdefault("promised_date", row.pop("estimated_delivery"))
    extra = row.pop("extra", None)
    if isinstance(extra, Mapping):
        for key in ("service_level", "pickup_date", "billable_weight_kg"):
            if key in extra:
                row.setdefault(key, extra[key])
    return row


class Recommender:
    """Ranks the quotes of one shipment with whatever predictor serves (model or baseline)."""

    def __init__(self, predictor: Any = None, costs: CostModel | None = None, *,
                 source: str | None = None, model_version: str | None = None) -> None:
        self.predictor = predictor if predictor is not None else baseline_predictor()
        self.costs = costs or CostModel()
        self.source = source or getattr(self.predictor, "source", None) or (
            "baseline" if isinstance(self.predictor, CheapestBaseline) else "registry")
        self.model_version = model_version or getattr(self.predictor, "version", None)

    @classmethod
    def from_manager(cls, manager: Any, costs: CostModel | None = None) -> Recommender:
        served = manager.get("recommender")
        return cls(served, costs, source=served.source, model_version=served.version)

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Risk from the predictor, costs from this recommender's cost model."""
        out = self.predictor.predict(frame)
        quotes = prepare_quotes(frame)
        return rank_quotes(quotes, out["p_on_time"].to_numpy(float),
                           out["p_exception"].to_numpy(float), self.costs,
                           out["eligible"].to_numpy(bool))

    def rank(self, quotes: Sequence[Mapping[str, Any]],
             context: Mapping[str, Any] | BaseModel | None = None) -> Ranking:
        """Rank one shipment's quotes; ``context`` holds the shipment facts (tier, lane ...)."""
        if not quotes:
            raise ValueError("no quotes to rank")
        ctx = context.model_dump() if isinstance(context, BaseModel) else dict(context or {})
        sid = str(ctx.get("shipment_id") or "shipment")
        frame = pd.DataFrame([{**ctx, **_quote_row(q)} for q in quotes])
        frame["shipment_id"] = sid
        return self.rank_frame(frame)[0]

    def rank_frame(self, frame: pd.DataFrame) -> list[Ranking]:
        """Rank many shipments at once (one row per quote, ``shipment_id`` groups them)."""
        scored = self.score(frame)
        prepared = prepare_quotes(frame)
        rankings = []
        for _, idx in scored.groupby("shipment_id", sort=False).indices.items():
            rankings.append(self._ranking(scored.iloc[idx], prepared.iloc[idx]))
        return rankings

    def _ranking(self, scored: pd.DataFrame, prepared: pd.DataFrame) -> Ranking:
        currency = next((str(c) for c in prepared["currency"] if c), self.costs.currency)
        items = []
        for (_, r), (_, p) in zip(scored.iterrows(), prepared.iterrows(), strict=True):
            promised = p["promised_date"]
            items.append(ScoredQuote(
                carrier=str(r["carrier"]), carrier_account=str(r["carrier_account"]),
                service=str(r["service"]), price=float(r["price"]),
                currency=p["currency"] or currency,
                promised_date=None if pd.isna(promised) else promised.date(),
                promised_transit_days=_opt(p["promised_transit_days"]),
                p_on_time=_opt(r["p_on_time"]), p_exception=_opt(r["p_exception"]),
                expected_late_cost=float(r["expected_late_cost"]),
                expected_exception_cost=float(r["expected_exception_cost"]),
                expected_total_cost=float(r["expected_total_cost"]),
                eligible=bool(r["eligible"]), rank=int(r["rank"])))
        items.sort(key=lambda q: q.rank)
        pool = [q for q in items if q.eligible] or items
        choice = items[0]
        cheapest = min(pool, key=lambda q: (q.price, q.rank))
        fastest = min(pool, key=lambda q: (q.promised_date or date.max,
                                           q.promised_transit_days or float("inf"),
                                           q.price, q.rank))
        return Ranking(shipment_id=str(scored["shipment_id"].iloc[0]), choice=choice,
                       cheapest=cheapest, fastest=fastest, quotes=items,
                       explanation=explain(choice, cheapest, fastest, currency),
                       source=self.source, model_version=self.model_version)


def _opt(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def recommend_frame(predictor: Any, quotes: pd.DataFrame, costs: CostModel | None = None, *,
                    source: str | None = None, model_version: str | None = None
                    ) -> pd.DataFrame:
    """Batch: one row per shipment with the chosen quote, its scores and the explanation."""
    rec = Recommender(predictor, costs, source=source, model_version=model_version)
    rows = []
    for ranking in rec.rank_frame(quotes):
        c = ranking.choice
        rows.append({
            "shipment_id": ranking.shipment_id, "carrier": c.carrier,
            "carrier_account": c.carrier_account, "service": c.service, "price": c.price,
            "currency": c.currency, "promised_date": c.promised_date,
            "p_on_time": c.p_on_time, "p_exception": c.p_exception,
            "expected_late_cost": c.expected_late_cost,
            "expected_exception_cost": c.expected_exception_cost,
            "expected_total_cost": c.expected_total_cost, "n_quotes": len(ranking.quotes),
            "cheapest": ranking.cheapest.label, "cheapest_price": ranking.cheapest.price,
            "cheapest_expected_total_cost": ranking.cheapest.expected_total_cost,
            "fastest": ranking.fastest.label, "fastest_price": ranking.fastest.price,
            "fastest_expected_total_cost": ranking.fastest.expected_total_cost,
            "explanation": ranking.explanation, "source": ranking.source,
            "model_version": ranking.model_version,
        })
    return pd.DataFrame(rows)

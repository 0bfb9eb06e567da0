"""Choosing a quote. Pluggable: the default below, the recommender later.

Default (what a dispatcher would do by hand): the carrier Odoo names on the picking if it quoted;
otherwise the cheapest quote that arrives by the promised date; otherwise the cheapest, flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from app.models import Rate, ShipmentRequest
from app.sync.booking.directory import CarrierChoice


@dataclass(frozen=True)
class Decision:
    rate: Rate | None
    reason: str
    needs_approval: bool = False


class SelectionPolicy(Protocol):
    def choose(
        self, request: ShipmentRequest, rates: list[Rate], *, preferred: CarrierChoice | None
    ) -> Decision: ...


def arrival(rate: Rate, ship_date: date) -> date | None:
    if rate.estimated_delivery:
        return rate.estimated_delivery
    if rate.transit_days is not None:
        return ship_date + timedelta(days=rate.transit_days)
    return None


class DefaultPolicy:
    def choose(
        self, request: ShipmentRequest, rates: list[Rate], *, preferred: CarrierChoice | None
    ) -> Decision:
        if not rates:
            return Decision(None, "no carrier quoted this shipment", needs_approval=True)
        if preferred is not None:
            matching = [
                r
                for r in rates
                if r.carrier_account == preferred.account
                and (preferred.service is None or r.service == preferred.service)
            ]
            if matching:
                best = min(matching, key=lambda r: r.total.amount)
                why = "carrier requested" if preferred.strict else "carrier set on the Odoo picking"
                return Decision(best, why)
            if preferred.strict:
                return Decision(
                    None,
                    f"{preferred.account} did not quote "
                    f"{preferred.service or 'any service'} for this shipment",
                    needs_approval=True,
                )
        cheapest = sorted(rates, key=lambda r: (r.total.amount, r.transit_days or 99))
        if request.promised_date is None:
            return Decision(cheapest[0], "cheapest quote (no promised date)")
        ship = request.ship_date or date.today()
        on_time = [r for r in cheapest if (a := arrival(r, ship)) and a <= request.promised_date]
        if on_time:
            return Decision(on_time[0], f"cheapest quote arriving by {request.promised_date}")
        return Decision(
            cheapest[0],
            f"no quote arrives by {request.promised_date}; cheapest chosen, delivery will be late",
            needs_approval=True,
        )


@dataclass(frozen=True)
class AutoBookRules:
    """When the recommender may book without a dispatcher."""

    min_on_time: float = 0.9
    max_price_delta: float = 5.0  # above the cheapest quote, in the quotes' currency
    allowed_carriers: frozenset[str] | None = None


class RecommenderPolicy:
    """Expected total cost (freight + lateness + exceptions) decides; confident choices within
    the rules book themselves, the rest go to a dispatcher with the explanation. A carrier set
    on the Odoo picking is a person's decision and wins; with no trained model the default
    policy decides (a baseline is not a reason to ask a person about every parcel)."""

    def __init__(
        self,
        recommender: Callable[[], Any],
        rules: AutoBookRules | None = None,
        fallback: SelectionPolicy | None = None,
        advisor: Callable[[ShipmentRequest, Rate], list[str]] | None = None,
    ) -> None:
        self.recommender = recommender
        self.rules = rules or AutoBookRules()
        self.fallback = fallback or DefaultPolicy()
        self.advisor = advisor  # open degradation alerts: ask the dispatcher, say why

    def _advised(self, request: ShipmentRequest, decision: Decision) -> Decision:
        notes = self.advisor(request, decision.rate) if self.advisor and decision.rate else []
        if not notes:
            return decision
        reason = f"{decision.reason}; {'; '.join(notes)}"
        return Decision(decision.rate, reason, needs_approval=True)

    def choose(
        self, request: ShipmentRequest, rates: list[Rate], *, preferred: CarrierChoice | None
    ) -> Decision:
        if preferred is not None or not rates:
            return self.fallback.choose(request, rates, preferred=preferred)
        recommender = self.recommender()
        if getattr(recommender, "source", "baseline") != "registry":
            return self._advised(request, self.fallback.choose(request, rates, preferred=preferred))
        ranking = recommender.rank(
            [r.model_dump(mode="json") for r in rates], recommendation_context(request)
        )
        choice = ranking.choice
        rate = next(
            r
            for r in rates
            if r.carrier_account == choice.carrier_account and r.service == choice.service
        )
        delta = choice.price - ranking.cheapest.price
        confident = (
            (choice.p_on_time or 0.0) >= self.rules.min_on_time
            and delta <= self.rules.max_price_delta
            and (
                self.rules.allowed_carriers is None or choice.carrier in self.rules.allowed_carriers
            )
        )
        return self._advised(
            request, Decision(rate, ranking.explanation, needs_approval=not confident)
        )


def recommendation_context(request: ShipmentRequest) -> dict[str, Any]:
    """The shipment facts the recommender's features read (lane, parcel, promise, tier)."""
    return {
        "origin_country": request.shipper.country_code,
        "destination_country": request.recipient.country_code,
        "origin_zone": request.shipper.country_code,
        "destination_zone": request.recipient.country_code,
        "weight_kg": float(request.total_weight_kg),
        "is_international": request.is_international,
        "promised_date": request.promised_date,
        "ship_at": request.ship_date,
        "customer_tier": request.metadata.get("customer_tier", "standard"),
    }

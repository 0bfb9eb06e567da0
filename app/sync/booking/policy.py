"""Choosing a quote. Pluggable: the default below, the recommender later.

Default (what a dispatcher would do by hand): the carrier Odoo names on the picking if it quoted;
otherwise the cheapest quote that arrives by the promised date; otherwise the cheapest, flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

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

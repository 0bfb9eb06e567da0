"""Rate shopping: eligible accounts quoted in parallel; a slow carrier delays, never blocks."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from app.carriers.base import CarrierAdapter
from app.carriers.errors import CarrierError
from app.core.logging import get_logger
from app.models import Rate, ShipmentRequest

log = get_logger(__name__)


@dataclass
class RateShopResult:
    rates: list[Rate] = field(default_factory=list)
    errors: dict[str, CarrierError] = field(default_factory=dict)

    @property
    def all_retryable(self) -> bool:
        return bool(self.errors) and all(e.retryable for e in self.errors.values())


def rate_shop(
    adapters: list[CarrierAdapter], request: ShipmentRequest, *, workers: int = 8
) -> RateShopResult:
    result = RateShopResult()
    if not adapters:
        return result
    if len(adapters) == 1:
        # nothing to overlap: a pool would only add a thread start and a hand-off per quote
        _collect(result, adapters[0].account_id, lambda: adapters[0].rate(request))
        return result
    with ThreadPoolExecutor(
        max_workers=min(workers, len(adapters)), thread_name_prefix="rate-shop"
    ) as pool:
        futures = {a.account_id: pool.submit(a.rate, request) for a in adapters}
        for account_id, future in futures.items():
            _collect(result, account_id, future.result)
    return result


def _collect(result: RateShopResult, account_id: str, quotes: Callable[[], list[Rate]]) -> None:
    try:
        result.rates.extend(quotes())
    except CarrierError as exc:
        result.errors[account_id] = exc
        log.warning("rate_failed", account=account_id, error=exc.code)

"""Which carrier accounts exist, which may carry a request, and what Odoo's carriers mean.

Odoo names a *delivery method* (``delivery.carrier``), not an account and service; the carrier
map says, for example, that Odoo's "UPS Ground" is account ``ups-main`` service ``ups_ground``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import redis

from app.carriers.accounts import CarrierAccount, load_accounts
from app.carriers.base import CarrierAdapter
from app.carriers.registry import build_adapter
from app.core.breaker import CircuitBreaker
from app.core.carrier_limits import CarrierRateLimiter
from app.core.config import Settings
from app.models import ShipmentRequest
from app.sync.booking.guarded import GuardedAdapter
from app.sync.booking.pieces import PieceSplittingAdapter


@dataclass(frozen=True)
class CarrierChoice:
    account: str
    service: str | None = None
    strict: bool = False  # an explicit API choice: that carrier or nothing


class CarrierDirectory:
    def __init__(
        self,
        accounts: list[CarrierAccount],
        carrier_map: dict[str, CarrierChoice] | None = None,
        *,
        breakers: redis.Redis | None = None,
        rate_limits: CarrierRateLimiter | None = None,
    ) -> None:
        self.accounts = {a.id: a for a in accounts}
        self.carrier_map = carrier_map or {}
        self.breakers = breakers  # Redis holding per-account circuit state, shared by workers
        self.rate_limits = rate_limits  # per-account token buckets, shared by workers
        self._adapters: dict[str, CarrierAdapter] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, breakers: redis.Redis | None = None
    ) -> CarrierDirectory:
        raw = settings.carrier_accounts.get_secret_value() if settings.carrier_accounts else "[]"
        mapping: dict[str, Any] = json.loads(settings.carrier_map) if settings.carrier_map else {}
        return cls(
            load_accounts(raw),
            {str(k): CarrierChoice(v["account"], v.get("service")) for k, v in mapping.items()},
            breakers=breakers,
            rate_limits=(
                CarrierRateLimiter.from_settings(settings, breakers)
                if breakers is not None
                else None
            ),
        )

    def adapter(self, account_id: str) -> CarrierAdapter:
        with self._lock:
            if account_id not in self._adapters:
                account = self.accounts[account_id]
                adapter = build_adapter(account)
                limit = self.rate_limits.for_account(account) if self.rate_limits else None
                if self.breakers is not None or limit is not None:
                    breaker = None
                    if self.breakers is not None:
                        breaker = CircuitBreaker(self.breakers, account_id)
                    adapter = GuardedAdapter(adapter, breaker, limit)
                if not adapter.capabilities().multi_parcel:
                    adapter = PieceSplittingAdapter(adapter)
                self._adapters[account_id] = adapter
            return self._adapters[account_id]

    def eligible(self, request: ShipmentRequest) -> list[CarrierAdapter]:
        """Accounts whose declared capabilities fit the request (parcels, border, returns)."""
        out = []
        for account_id in self.accounts:
            adapter = self.adapter(account_id)
            caps = adapter.capabilities()
            if not (caps.rate and caps.book):
                continue
            if request.is_international and not caps.international:
                continue
            if len(request.parcels) > (caps.max_parcels if caps.multi_parcel else 1):
                continue
            out.append(adapter)
        return out

    def odoo_choice(self, odoo_carrier_id: int | None, name: str | None) -> CarrierChoice | None:
        for key in (str(odoo_carrier_id) if odoo_carrier_id else None, name):
            if key and key in self.carrier_map:
                return self.carrier_map[key]
        return None

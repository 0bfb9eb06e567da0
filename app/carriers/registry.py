"""Adapter factories by carrier code: the one place that knows which class serves which carrier.

Factories are imported lazily so a process that only tracks EasyPost does not import the other
connectors (karrio's plugin discovery loads every installed connector once, at warm-up).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from app.carriers.accounts import CarrierAccount
from app.carriers.base import CarrierAdapter
from app.carriers.errors import CarrierConfigError

AdapterFactory = Callable[[CarrierAccount], CarrierAdapter]

_BUILTIN: dict[str, str] = {
    "ups": "app.carriers.ups.adapter:UPSAdapter",
    "fedex": "app.carriers.fedex.adapter:FedExAdapter",
    "dhl_express": "app.carriers.dhl_express.adapter:DHLExpressAdapter",
    "usps": "app.carriers.usps.adapter:USPSAdapter",
    "easypost": "app.carriers.easypost.adapter:EasyPostAdapter",
}
_FACTORIES: dict[str, AdapterFactory] = {}


def register(code: str, factory: AdapterFactory) -> None:
    """Register (or replace) the factory for a carrier code, e.g. a hand-written adapter."""
    _FACTORIES[code.lower()] = factory


def carrier_codes() -> list[str]:
    return sorted(set(_BUILTIN) | set(_FACTORIES))


def factory_for(code: str) -> AdapterFactory:
    key = code.lower()
    if key in _FACTORIES:
        return _FACTORIES[key]
    target = _BUILTIN.get(key)
    if target is None:
        raise CarrierConfigError(
            f"no adapter for carrier {code!r}; known: {', '.join(carrier_codes())}", carrier=code
        )
    module, _, name = target.partition(":")
    factory: AdapterFactory = getattr(import_module(module), name)
    _FACTORIES[key] = factory
    return factory


def build_adapter(account: CarrierAccount) -> CarrierAdapter:
    """The adapter for one account; cheap (no network), so build per job if convenient."""
    return factory_for(account.carrier)(account)


def build_adapters(accounts: list[CarrierAccount]) -> dict[str, CarrierAdapter]:
    """Adapters by account id, for every account given."""
    return {a.id: build_adapter(a) for a in accounts}

"""Connector settings per account, with the ``server_url`` override karrio lacks.

karrio's ``Settings.server_url`` is a read-only property chosen by ``test_mode``. Every connector
proxy builds its URLs from it, so a subclass that adds a ``waybill_base_url`` attribute and
overrides the property points the real connector at a proxy or the carrier sandbox. Subclasses
are built once per connector and cached.
"""

from __future__ import annotations

import hashlib
import threading
from functools import cache
from importlib import import_module
from typing import Any

import attr

from app.carriers.accounts import CarrierAccount
from app.carriers.errors import CarrierConfigError


@cache
def settings_class(karrio_name: str) -> type[Any]:
    """The connector's Settings class, extended with an overridable base URL."""
    try:
        base = import_module(f"karrio.mappers.{karrio_name}.settings").Settings
    except ImportError as exc:
        raise CarrierConfigError(
            f"the karrio connector {karrio_name!r} is not installed", carrier=karrio_name
        ) from exc

    def server_url(self: Any) -> str:
        override = getattr(self, "waybill_base_url", None)
        return override if override else base.server_url.fget(self)  # type: ignore[attr-defined]

    namespace = {
        "__annotations__": {"waybill_base_url": str},
        "waybill_base_url": None,
        "server_url": property(server_url),
    }
    cls = type(f"Waybill{base.__name__}_{karrio_name}", (base,), namespace)
    return attr.s(auto_attribs=True)(cls)


def build_settings(
    karrio_name: str, account: CarrierAccount, *, config: dict[str, Any] | None = None
) -> Any:
    """A connector Settings instance for ``account`` (credentials in clear, never logged)."""
    cls = settings_class(karrio_name)
    fields = {a.name for a in attr.fields(cls)}
    values: dict[str, Any] = {
        "id": account.id,
        "test_mode": account.test_mode,
        "carrier_id": karrio_name,
        "config": dict(config or {}),
        "waybill_base_url": account.server_url,
    }
    for key, value in account.options.items():
        if key in fields and key not in values:
            values[key] = value
    values.update(account.secrets())
    unknown = sorted(set(values) - fields)
    if unknown:
        raise CarrierConfigError(
            f"account {account.id!r}: {karrio_name} does not take {', '.join(unknown)}",
            carrier=account.carrier,
        )
    try:
        return cls(**values)
    except TypeError as exc:  # a required credential is missing
        raise CarrierConfigError(
            f"account {account.id!r}: incomplete {karrio_name} credentials ({exc})",
            carrier=account.carrier,
        ) from None


_CACHES: dict[str, Any] = {}
_CACHES_LOCK = threading.Lock()


def token_cache(account: CarrierAccount) -> Any:
    """One OAuth token cache per account and credential set, shared by its short-lived gateways
    so a fresh gateway per call does not mean a fresh token per call."""
    import karrio.lib as klib

    digest = hashlib.sha256(
        repr(sorted(account.secrets().items())).encode() + (account.server_url or "").encode()
    ).hexdigest()[:16]
    key = f"{account.id}:{digest}"
    with _CACHES_LOCK:
        cache = _CACHES.get(key)
        if cache is None:
            cache = _CACHES[key] = klib.Cache()
        return cache

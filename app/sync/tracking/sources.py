"""Who may push tracking to ``/v1/webhooks/{source}``, and how each proves it.

A source is a carrier code (every configured account of that carrier is tried — accounts differ
in secrets) or a tracking platform (AfterShip, Sendcloud). Signatures only: these routes take no
API key, because carriers cannot send one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from app.carriers.errors import (
    CarrierNotSupportedError,
    WebhookSignatureError,
)
from app.core.errors import NotFound
from app.models import TrackingEvent
from app.sync.booking.directory import CarrierDirectory
from app.sync.tracking.platforms import AfterShipSource, SendcloudSource

Headers = Mapping[str, str]


class WebhookSource(Protocol):
    code: str

    def verify(self, headers: Headers, body: bytes) -> None: ...

    def parse(self, headers: Headers, body: bytes) -> list[TrackingEvent]: ...


@dataclass
class Verified:
    source: WebhookSource
    account_id: str | None


class CarrierAccountSource:
    """One carrier account's adapter seen as a webhook source."""

    def __init__(self, directory: CarrierDirectory, account_id: str) -> None:
        self.adapter = directory.adapter(account_id)
        self.code = self.adapter.code
        self.account_id = account_id

    def verify(self, headers: Headers, body: bytes) -> None:
        self.adapter.verify_webhook(headers, body)

    def parse(self, headers: Headers, body: bytes) -> list[TrackingEvent]:
        return self.adapter.parse_webhook(headers, body)


class SourceRegistry:
    def __init__(self, directory: CarrierDirectory, platform_secrets: Mapping[str, str]) -> None:
        self.directory = directory
        self.platforms: dict[str, WebhookSource] = {
            "aftership": AfterShipSource(platform_secrets.get("aftership")),
            "sendcloud": SendcloudSource(platform_secrets.get("sendcloud")),
        }

    @classmethod
    def from_json(cls, directory: CarrierDirectory, secrets_json: str | None) -> SourceRegistry:
        return cls(directory, json.loads(secrets_json) if secrets_json else {})

    def verify(self, source: str, headers: Headers, body: bytes) -> Verified:
        """The source that signed ``body``; ``WebhookSignatureError`` if none did."""
        key = source.lower()
        if key in self.platforms:
            self.platforms[key].verify(headers, body)
            return Verified(self.platforms[key], None)
        accounts = [a.id for a in self.directory.accounts.values() if a.carrier == key]
        if not accounts:
            raise NotFound(
                f"no webhook source {source!r}",
                code="unknown_webhook_source",
                details={"known": self.known()},
            )
        last: WebhookSignatureError | None = None
        for account_id in accounts:
            candidate = CarrierAccountSource(self.directory, account_id)
            try:
                candidate.verify(headers, body)
                return Verified(candidate, account_id)
            except CarrierNotSupportedError as exc:
                raise NotFound(str(exc), code="webhooks_not_supported") from exc
            except WebhookSignatureError as exc:
                last = exc
        assert last is not None
        raise last

    def known(self) -> list[str]:
        carriers = {a.carrier for a in self.directory.accounts.values()}
        return sorted(carriers | set(self.platforms))

"""Carrier accounts: who we are at a carrier, and where its API lives.

An account is the unit adapters are built for (DESIGN §6: "built per account"): two UPS accounts
with different negotiated rates are two adapters. Credentials are ``SecretStr`` values so they
never reach a log line, a repr or an error body; ``server_url`` points an account at a proxy or
at the carrier sandbox instead of the carrier's own host.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, field_validator

from app.models import LabelFormat


class CarrierAccount(BaseModel):
    """One carrier account. ``credentials`` keys are the carrier connector's own names
    (``client_id``/``client_secret`` for UPS and USPS, ``api_key`` for EasyPost, ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    carrier: str = Field(min_length=1, max_length=32)
    credentials: dict[str, SecretStr] = Field(default_factory=dict)
    server_url: str | None = None
    test_mode: bool = False
    enabled_services: list[str] = Field(default_factory=list)
    webhook_secret: SecretStr | None = None
    label_format: LabelFormat = LabelFormat.PDF
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    options: dict[str, Any] = Field(
        default_factory=dict, description="Non-secret connector settings (account country, ...)."
    )

    @field_validator("carrier")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("server_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    def secret(self, name: str) -> str | None:
        """The clear value of one credential, for the one place that must send it."""
        value = self.credentials.get(name)
        return value.get_secret_value() if value is not None else None

    def secrets(self) -> dict[str, str]:
        return {k: v.get_secret_value() for k, v in self.credentials.items()}

    def __repr_args__(self) -> Any:
        # Credential names are harmless, values are not; SecretStr already masks the values and
        # this keeps the webhook secret's presence visible without its content.
        for key, value in super().__repr_args__():
            if key == "credentials":
                yield key, sorted(self.credentials)
            else:
                yield key, value


_ACCOUNTS = TypeAdapter(list[CarrierAccount])


def load_accounts(source: str | Path) -> list[CarrierAccount]:
    """Accounts from JSON text or a JSON file: a list of accounts or ``{"accounts": [...]}``.

    Ids must be unique: a booking records the account id, and two accounts answering to one id
    would make a label impossible to void through the right credentials.
    """
    text = _read(source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"carrier accounts are not valid JSON: {exc.msg} (line {exc.lineno})"
        ) from None
    if isinstance(data, dict):
        data = data.get("accounts", data)
    accounts = _ACCOUNTS.validate_python(data)
    seen: set[str] = set()
    for account in accounts:
        if account.id in seen:
            raise ValueError(f"duplicate carrier account id {account.id!r}")
        seen.add(account.id)
    return accounts


def _read(source: str | Path) -> str:
    if isinstance(source, Path):
        return source.read_text(encoding="utf-8")
    stripped = source.lstrip()
    if stripped.startswith(("[", "{")):
        return source
    return Path(source).read_text(encoding="utf-8")

"""Settings: environment variables, and no placeholder secrets outside dev/test."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.config import Settings


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_are_embedded() -> None:
    s = make()
    assert s.database_url.startswith("sqlite")
    assert s.redis_embedded
    assert s.odoo_protocol == "jsonrpc"


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYBILL_ODOO_PROTOCOL", "json2")
    monkeypatch.setenv("WAYBILL_ODOO_API_KEY", "k" * 40)
    monkeypatch.setenv("WAYBILL_DATABASE_URL", "postgresql://u@h/db")
    s = make()
    assert s.odoo_protocol == "json2"
    assert s.odoo_api_key.get_secret_value() == "k" * 40
    assert "k" * 40 not in repr(s)


def test_rejects_unknown_protocol() -> None:
    with pytest.raises(ValidationError, match="odoo_protocol"):
        make(odoo_protocol="soap")


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_placeholder_secrets_refused_outside_dev(env: str) -> None:
    with pytest.raises(ValidationError) as err:
        make(env=env)
    assert "WAYBILL_ODOO_API_KEY" in str(err.value)
    assert "WAYBILL_ODOO_WEBHOOK_TOKEN" in str(err.value)
    ok = make(env=env, odoo_api_key="a" * 40, odoo_webhook_token="t" * 32, api_key_pepper="p" * 40)
    assert ok.env == env


def test_poll_overlap_has_a_floor() -> None:
    with pytest.raises(ValidationError, match="poll_overlap_seconds"):
        make(poll_overlap_seconds=30)

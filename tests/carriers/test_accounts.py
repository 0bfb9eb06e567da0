"""Accounts: loading, validation, and credentials that never print."""

from __future__ import annotations

import json

import pytest

from app.carriers.accounts import CarrierAccount, load_accounts
from app.carriers.errors import CarrierConfigError
from app.carriers.registry import build_adapter, carrier_codes

ACCOUNTS = [
    {
        "id": "ups-main",
        "carrier": "UPS",
        "credentials": {"client_id": "cid", "client_secret": "very-secret-value"},
        "webhook_secret": "hook-secret-value",
        "server_url": "http://127.0.0.1:8999/",
    },
    {"id": "ep", "carrier": "easypost", "credentials": {"api_key": "EZAK-secret-key"}},
]


def test_load_from_text_and_file(tmp_path):
    accounts = load_accounts(json.dumps(ACCOUNTS))
    assert [a.carrier for a in accounts] == ["ups", "easypost"]
    assert accounts[0].server_url == "http://127.0.0.1:8999"
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps({"accounts": ACCOUNTS}))
    assert load_accounts(path) == accounts
    assert load_accounts(str(path)) == accounts


def test_secrets_never_in_repr_or_dump():
    account = load_accounts(json.dumps(ACCOUNTS))[0]
    for text in (repr(account), str(account), account.model_dump_json()):
        assert "very-secret-value" not in text and "hook-secret-value" not in text
    assert account.secret("client_secret") == "very-secret-value"
    adapter = build_adapter(account)
    assert "secret" not in repr(adapter)


def test_duplicate_ids_and_bad_urls_refused():
    with pytest.raises(ValueError, match="duplicate"):
        load_accounts(json.dumps([ACCOUNTS[1], ACCOUNTS[1]]))
    with pytest.raises(ValueError):
        CarrierAccount(id="x", carrier="ups", server_url="ftp://host")


def test_registry_knows_every_carrier_and_refuses_unknown():
    assert carrier_codes() == ["dhl_express", "easypost", "fedex", "ups", "usps"]
    with pytest.raises(CarrierConfigError):
        build_adapter(CarrierAccount(id="x", carrier="pony_express"))


def test_missing_credentials_are_a_config_error():
    account = CarrierAccount(id="x", carrier="easypost")
    with pytest.raises(CarrierConfigError, match="credentials"):
        build_adapter(account).gateway()

"""Every carrier's error answers land on the right class of the error tree.

Bad address / overweight → ``CarrierRejectedError`` subclasses naming the field; 401 → auth;
429 → rate limited with Retry-After; 5xx and timeouts → retryable unavailability.
"""

from __future__ import annotations

import socket

import pytest

from app.carriers.errors import (
    CarrierAddressError,
    CarrierAuthError,
    CarrierConfigError,
    CarrierParcelError,
    CarrierRateLimitedError,
    CarrierTimeoutError,
    CarrierUnavailableError,
)
from app.carriers.registry import build_adapter

from .conftest import intl_request, make_account, us_request

CARRIERS = {
    "ups": (
        {"client_id": "c", "client_secret": "s", "account_number": "A1"},
        ("POST", r"/security/v1/oauth/token", "oauth_token.json"),
        ("POST", r"/Shop"),
    ),
    "fedex": (
        {"api_key": "k", "secret_key": "s", "account_number": "510087020"},
        ("POST", r"/oauth/token", "oauth_token.json"),
        ("POST", r"/rate/v1/rates/quotes"),
    ),
    "dhl_express": (
        {"username": "u", "password": "p", "account_number": "1"},
        None,
        ("POST", r"/rates$"),
    ),
    "usps": (
        {"client_id": "c", "client_secret": "s"},
        ("POST", r"/oauth2/v3/token", "oauth_token.json"),
        ("POST", r"/shipments/v3/options/search"),
    ),
}


def _setup(fake_http, carrier: str, suffix: str):
    creds, auth, _ = CARRIERS[carrier]
    fake = fake_http(carrier)
    if auth:
        import json
        import time

        from .conftest import fixture_json

        token = fixture_json(carrier, auth[2])
        token["issued_at"] = str(int(time.time() * 1000))
        fake.on(auth[0], auth[1], body=json.dumps(token).encode())
    adapter = build_adapter(make_account(carrier, creds, id=f"err-{carrier}-{suffix}"))
    request = intl_request() if carrier == "dhl_express" else us_request()
    return fake, adapter, request


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
@pytest.mark.parametrize(
    ("fixture", "status", "expected", "field_prefix"),
    [
        ("error_bad_address.json", 400, CarrierAddressError, "recipient"),
        ("error_overweight.json", 400, CarrierParcelError, "parcels.weight"),
        ("error_auth.json", 401, CarrierAuthError, None),
        ("error_server.json", 503, CarrierUnavailableError, None),
    ],
)
def test_error_answers_map_to_the_tree(fake_http, carrier, fixture, status, expected, field_prefix):
    fake, adapter, request = _setup(fake_http, carrier, fixture)
    method, path = CARRIERS[carrier][2]
    fake.on(method, path, fixture, status=status)
    with pytest.raises(expected) as info:
        adapter.rate(request)
    err = info.value
    assert err.upstream_status == status
    assert err.carrier == carrier
    if field_prefix:
        assert err.field and err.field.startswith(field_prefix), err.field
        assert err.carrier_message
        assert not err.retryable
    if expected is CarrierUnavailableError:
        assert err.retryable


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_429_is_retryable_with_retry_after(fake_http, carrier):
    fake, adapter, request = _setup(fake_http, carrier, "429")
    method, path = CARRIERS[carrier][2]
    fake.on(method, path, "error_rate_limited.json", status=429, headers={"Retry-After": "7"})
    with pytest.raises(CarrierRateLimitedError) as info:
        adapter.rate(request)
    assert info.value.retryable and info.value.retry_after == 7.0


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_timeout_is_retryable(fake_http, carrier):
    fake, adapter, request = _setup(fake_http, carrier, "timeout")
    method, path = CARRIERS[carrier][2]
    fake.on(method, path, raise_=TimeoutError("timed out"))
    with pytest.raises(CarrierTimeoutError) as info:
        adapter.rate(request)
    assert info.value.retryable


def test_non_loopback_carrier_url_fails_loudly_before_connecting(fake_http):
    fake = fake_http("ups")
    adapter = build_adapter(
        make_account("ups", CARRIERS["ups"][0], id="real-host", server_url=None)
    )
    with pytest.raises(CarrierConfigError, match="loopback"):
        adapter.rate(us_request())
    assert fake.calls == []  # nothing left the process


def test_socket_guard_blocks_non_loopback():
    with socket.socket() as sock, pytest.raises(AssertionError, match="non-loopback"):
        sock.connect(("192.0.2.1", 443))

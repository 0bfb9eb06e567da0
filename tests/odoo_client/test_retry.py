"""Retry policy (§5 "Client-side policy"): retryable errors only, bounded, never auth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs
from tenacity import wait_fixed, wait_random_exponential

from app.sync.odoo import (
    OdooAuthError,
    OdooConcurrencyError,
    OdooInvalidRequestError,
    OdooServerError,
    OdooTransportError,
    OdooValidationError,
)
from app.sync.odoo.retry import build_retrying, default_wait

from .fakes import PROTOCOLS, Call, Fault, Raw, make_client

SERIALIZATION = Fault(
    "psycopg2.errors.SerializationFailure", "could not serialize access due to concurrent update"
)


def failing(times: int, error: Any, then: Any) -> Any:
    state = {"n": 0}

    def handler(call: Call) -> Any:
        state["n"] += 1
        if state["n"] <= times:
            if isinstance(error, type) and issubclass(error, Exception):
                raise error("simulated", request=call.request)
            return error
        return then

    return handler


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_serialization_failure_is_retried_then_succeeds(protocol: str) -> None:
    client, fake = make_client(protocol, failing(2, SERIALIZATION, [{"id": 1}]))
    assert client.search_read("stock.picking", [], ["name"]) == [{"id": 1}]
    assert len(fake.object_calls("search_read")) == 3


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_attempts_are_bounded(protocol: str) -> None:
    client, fake = make_client(protocol, lambda call: SERIALIZATION, retry_attempts=3)
    with pytest.raises(OdooConcurrencyError):
        client.search("stock.picking", [])
    assert len(fake.object_calls("search")) == 3


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unavailable_is_retried(protocol: str) -> None:
    client, fake = make_client(protocol, failing(1, Raw(503, b"<html>busy</html>"), [5]))
    assert client.search("stock.picking", []) == [5]
    assert len(fake.object_calls("search")) == 2


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_rejections_are_never_retried(protocol: str) -> None:
    client, fake = make_client(
        protocol, lambda call: Fault("odoo.exceptions.ValidationError", "no"), retry_attempts=5
    )
    with pytest.raises(OdooValidationError):
        client.write("stock.picking", [1], {"carrier_price": 1.0})
    assert len(fake.object_calls("write")) == 1


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
def test_bad_credentials_authenticate_once_and_are_not_retried(protocol: str) -> None:
    """``authenticate`` returns False (§1.1); 5 failures lock the IP (§1.4): one try only."""
    client, fake = make_client(protocol, api_key="f" * 40, retry_attempts=5)
    with pytest.raises(OdooAuthError) as caught:
        client.search("stock.picking", [])
    assert caught.value.reason == "authenticate_false"
    assert fake.count("authenticate") == 1
    assert fake.object_calls() == []
    # A second use of the same client inside the hold window does not knock again.
    with pytest.raises(OdooAuthError):
        _ = client.uid
    assert fake.count("authenticate") == 1


def test_json2_bad_key_is_not_retried() -> None:
    client, fake = make_client("json2", api_key="f" * 40, retry_attempts=5)
    with pytest.raises(OdooAuthError):
        client.search("stock.picking", [])
    assert len(fake.requests) == 1


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
def test_access_denied_on_an_object_call_is_not_retried(protocol: str) -> None:
    client, fake = make_client(
        protocol,
        lambda call: Fault("odoo.exceptions.AccessDenied", "Access Denied"),
        retry_attempts=5,
    )
    with pytest.raises(OdooAuthError):
        client.read("stock.picking", [1], ["name"])
    assert len(fake.object_calls("read")) == 1


def test_json2_500_value_error_is_not_retried() -> None:
    """JSON-2 reports an invalid field as HTTP 500 (§1.3): the body's name decides, not 5xx."""
    client, fake = make_client(
        "json2",
        lambda c: Fault("builtins.ValueError", "Invalid field 'x' on model 'y'"),
        retry_attempts=5,
    )
    with pytest.raises(OdooInvalidRequestError):
        client.read("stock.picking", [1], ["x"])
    assert len(fake.requests) == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_read_timeout_is_retried_for_reads(protocol: str) -> None:
    client, fake = make_client(protocol, failing(1, httpx.ReadTimeout, [{"id": 3}]))
    assert client.read("stock.picking", [3], ["name"]) == [{"id": 3}]
    assert len(fake.object_calls("read")) == 2


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_read_timeout_on_create_is_not_resent(protocol: str) -> None:
    """The create may have committed; Odoo itself may run it several times (§5). The caller
    must re-read before re-sending, so the client stops and says so."""
    client, fake = make_client(protocol, failing(1, httpx.ReadTimeout, [9]))
    with pytest.raises(OdooTransportError) as caught:
        client.create("res.partner", [{"name": "A"}])
    assert caught.value.maybe_committed is True
    assert caught.value.details["maybe_committed"] is True
    assert caught.value.retryable  # a job may retry, after reading state
    assert len(fake.object_calls("create")) == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_connect_error_on_create_is_resent(protocol: str) -> None:
    """Nothing left the machine, so even a non-idempotent call is safe to send again."""
    client, fake = make_client(protocol, failing(1, httpx.ConnectError, [9]))
    if protocol != "json2":
        _ = client.uid  # log in first: the failure must hit the create itself
    assert client.create("res.partner", [{"name": "A"}]) == [9]
    assert len(fake.object_calls("create")) == 2


def test_a_proxy_502_on_message_post_is_not_resent_but_503_is() -> None:
    client, fake = make_client("jsonrpc", failing(1, Raw(502), 5))
    with pytest.raises(OdooTransportError):
        client.message_post("stock.picking", 1, "<p>x</p>")
    client, fake = make_client("jsonrpc", failing(1, Raw(503), 5))
    assert client.message_post("stock.picking", 1, "<p>x</p>") == 5
    assert len(fake.object_calls("message_post")) == 2


def test_html_instead_of_json_is_a_retryable_transport_error() -> None:
    page = Raw(200, b"<html><body>Maintenance</body></html>")
    client, fake = make_client("jsonrpc", failing(1, page, [1]))
    assert client.search("stock.picking", []) == [1]
    assert len(fake.object_calls("search")) == 2


def test_redirect_is_not_followed_nor_retried() -> None:
    client, fake = make_client(
        "json2",
        lambda c: Raw(303, headers={"location": "http://elsewhere.test/web/login"}),
        retry_attempts=4,
    )
    with pytest.raises(OdooInvalidRequestError) as caught:
        client.search("stock.picking", [])
    assert caught.value.reason == "redirect"
    assert len(fake.requests) == 1


def test_xmlrpc_none_fault_on_unknown_method_is_not_retried() -> None:
    """The fault comes after the commit (§1.1): never re-send."""
    client, fake = make_client("xmlrpc", lambda call: None, retry_attempts=4)
    with pytest.raises(OdooServerError) as caught:
        client.call("stock.picking", "action_custom_thing", [1])
    assert caught.value.reason == "result_not_marshallable"
    assert caught.value.maybe_committed
    assert len(fake.object_calls()) == 1


def test_retry_policy_is_injectable_and_defaults_to_jittered_backoff() -> None:
    assert isinstance(default_wait(), wait_random_exponential)
    sleeps: list[float] = []
    retrying = build_retrying("search", attempts=3, wait=wait_fixed(0.25))
    retrying.sleep = sleeps.append  # type: ignore[method-assign]
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise OdooTransportError("down")
        return "ok"

    assert retrying(flaky) == "ok"
    assert sleeps == [0.25, 0.25]


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_and_logs_for_retries() -> None:
    errors = {
        "model": "stock.picking",
        "method": "search_count",
        "outcome": "odoo_concurrency_error",
    }
    ok = {"model": "stock.picking", "method": "search_count", "outcome": "ok"}
    before_err = _sample("waybill_odoo_rpc_errors_total", errors)
    before_ok = _sample("waybill_odoo_rpc_seconds_count", ok)
    client, _ = make_client("jsonrpc", failing(2, SERIALIZATION, 4))
    with capture_logs() as logs:
        assert client.call("stock.picking", "search_count", domain=[]) == 4
    assert _sample("waybill_odoo_rpc_errors_total", errors) == before_err + 2
    assert _sample("waybill_odoo_rpc_seconds_count", ok) == before_ok + 1
    retries = [e for e in logs if e["event"] == "odoo_rpc_retry"]
    assert [e["attempt"] for e in retries] == [1, 2]
    assert all(e["code"] == "odoo_concurrency_error" for e in retries)
    assert retries[0]["log_level"] == "warning"

"""Each row of the reference's error catalogue (§1.6) lands on the right class, per protocol."""

from __future__ import annotations

import string
import traceback
import xmlrpc.client
from typing import Any

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.core.errors import UpstreamError
from app.sync.odoo import (
    OdooAccessError,
    OdooAuthError,
    OdooConcurrencyError,
    OdooDatabaseError,
    OdooError,
    OdooInvalidRequestError,
    OdooMissingError,
    OdooRejectedError,
    OdooRetryableError,
    OdooServerError,
    OdooTransportError,
    OdooValidationError,
)
from app.sync.odoo.translate import CallInfo, from_xmlrpc_fault, parse_traceback

from .fakes import PROTOCOLS, Fault, Raw, make_client

MISSING_WRITE = (
    "One of the documents you are trying to access has been deleted, please try again after "
    "refreshing.\n\n(Document type: Transfer (stock.picking), Operation: write, Records: [999], "
    "User: 2)"
)
ACL = (
    "You are not allowed to modify 'Transfer' (stock.picking) records.\n\nThis operation is "
    "allowed for the following groups:\n\t- Inventory/User\n\nContact your administrator to "
    "request access if necessary."
)
SQL_NOT_NULL = (
    "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n"
    "- Delete: another model requires the record being deleted. If possible, archive it "
    "instead.\n\nModel: Transfer (stock.picking)\nField: Operation Type (picking_type_id)\n"
)

# (Odoo exception, message, expected class, expected reason) — from §1.6.
CATALOGUE: list[tuple[str, str, type[OdooError], str | None]] = [
    ("odoo.exceptions.AccessDenied", "Access Denied", OdooAuthError, None),
    (
        "odoo.exceptions.AccessDenied",
        "Too many login failures, please wait a bit before trying again.",
        OdooAuthError,
        "login_cooldown",
    ),
    ("odoo.exceptions.AccessError", ACL, OdooAccessError, None),
    (
        "odoo.exceptions.AccessError",
        "Private methods (such as 'ir.model.data._xmlid_to_res_id') cannot be called remotely.",
        OdooAccessError,
        "private_method",
    ),
    (
        "builtins.AttributeError",
        "The method 'stock.picking.frobnicate' does not exist",
        OdooInvalidRequestError,
        "unknown_method",
    ),
    (
        "builtins.AttributeError",
        "The method 'frobnicate' does not exist on the model 'stock.picking'",
        OdooInvalidRequestError,
        "unknown_method",
    ),
    (
        "odoo.exceptions.UserError",
        "Object stock.pickin doesn't exist",
        OdooInvalidRequestError,
        "unknown_model",
    ),
    ("odoo.exceptions.MissingError", MISSING_WRITE, OdooMissingError, None),
    (
        "odoo.exceptions.MissingError",
        "Record does not exist or has been deleted.\n(Record: stock.picking(999,), User: 2)",
        OdooMissingError,
        None,
    ),
    (
        "builtins.ValueError",
        "Invalid field 'foo' on model 'stock.picking'",
        OdooInvalidRequestError,
        "invalid_field",
    ),
    (
        "builtins.ValueError",
        "Invalid field stock.picking.foo in leaf ('foo', '=', 1)",
        OdooInvalidRequestError,
        "invalid_field",
    ),
    (
        "builtins.ValueError",
        "Wrong value for stock.picking.state: 'x'",
        OdooInvalidRequestError,
        "wrong_selection",
    ),
    (
        "builtins.ValueError",
        "Expected singleton: stock.picking(1, 2)",
        OdooInvalidRequestError,
        "singleton",
    ),
    (
        "builtins.ValueError",
        "External ID not found in the system: mail.nope",
        OdooMissingError,
        "xmlid_not_found",
    ),
    (
        "odoo.exceptions.ValidationError",
        "Carrier tracking reference is too long.",
        OdooValidationError,
        None,
    ),
    ("odoo.exceptions.ValidationError", SQL_NOT_NULL, OdooValidationError, None),
    (
        "odoo.exceptions.UserError",
        "You cannot validate a transfer if no quantities are reserved. To force the transfer, "
        "encode quantities.",
        OdooValidationError,
        None,
    ),
    (
        "psycopg2.errors.SerializationFailure",
        "could not serialize access due to concurrent update",
        OdooConcurrencyError,
        None,
    ),
    ("psycopg2.errors.DeadlockDetected", "deadlock detected", OdooConcurrencyError, None),
    (
        "psycopg2.errors.LockNotAvailable",
        'could not obtain lock on row in relation "stock_picking"',
        OdooConcurrencyError,
        None,
    ),
    (
        "psycopg2.OperationalError",
        "server closed the connection unexpectedly",
        OdooDatabaseError,
        None,
    ),
    (
        "psycopg2.OperationalError",
        'connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: FATAL:  '
        'database "nope" does not exist',
        OdooInvalidRequestError,
        "unknown_database",
    ),
    ("builtins.NotImplementedError", "", OdooServerError, "not_implemented"),
    ("builtins.KeyError", "'carrier'", OdooServerError, None),
]


def _raise(fault: Fault) -> Any:
    return lambda call: fault


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(("name", "message", "expected", "reason"), CATALOGUE)
def test_catalogue_row_maps_to_class(
    protocol: str, name: str, message: str, expected: type[OdooError], reason: str | None
) -> None:
    client, _ = make_client(protocol, _raise(Fault(name, message)), retry_attempts=1)
    with pytest.raises(OdooError) as caught:
        client.write("stock.picking", [999], {"state": "x"})
    error = caught.value
    assert type(error) is expected
    assert error.reason == reason
    assert error.details["protocol"] == protocol
    assert (error.details["model"], error.details["method"]) == ("stock.picking", "write")
    assert error.details["odoo_message"] == message
    if protocol != "xmlrpc" or name.startswith("builtins.") or name.startswith("psycopg2"):
        assert error.details["odoo_exception"] == name  # XML-RPC code 2/3/4 loses the subclass
    assert "debug" not in error.details and "debug" not in error.to_body()["details"]


@pytest.mark.parametrize("protocol", ["jsonrpc", "json2"])
def test_19_lock_error_is_retryable_where_its_name_is_known(protocol: str) -> None:
    client, fake = make_client(
        protocol,
        _raise(Fault("odoo.exceptions.LockError", "Cannot grab a lock")),
        version="19.0",
        retry_attempts=2,
    )
    with pytest.raises(OdooConcurrencyError):
        client.write("stock.picking", [1], {"priority": "1"})
    assert len(fake.object_calls("write")) == 2


def test_19_lock_error_over_xmlrpc_is_a_plain_user_error() -> None:
    """/xmlrpc/2 folds every UserError subclass into code 2 (§1.1) and the reference gives no
    LockError message to recognise, so it stays a (non-retried) validation error."""
    client, _ = make_client(
        "xmlrpc",
        _raise(Fault("odoo.exceptions.LockError", "Cannot grab a lock")),
        version="19.0",
    )
    with pytest.raises(OdooValidationError):
        client.write("stock.picking", [1], {"priority": "1"})


def test_jsonrpc_golden_error_body() -> None:
    """§1.2's error example, verbatim, including 17.0/18.0's arbitrary ``code: 200``."""
    golden = {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {
            "code": 200,
            "message": "Odoo Server Error",
            "data": {
                "name": "odoo.exceptions.ValidationError",
                "debug": "Traceback (most recent call last): ...",
                "message": "<human message>",
                "arguments": ["<human message>"],
                "context": {},
            },
        },
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if b'"authenticate"' in request.content:
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": 2})
        return httpx.Response(200, json=golden)

    from app.sync.odoo import OdooClient

    client = OdooClient(
        url="http://odoo.test",
        db="d",
        username="u",
        api_key="k",
        transport=httpx.MockTransport(handler),
    )
    with pytest.raises(OdooValidationError) as caught:
        client.call("stock.picking", "button_validate", [7])
    assert caught.value.details == {
        "odoo_exception": "odoo.exceptions.ValidationError",
        "odoo_message": "<human message>",
        "protocol": "jsonrpc",
        "model": "stock.picking",
        "method": "button_validate",
        "jsonrpc_code": 200,
    }
    assert caught.value.debug == "Traceback (most recent call last): ..."
    assert caught.value.code == "odoo_validation_error"
    assert caught.value.http_status == 502  # an upstream failure at Waybill's API boundary


def test_jsonrpc_session_expired_without_data_is_auth() -> None:
    def handler(call: Any) -> Any:
        return httpx.Response(
            200,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "error": {"code": 100, "message": "Odoo Session Expired"},
            },
        )

    client, _ = make_client("jsonrpc", handler)
    with pytest.raises(OdooAuthError):
        client.read("res.partner", [1], ["name"])


INFO = CallInfo("xmlrpc", "stock.picking", "write")


def test_xmlrpc_chained_traceback_uses_the_final_exception() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/opt/odoo/odoo/fields.py", line 2831, in convert_to_cache\n'
        "    return self.get_values(record.env)[value]\n"
        "           ~~~~~~~~~~~~~~~~~~~~~~~~~~~^^^^^^^\n"
        "KeyError: 'x'\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n"
        '  File "/opt/odoo/odoo/addons/base/controllers/rpc.py", line 150, in xmlrpc_2\n'
        "    response = self._xmlrpc(service)\n"
        '  File "/opt/odoo/odoo/fields.py", line 2838, in convert_to_cache\n'
        '    raise ValueError("Wrong value for %s: %r" % (self, value))\n'
        "ValueError: Wrong value for stock.picking.state: 'x'\n"
    )
    error = from_xmlrpc_fault(1, text, INFO)
    assert isinstance(error, OdooInvalidRequestError)
    assert error.reason == "wrong_selection"
    assert error.odoo_exception == "builtins.ValueError"
    assert error.details["fault_code"] == 1
    assert error.debug == text


def test_xmlrpc_legacy_string_fault_codes() -> None:
    """The legacy ``/xmlrpc`` route (§1.1) — not used by us, but understood."""
    assert isinstance(
        from_xmlrpc_fault("warning -- MissingError\n\nRecord gone", "tb", INFO), OdooMissingError
    )
    assert isinstance(from_xmlrpc_fault("AccessDenied", "tb", INFO), OdooAuthError)


def test_xmlrpc_multiline_message_is_kept() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n'
        "    g()\n"
        "psycopg2.errors.SerializationFailure: could not serialize access due to concurrent "
        "update\nCONTEXT:  SQL statement\n"
    )
    name, message = parse_traceback(text)
    assert name == "psycopg2.errors.SerializationFailure"
    assert message == (
        "could not serialize access due to concurrent update\nCONTEXT:  SQL statement"
    )


_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " .,:;'\"()[]{}<>-_=\n")


@given(
    exc_type=st.sampled_from(
        [
            ValueError,
            AttributeError,
            TypeError,
            NotImplementedError,
            RuntimeError,
            "psycopg2.errors.SerializationFailure",
            "odoo.addons.stock.models.stock_picking.CarrierError",
        ]
    ),
    message=_TEXT,
)
def test_parse_traceback_inverts_format_exception(exc_type: Any, message: str) -> None:
    assume("Traceback" not in message)
    if isinstance(exc_type, str):
        module, _, name = exc_type.rpartition(".")
        exc_type = type(name, (Exception,), {"__module__": module})
    expected = exc_type.__module__ + "." + exc_type.__qualname__
    try:
        raise exc_type(message)
    except Exception as exc:
        text = "".join(traceback.format_exception(exc))
    assert parse_traceback(text) == (expected, message.strip())


def test_xmlrpc_fault_survives_the_real_marshaller() -> None:
    """A fault built by the stdlib (as Odoo's ``dumps`` does) reaches the translator intact."""
    body = xmlrpc.client.dumps(xmlrpc.client.Fault(4, "Private methods (such as ...)"))
    params: Any = None
    with pytest.raises(xmlrpc.client.Fault) as caught:
        params = xmlrpc.client.loads(body)
    assert params is None
    error = from_xmlrpc_fault(caught.value.faultCode, caught.value.faultString, INFO)
    assert isinstance(error, OdooAccessError) and error.reason == "private_method"


@pytest.mark.parametrize(
    ("status", "body", "expected", "reason"),
    [
        (
            401,
            {
                "name": "werkzeug.exceptions.Unauthorized",
                "message": "401 Unauthorized: Invalid apikey",
            },
            OdooAuthError,
            None,
        ),
        (
            404,
            {
                "name": "werkzeug.exceptions.NotFound",
                "message": "404 Not Found: the model 'stock.pickin' does not exist",
            },
            OdooInvalidRequestError,
            "unknown_model",
        ),
        (
            404,
            {
                "name": "werkzeug.exceptions.NotFound",
                "message": "404 Not Found: the method 'frobnicate' does not exist",
            },
            OdooInvalidRequestError,
            "unknown_method",
        ),
        (
            404,
            {"name": "werkzeug.exceptions.NotFound", "message": "404 Not Found"},
            OdooInvalidRequestError,
            "not_found",
        ),
        (
            422,
            {
                "name": "werkzeug.exceptions.UnprocessableEntity",
                "message": "cannot call res.partner.create with ids",
            },
            OdooInvalidRequestError,
            "bad_params",
        ),
        (403, {"name": "odoo.exceptions.AccessError", "message": "no"}, OdooAccessError, None),
        (
            500,
            {
                "name": "builtins.ValueError",
                "message": "Invalid field 'foo' on model 'stock.picking'",
            },
            OdooInvalidRequestError,
            "invalid_field",
        ),
        (
            409,
            {"name": "odoo.exceptions.LockError", "message": "locked"},
            OdooConcurrencyError,
            None,
        ),
        (502, None, OdooTransportError, None),
        (503, None, OdooTransportError, None),
        (401, None, OdooAuthError, None),
    ],
)
def test_json2_status_and_body(
    status: int, body: Any, expected: type[OdooError], reason: str | None
) -> None:
    def handler(call: Any) -> Any:
        if body is None:
            return Raw(status, b"<html><body>Bad Gateway</body></html>")
        return httpx.Response(status, json=body)

    client, _ = make_client("json2", handler, retry_attempts=1)
    with pytest.raises(OdooError) as caught:
        client.call("stock.picking", "search_read", domain=[], fields=["name"])
    assert type(caught.value) is expected
    assert caught.value.reason == reason
    assert caught.value.details["status"] == status


def test_tree_shape_and_codes() -> None:
    retryable = [OdooTransportError, OdooConcurrencyError, OdooDatabaseError]
    rejected = [
        OdooAuthError,
        OdooAccessError,
        OdooMissingError,
        OdooValidationError,
        OdooInvalidRequestError,
        OdooServerError,
    ]
    for cls in retryable:
        assert issubclass(cls, OdooRetryableError) and cls.retryable
    for cls in rejected:
        assert issubclass(cls, OdooRejectedError) and not cls.retryable
    assert issubclass(OdooError, UpstreamError)
    codes = [
        cls.code
        for cls in [OdooError, OdooRetryableError, OdooRejectedError, *retryable, *rejected]
    ]
    assert len(set(codes)) == len(codes)
    assert all(code.startswith("odoo_") for code in codes)

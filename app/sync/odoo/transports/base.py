"""What the three transports share: the interface, argument layout, value encoding, HTTP errors.

A transport turns one ORM call — ``(model, method, ids, named params, context)`` — into one HTTP
request and its answer back into a Python value, raising the :mod:`app.sync.odoo.errors` tree.
It holds no mutable state (the client caches the uid), so one instance serves every thread.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Literal

import httpx
from pydantic import SecretStr

from app.sync.odoo.errors import OdooAuthError, OdooInvalidRequestError, OdooTransportError
from app.sync.odoo.translate import CallInfo, from_http_status

Protocol = Literal["jsonrpc", "xmlrpc", "json2"]

# Over execute_kw, ``args`` is positional and ``kw`` named. JSON-2 only has names (§1.3), so the
# client always passes names and the RPC transports move these ones into ``args``, in order, the
# way the reference's recipes (§6) send them. ``create`` *must* be positional: 17.0/18.0 pick the
# return shape with ``isinstance(args[0], Mapping)`` (§1.1, §3.1), which fails on an empty args.
DEFAULT_POSITIONAL: Mapping[str, tuple[str, ...]] = {
    "create": ("vals_list",),
    "write": ("vals",),
    "search": ("domain",),
    "search_read": ("domain",),
    "search_count": ("domain",),
    "check_object_reference": ("module", "xml_id"),
}

# Methods that return None (§3.3): JSON-RPC omits ``result``; XML-RPC faults *after* committing.
NONE_RETURNING_METHODS = frozenset(
    {"send_to_shipper", "cancel_shipment", "do_unreserve", "print_return_label"}
)

_ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class ServerVersion:
    """The ``common.version()`` answer, reduced to what Waybill branches on."""

    serie: str  # "17.0"
    version: str  # "17.0-20240709"
    version_info: tuple[Any, ...]

    @property
    def major(self) -> int:
        head = str(self.version_info[0]) if self.version_info else self.serie.split(".")[0]
        digits = "".join(ch for ch in head if ch.isdigit())
        return int(digits) if digits else 0


def version_from_info(
    serie: str | None, version: str | None, info: Sequence[Any] | None
) -> ServerVersion:
    """Build a :class:`ServerVersion`; the serie falls back to ``version_info[:2]``."""
    info_t = tuple(info or ())
    if not serie:
        if len(info_t) >= 2:
            serie = f"{info_t[0]}.{info_t[1]}"
        else:
            serie = (version or "").split("-")[0].split("+")[0]
    return ServerVersion(serie=serie, version=version or serie, version_info=info_t)


def encode(value: Any) -> Any:
    """Make a value safe for JSON and XML-RPC the way Odoo expects it on the wire (§1.1).

    Datetimes become UTC ``'YYYY-MM-DD HH:MM:SS'`` strings (naive ones are taken as UTC, which
    is what Odoo stores), dates ``'YYYY-MM-DD'``, Decimals floats, sets and tuples lists.
    """
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime(_ODOO_DATETIME)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def split_args(
    method: str,
    ids: Sequence[int] | None,
    params: Mapping[str, Any],
    positional: Sequence[str] | None,
    context: Mapping[str, Any] | None,
) -> tuple[list[Any], dict[str, Any]]:
    """Lay out ``execute_kw``'s ``args`` and ``kw`` (§1.1).

    ``args[0]`` is the id list for methods that are not ``@api.model``; the context goes only in
    ``kw['context']``.
    """
    names = DEFAULT_POSITIONAL.get(method, ()) if positional is None else tuple(positional)
    kw = {k: encode(v) for k, v in params.items()}
    args: list[Any] = [] if ids is None else [list(ids)]
    for name in names:
        if name not in kw:
            break
        args.append(kw.pop(name))
    if context:
        kw["context"] = encode(context)
    return args, kw


def is_html(response: httpx.Response) -> bool:
    return "html" in response.headers.get("content-type", "").lower()


class Transport(abc.ABC):
    """One protocol. ``call`` runs one ORM method in one Odoo transaction (§1.1, §1.3)."""

    protocol: ClassVar[Protocol]
    needs_uid: ClassVar[bool] = True

    def __init__(self, http: httpx.Client, *, db: str, login: str, api_key: SecretStr) -> None:
        self._http = http
        self._db = db
        self._login = login
        self._api_key = api_key

    @abc.abstractmethod
    def version(self) -> ServerVersion:
        """Server version, without authentication."""

    @abc.abstractmethod
    def authenticate(self) -> int:
        """Check the credentials once and return the uid; raise ``OdooAuthError`` if refused."""

    @abc.abstractmethod
    def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None,
        params: Mapping[str, Any],
        *,
        uid: int | None = None,
        positional: Sequence[str] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Call ``model.method`` with named ``params``; ``positional`` names those that RPC sends
        in ``args`` (defaults: :data:`DEFAULT_POSITIONAL`)."""

    # --- HTTP plumbing --------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        info: CallInfo,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; map httpx failures to :class:`OdooTransportError`.

        Failures before the request left (connect errors, pool timeout) cannot have committed
        anything; a read timeout or a dropped connection may have (``maybe_committed``).
        """
        try:
            return self._http.request(method, path, content=content, headers=headers)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise OdooInvalidRequestError(
                f"invalid Odoo URL: {exc}",
                protocol=info.protocol,
                model=info.model,
                method=info.method,
                reason="bad_url",
            ) from exc
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise self._transport_error(exc, info, maybe_committed=False) from exc
        except httpx.TransportError as exc:  # read/write timeouts, resets, protocol errors
            raise self._transport_error(exc, info, maybe_committed=True) from exc

    @staticmethod
    def _transport_error(
        exc: Exception, info: CallInfo, *, maybe_committed: bool
    ) -> OdooTransportError:
        return OdooTransportError(
            f"Odoo unreachable: {type(exc).__name__}",
            protocol=info.protocol,
            model=info.model,
            method=info.method,
            reason=type(exc).__name__,
            maybe_committed=maybe_committed,
        )

    @staticmethod
    def _not_odoo(response: httpx.Response, info: CallInfo, what: str) -> OdooTransportError:
        """A 200 whose body Odoo did not write (a proxy or maintenance page): retryable."""
        return OdooTransportError(
            f"unexpected response from Odoo endpoint: {what}",
            protocol=info.protocol,
            model=info.model,
            method=info.method,
            reason="not_odoo_response",
            maybe_committed=True,
            extra={
                "status": response.status_code,
                "content_type": response.headers.get("content-type"),
            },
        )


class ServiceRpcTransport(Transport):
    """What XML-RPC and JSON-RPC share: the ``common`` and ``object`` services (§1.1, §1.2).

    Subclasses only encode one ``service.method(*args)`` call on their wire in ``_rpc``.
    """

    @abc.abstractmethod
    def _rpc(self, service: str, method: str, args: list[Any], info: CallInfo) -> Any:
        """Send ``service.method(*args)`` and return its result, or raise the mapped error."""

    def version(self) -> ServerVersion:
        info = CallInfo(self.protocol, None, "version")
        result = self._rpc("common", "version", [], info)
        if not isinstance(result, Mapping):
            raise from_http_status(502, info, detail="version() did not return an object")
        return version_from_info(
            result.get("server_serie"),
            result.get("server_version"),
            result.get("server_version_info"),
        )

    def authenticate(self) -> int:
        info = CallInfo(self.protocol, None, "authenticate")
        args = [self._db, self._login, self._api_key.get_secret_value(), {}]
        uid = self._rpc("common", "authenticate", args, info)
        if isinstance(uid, bool) or not isinstance(uid, int):
            # §1.1: authenticate swallows AccessDenied and returns False.
            raise OdooAuthError(
                "Odoo refused the login or API key",
                odoo_exception="odoo.exceptions.AccessDenied",
                protocol=self.protocol,
                method="authenticate",
                reason="authenticate_false",
            )
        return uid

    def execute_kw(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None,
        params: Mapping[str, Any],
        *,
        uid: int | None,
        positional: Sequence[str] | None,
        context: Mapping[str, Any] | None,
    ) -> Any:
        """``execute_kw(db, uid, key, model, method, args, kw)`` on the ``object`` service."""
        info = CallInfo(self.protocol, model, method)
        args, kw = split_args(method, ids, params, positional, context)
        envelope = [self._db, uid, self._api_key.get_secret_value(), model, method, args, kw]
        return self._rpc("object", "execute_kw", envelope, info)

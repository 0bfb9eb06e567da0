"""The ``common`` and ``object`` services and the JSON-2 call path, protocol-independent.

This is Odoo's ``dispatch_rpc`` / ``service.model.execute_kw`` / ``call_kw`` (reference §1.1)
and 19.0's JSON-2 controller (§1.3): authentication on every call, method exposure, the ids
convention (``args[0]`` for record methods), ``context`` taken from ``kw``, one transaction per
call, and the version-specific shaping of results:

* ``create`` returns an int for a dict and a list for a list (JSON-2: always a list);
* ``@api.returns`` methods (``message_post``) give an id in 17.0/18.0;
* any other recordset stays a recordset in 17.0/18.0, which the protocols cannot serialize
  properly (XML-RPC fault, JSON-RPC ``str()``), and becomes ``.ids`` in 19.0.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from .auth import Authenticator
from .errors import (
    AccessDenied,
    LockError,
    LockNotAvailable,
    NotFound,
    OperationalError,
    SerializationFailure,
    Unauthorized,
    UnprocessableEntity,
)
from .methods import (
    Method,
    Records,
    check_method_name_17,
    get_public_method,
    model_methods,
)
from .orm import Database

RELEASES: dict[str, tuple[str, list[Any]]] = {
    "17.0": ("17.0-20240709", [17, 0, 0, "final", 0, ""]),
    "18.0": ("18.0-20250702", [18, 0, 0, "final", 0, ""]),
    "19.0": ("19.0+e-20251227", [19, 0, 0, "final", 0, ""]),
}

SERIALIZATION_MESSAGE = "could not serialize access due to concurrent update\n"


def injected_error(kind: str, version: str, model: str) -> Exception:
    """The exception a concurrency fault reaches the client as (reference §5)."""
    if kind == "serialization":
        return SerializationFailure(SERIALIZATION_MESSAGE)
    if version == "19.0":
        return LockError(
            f"Cannot grab a lock on {model} records: they are being modified by another "
            "transaction."
        )
    table = model.replace(".", "_")
    return LockNotAvailable(f'could not obtain lock on row in relation "{table}"\n')


class OdooService:
    """One sandbox server's RPC services."""

    def __init__(self, db: Database, auth: Authenticator) -> None:
        self.db = db
        self.auth = auth
        self.version = db.version
        self._methods: dict[str, dict[str, Method]] = {}

    def version_info(self) -> dict[str, Any]:
        """``common.version()`` (``RPC_VERSION_1``)."""
        server_version, info = RELEASES[self.version]
        return {
            "server_version": server_version,
            "server_version_info": list(info),
            "server_serie": self.version,
            "protocol_version": 1,
        }

    def methods(self, model: str) -> dict[str, Method]:
        methods = self._methods.get(model)
        if methods is None:
            schema = self.db.model(model)
            has_thread = "message_ids" in schema.fields
            methods = model_methods(model, has_thread, self.version)
            self._methods[model] = methods
        return methods

    def _check_db(self, name: object) -> None:
        if name != self.db.name:
            raise OperationalError(
                f'connection to server failed: FATAL:  database "{name}" does not exist\n'
            )

    # -- common -------------------------------------------------------------------------------

    def common(self, method: str, params: Sequence[Any], source: str) -> Any:
        if method == "version":
            return self.version_info()
        if method == "about":
            extended = bool(params[0]) if params else False
            info = "See http://openerp.com"
            return [info, RELEASES[self.version][0]] if extended else info
        if method == "login":
            db, login, password = params
            return self._authenticate(db, login, password, source)
        if method == "authenticate":
            db, login, password, _user_agent_env = params
            return self._authenticate(db, login, password, source)
        raise KeyError(f"exp_{method}")

    def _authenticate(self, db: object, login: object, password: object, source: str) -> Any:
        """``exp_authenticate``: the uid, or ``False`` (the AccessDenied is swallowed)."""
        self._check_db(db)
        try:
            return self.auth.authenticate(login, password, source)
        except AccessDenied:
            return False

    # -- object -------------------------------------------------------------------------------

    def object(
        self, method: str, params: Sequence[Any], source: str, fault: str | None = None
    ) -> Any:
        """``service.model.dispatch``: ``execute`` and ``execute_kw``."""
        db, uid, password = params[0], params[1], params[2]
        self._check_db(db)
        uid = int(uid)
        self.auth.check(uid, password, source)
        if method == "execute":
            model, name, *args = params[3:]
            return self.call(uid, model, name, list(args), {}, fault=fault)
        if method == "execute_kw":
            rest = list(params[3:])
            model, name, args = rest[0], rest[1], rest[2]
            kw = rest[3] if len(rest) > 3 and rest[3] is not None else {}
            if not isinstance(kw, Mapping):
                raise TypeError("execute_kw() argument after ** must be a mapping")
            return self.call(uid, model, name, list(args), dict(kw), fault=fault)
        raise NameError(f"Method not available {method}")

    def call(
        self,
        uid: int,
        model: str,
        name: str,
        args: list[Any],
        kw: dict[str, Any],
        *,
        fault: str | None = None,
    ) -> Any:
        """``execute_cr`` + ``call_kw`` inside one transaction."""
        if self.version == "17.0":
            check_method_name_17(name)
        context = kw.pop("context", None) or {}
        with self.db.transaction(uid, context) as env:
            self.db.model(model)
            method = get_public_method(self.version, model, name, self.methods(model))
            if fault:
                raise injected_error(fault, self.version, model)
            if method.model_level:
                records = Records(env, model, [])
                call_args = args
            else:
                if not args:
                    raise IndexError("list index out of range")
                records = Records(env, model, _browse_ids(args[0]))
                call_args = args[1:]
            result = method.func(records, *call_args, **kw)
            return self._shape(method, result, call_args)

    def _shape(self, method: Method, result: Any, args: Sequence[Any]) -> Any:
        if not isinstance(result, Records):
            return result
        if method.name == "create":
            if args and isinstance(args[0], Mapping):
                return result.ids[0]
            return result.ids
        if self.version == "19.0":
            return result.ids
        if method.returns_id:
            return result.ids[0] if result.ids else False
        return result

    # -- JSON-2 -------------------------------------------------------------------------------

    def json2(
        self,
        *,
        database: str | None,
        api_key: str | None,
        model: str,
        name: str,
        body: Mapping[str, Any],
        fault: str | None = None,
    ) -> Any:
        """19.0 ``/json/2/<model>/<method>`` (reference §1.3)."""
        if api_key is None or not self.auth.key_ok(api_key):
            raise Unauthorized("Invalid apikey", headers={"WWW-Authenticate": "bearer"})
        if database is not None and database != self.db.name:
            raise NotFound(f"database {database!r} not found")
        if model not in self.db.schema:
            raise NotFound(f"the model {model!r} does not exist")
        try:
            method = get_public_method(self.version, model, name, self.methods(model))
        except AttributeError as exc:
            raise NotFound(f"the method {name!r} does not exist on model {model!r}") from exc
        params = dict(body)
        ids = params.pop("ids", [])
        context = params.pop("context", {}) or {}
        if method.model_level and ids:
            raise UnprocessableEntity(f"cannot call {model}.{name} with ids")
        with self.db.transaction(self.auth.uid, context) as env:
            records = Records(env, model, _browse_ids(ids) if ids else [])
            try:
                inspect.signature(method.func).bind(records, **params)
            except TypeError as exc:
                raise UnprocessableEntity(str(exc)) from exc
            if fault:
                raise injected_error(fault, self.version, model)
            result = method.func(records, **params)
            if isinstance(result, Records):
                return result.ids
            return result


def _browse_ids(value: Any) -> list[int]:
    if value is False or value is None:
        return []
    if isinstance(value, bool):
        raise TypeError(f"Invalid ids {value!r}")
    if isinstance(value, int):
        return [value]
    if isinstance(value, list | tuple):
        return [int(v) for v in value]
    raise TypeError(f"Invalid ids {value!r}")

"""``OdooSandbox``: one fake Odoo database and server for one Odoo version.

Used by the tests of Waybill's Odoo client and by ``waybill demo``. The Python API below is a
contract: the client's tests and the demo use exactly these names.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from starlette.applications import Starlette

from . import business
from .auth import Authenticator
from .controls import AutomationWebhook, FaultInjector, RpcLog, WebhookDelivery
from .demo_data import DemoData, default_api_key
from .dispatch import OdooService
from .models import BEHAVIOURS
from .orm import SUPERUSER_ID, Database, Env
from .protocols.base import Runtime
from .schema import SUPPORTED_VERSIONS, Field, ModelSchema, load_schema

ADMIN_UID = 2


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _with_delivery_types(
    schema: dict[str, ModelSchema], extra: Sequence[str]
) -> dict[str, ModelSchema]:
    """Add carrier connector types to ``delivery_type`` the way ``selection_add`` does."""
    if not extra:
        return schema
    patched = dict(schema)
    for model in ("delivery.carrier", "stock.picking"):
        fields = dict(patched[model].fields)
        current: Field = fields["delivery_type"]
        values = tuple(dict.fromkeys((*(current.selection or ()), *extra)))
        fields["delivery_type"] = dataclasses.replace(current, selection=values)
        patched[model] = dataclasses.replace(patched[model], fields=fields)
    return patched


class OdooSandbox:
    """A fake Odoo 17.0/18.0/19.0 server for the models and methods Waybill uses.

    ``clock`` (UTC, naive or aware) drives ``write_date`` and the demo data's dates; give a
    fixed one to get byte-identical databases from the same ``seed``.
    ``connector_delivery_types`` adds carrier connector values (e.g. ``"ups_rest"``) to the
    ``delivery_type`` selection; carriers of those types issue sandbox tracking numbers and
    can cancel shipments, unlike the built-in ``fixed``/``base_on_rule`` ones.
    """

    def __init__(
        self,
        version: str = "17.0",
        db: str = "waybill-demo",
        login: str = "admin",
        password: str = "admin",
        api_key: str | None = None,
        seed: int = 42,
        demo_data: bool = True,
        latency_ms: float = 0,
        *,
        clock: Callable[[], datetime] | None = None,
        subsecond_write_dates: bool = False,
        login_cooldown_after: int = 5,
        login_cooldown_duration: float = 60.0,
        connector_delivery_types: Sequence[str] = (),
        timeout_seconds: float = 30.0,
    ) -> None:
        if version not in SUPPORTED_VERSIONS:
            raise ValueError(
                f"unsupported Odoo version {version!r}; use one of {SUPPORTED_VERSIONS}"
            )
        self.version = version
        self.db = db
        self.login = login
        self.password = password
        self.api_key = api_key or default_api_key(seed)
        self.uid = ADMIN_UID
        self.seed = seed
        self._latency_ms = float(latency_ms)
        self._latency_lock = threading.Lock()
        schema = _with_delivery_types(dict(load_schema(version)), connector_delivery_types)
        self.database = Database(
            name=db,
            version=version,
            schema=schema,
            behaviours=BEHAVIOURS,
            clock=clock or _utcnow,
            subsecond_write_dates=subsecond_write_dates,
        )
        self.auth = Authenticator(
            login=login,
            password=password,
            api_key=self.api_key,
            uid=ADMIN_UID,
            cooldown_after=login_cooldown_after,
            cooldown_duration=login_cooldown_duration,
        )
        self.service = OdooService(self.database, self.auth)
        self.faults = FaultInjector()
        self.faults.timeout_seconds = timeout_seconds
        self.rpc_log = RpcLog()
        self.webhook = AutomationWebhook(self.database)
        self.database.watchers.append(self.webhook.watcher)
        self.shutdown_event = threading.Event()
        self._demo = DemoData(seed)
        with self.database.transaction(SUPERUSER_ID) as env:
            self._demo.seed_base(env, login=login)
            if demo_data:
                self._demo.seed_business(env)

    # -- server ---------------------------------------------------------------------------

    @cached_property
    def asgi_app(self) -> Starlette:
        from .server import build_app

        runtime = Runtime(
            service=self.service,
            faults=self.faults,
            rpc_log=self.rpc_log,
            latency_seconds=lambda: self.latency_ms / 1000.0,
            shutdown=self.shutdown_event,
        )
        return build_app(self, runtime)

    @property
    def latency_ms(self) -> float:
        with self._latency_lock:
            return self._latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        if value < 0:
            raise ValueError("latency_ms must be >= 0")
        with self._latency_lock:
            self._latency_ms = float(value)

    # -- data -----------------------------------------------------------------------------

    def records(self, model: str) -> list[dict[str, Any]]:
        """Copies of the stored rows of ``model`` (stored columns only, Python values)."""
        with self.database.lock:
            self.database.model(model)
            return [dict(row) for row in self.database.store.rows(model)]

    def get(self, model: str, rid: int) -> dict[str, Any] | None:
        with self.database.lock:
            self.database.model(model)
            row = self.database.store.row(model, rid)
            return dict(row) if row is not None else None

    def create(self, model: str, vals: dict[str, Any]) -> int:
        """Create a record as the system user, with Odoo's validation."""
        with self.database.transaction(SUPERUSER_ID) as env:
            return env.create_one(model, vals)

    def write(self, model: str, ids: int | Sequence[int], vals: dict[str, Any]) -> None:
        id_list = [ids] if isinstance(ids, int) else list(ids)
        with self.database.transaction(SUPERUSER_ID) as env:
            env.write(model, id_list, vals)

    def unlink(self, model: str, ids: int | Sequence[int]) -> None:
        id_list = [ids] if isinstance(ids, int) else list(ids)
        with self.database.transaction(SUPERUSER_ID) as env:
            env.unlink(model, id_list)

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a method like ``execute_kw`` would, as the admin user, without the network."""
        return self.service.call(self.uid, model, method, list(args), dict(kwargs))

    def run(self, func: Callable[[Env], Any], uid: int = SUPERUSER_ID) -> Any:
        """Run ``func(env)`` in one transaction (escape hatch for fixtures)."""
        with self.database.transaction(uid) as env:
            return func(env)

    # -- pickings ---------------------------------------------------------------------------

    def mark_ready(self, picking_id: int) -> None:
        """Reserve a transfer: it becomes ``assigned`` (Ready) with a new ``write_date``."""
        with self.database.transaction(SUPERUSER_ID) as env:
            business.mark_ready(env, picking_id)

    def release_pickings(self, n: int) -> list[int]:
        """Make ``n`` outgoing transfers Ready; new sales orders are created when none wait."""
        released: list[int] = []
        with self.database.transaction(SUPERUSER_ID) as env:
            waiting = env.search(
                "stock.picking",
                [("picking_type_code", "=", "outgoing"), ("state", "in", ["confirmed", "waiting"])],
                order="id asc",
            )
            for picking in waiting[:n]:
                business.mark_ready(env, picking)
                released.append(picking)
            while len(released) < n:
                picking = self._demo.new_outgoing_order(env, state="confirmed")
                business.mark_ready(env, picking)
                released.append(picking)
        return released

    # -- controls ---------------------------------------------------------------------------

    def set_automation_webhook(
        self,
        url: str | None,
        fields: list[str],
        duplicates: int = 1,
        *,
        trigger_fields: Sequence[str] = ("state",),
    ) -> None:
        """Configure (or, with ``url=None``, remove) the picking automation webhook (§4.1)."""
        self.webhook.configure(url, fields, duplicates, trigger_fields)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return list(self.webhook.deliveries)

    def wait_for_webhooks(self, timeout: float = 5.0) -> None:
        self.webhook.wait(timeout)

    def fail_next(self, n: int, kind: str) -> None:
        """The next ``n`` object calls fail: ``serialization``, ``unavailable``, ``timeout``
        or ``lock`` (19.0 ``LockError``; ``psycopg2.errors.LockNotAvailable`` before)."""
        self.faults.fail_next(n, kind)

    @property
    def timeout_seconds(self) -> float:
        return self.faults.timeout_seconds

    @timeout_seconds.setter
    def timeout_seconds(self, value: float) -> None:
        self.faults.timeout_seconds = float(value)

    @property
    def rpc_calls(self) -> Counter[tuple[str, str]]:
        return self.rpc_log.counter()

    def reset_rpc_calls(self) -> None:
        self.rpc_log.reset()

    def reset_login_failures(self) -> None:
        self.auth.reset_failures()

    def status(self) -> dict[str, Any]:
        with self.database.lock:
            counts = {m: self.database.store.count(m) for m in sorted(self.database.schema)}
        return {
            "version": self.version,
            "db": self.db,
            "login": self.login,
            "uid": self.uid,
            "records": counts,
        }

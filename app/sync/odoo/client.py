"""``OdooClient``: the one way Waybill talks to Odoo (DESIGN.md §5).

A synchronous facade — it runs in RQ jobs and FastAPI threadpool handlers — over one of three
transports (JSON-RPC, XML-RPC, 19.0 JSON-2), one pooled ``httpx.Client`` with explicit timeouts,
and a tenacity retry policy (:mod:`app.sync.odoo.retry`). It is thread-safe: transports are
stateless and the per-client caches (uid, ``ir.model`` ids, xml ids, server version) are guarded
by locks; the login runs once even when many threads ask for it at the same time, because every
failed login counts toward Odoo's per-IP cooldown (§1.4).

Each public method is one or a few RPCs, never one per record (§5 "Limits and batch sizes"):
``search_read`` pages with a keyset on ``id``, ``read`` chunks id lists, ``create`` sends a list,
``write_many`` groups ids that share values. Return shapes are normalised across versions and
protocols (``create`` → ``list[int]``, ``message_post`` → ``int``; §1.1, §3.1, §7).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import structlog
from pydantic import SecretStr
from tenacity import RetryCallState
from tenacity.wait import wait_base

from app.sync.odoo.errors import (
    OdooAccessError,
    OdooAuthError,
    OdooError,
    OdooMissingError,
    OdooServerError,
)
from app.sync.odoo.metrics import observe
from app.sync.odoo.retry import build_retrying
from app.sync.odoo.transports import Protocol, ServerVersion, Transport, make_transport
from app.sync.odoo.transports.base import encode

if TYPE_CHECKING:
    from app.core.config import Settings

T = TypeVar("T")
log = structlog.get_logger("waybill.odoo")

MAX_PAGE_SIZE = 500
# §5: "create batches of at most about 100 dicts" (INSERT_BATCH_SIZE = 100 in the ORM).
CREATE_BATCH_SIZE = 100
WRITE_BATCH_SIZE = 500
# §1.4: after 5 failed logins Odoo refuses the IP for base.login_cooldown_duration (60 s).
AUTH_FAILURE_HOLD_SECONDS = 60.0
_ID_ORDER = re.compile(r"^\s*id(?:\s+(?P<dir>asc|desc))?\s*$", re.IGNORECASE)
_XMLID = re.compile(r"^(?P<module>[\w-]+)\.(?P<name>[\w.-]+)$")
_DEFAULT_USER_AGENT = "waybill-odoo-client/0.1"


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """httpx's default verifying context (the certifi CA bundle), built once per process.

    httpx builds one per client otherwise, loading the bundle each time — about 10 ms of CPU,
    paid by every RQ work-horse that writes to Odoo. ``app.core.worker`` builds it before the
    first fork, so the horses inherit it. Verification is unchanged."""
    return httpx.create_ssl_context()


class OdooClient:
    """Typed, batched access to one Odoo database as one user (see the module docstring)."""

    def __init__(
        self,
        *,
        url: str,
        db: str,
        username: str,
        api_key: str | SecretStr,
        protocol: Protocol = "jsonrpc",
        timeout: float = 15.0,
        retry_attempts: int = 4,
        page_size: int = 200,
        transport: httpx.BaseTransport | None = None,
        retry_wait: wait_base | None = None,
        auth_failure_hold: float = AUTH_FAILURE_HOLD_SECONDS,
    ) -> None:
        """``transport`` is an httpx transport (tests pass ``httpx.MockTransport``);
        ``retry_wait`` a tenacity wait (tests pass ``wait_none()`` so nothing sleeps);
        ``auth_failure_hold`` how long a refused login is answered from memory."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{MAX_PAGE_SIZE}, got {page_size}")
        if retry_attempts < 1:
            raise ValueError("retry_attempts must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._db = db
        self._page_size = page_size
        self._retry_attempts = retry_attempts
        self._retry_wait = retry_wait
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            transport=transport,
            follow_redirects=False,  # a redirect means a misconfigured URL; never re-send the key
            headers={"User-Agent": _DEFAULT_USER_AGENT},
            verify=tls_context(),
        )
        self._rpc: Transport = make_transport(
            protocol, self._http, db=db, login=username, api_key=key
        )
        self._auth_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._uid: int | None = None
        self._auth_hold = auth_failure_hold
        self._auth_failure: tuple[float, OdooAuthError] | None = None
        self._version: ServerVersion | None = None
        self._model_ids: dict[str, int] = {}
        self._xmlids: dict[str, int] = {}
        self._ir_model_denied = False

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        retry_wait: wait_base | None = None,
    ) -> OdooClient:
        return cls(
            url=settings.odoo_url,
            db=settings.odoo_db,
            username=settings.odoo_username,
            api_key=settings.odoo_api_key,
            protocol=settings.odoo_protocol,
            timeout=settings.odoo_timeout_seconds,
            retry_attempts=settings.odoo_retry_attempts,
            page_size=settings.odoo_page_size,
            transport=transport,
            retry_wait=retry_wait,
        )

    # --- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OdooClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"OdooClient(url={str(self._http.base_url)!r}, db={self._db!r}, "
            f"protocol={self.protocol!r})"
        )

    # --- identity and health -------------------------------------------------------------

    @property
    def protocol(self) -> str:
        return self._rpc.protocol

    @property
    def page_size(self) -> int:
        return self._page_size

    def version_info(self) -> ServerVersion:
        """``common.version()`` (JSON-2: ``/json/version``), cached per client."""
        version = self._version
        if version is None:
            version = self._run(None, "version", self._rpc.version)
            self._version = version
        return version

    def server_version(self) -> str:
        """The serie, e.g. ``"17.0"``."""
        return self.version_info().serie

    @property
    def uid(self) -> int:
        """Our user id, authenticating lazily once per client.

        RPC: ``common.authenticate`` with the API key as password (§1.4); it returns ``False``
        for bad credentials → :class:`OdooAuthError`, never retried. JSON-2: ``context_get``.
        A refusal is remembered for ``auth_failure_hold`` seconds: every failed login counts
        toward Odoo's per-IP cooldown (5 failures → 60 s lock-out for all of Waybill's workers),
        so callers that keep using a misconfigured client must not keep knocking.
        """
        uid = self._uid
        if uid is not None:
            return uid
        with self._auth_lock:  # one login at a time
            if self._uid is not None:
                return self._uid
            failure = self._auth_failure
            if failure is not None and time.monotonic() < failure[0]:
                raise failure[1].with_traceback(None)
            try:
                uid = self._run(None, "authenticate", self._rpc.authenticate)
            except OdooAuthError as exc:
                self._auth_failure = (time.monotonic() + self._auth_hold, exc)
                raise
            self._uid, self._auth_failure = uid, None
            return uid

    def ping(self) -> bool:
        """Reachability for ``/ready``: one unauthenticated version call, no retry."""
        try:
            self._run(None, "version", self._rpc.version, attempts=1)
        except OdooError:
            return False
        return True

    # --- generic -------------------------------------------------------------------------

    def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        """Call any public ORM method with named parameters (``execute_kw`` / JSON-2).

        Pass ``ids`` for record methods (not ``@api.model``). The raw result is returned;
        for ``create`` and ``message_post`` prefer the typed helpers, which normalise shapes.
        """
        return self._call(model, method, ids, params, context=context)

    # --- search and read -----------------------------------------------------------------

    def search(
        self,
        model: str,
        domain: Sequence[Any],
        *,
        order: str | None = None,
        limit: int | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        params: dict[str, Any] = {"domain": list(domain)}
        if order is not None:
            params["order"] = order
        if limit is not None:
            params["limit"] = limit
        return list(self._call(model, "search", None, params, context=context))

    def search_read(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        order: str = "id asc",
        limit: int | None = None,
        page_size: int | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """All matching records (up to ``limit``), fetched page by page."""
        records: list[dict[str, Any]] = []
        for page in self.iter_search_read(
            model,
            domain,
            fields,
            order=order,
            limit=limit,
            page_size=page_size,
            context=context,
        ):
            records.extend(page)
        return records

    def iter_search_read(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        order: str = "id asc",
        limit: int | None = None,
        page_size: int | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of at most ``page_size`` records (§5 recommends 100–500).

        Ordered by ``id`` alone, pages use a keyset (``('id', '>', last_id)``), which neither
        skips nor repeats records when others are created or deleted meanwhile. Any other order
        pages by ``offset`` with ``id`` appended as a tie-breaker so the order is total. For a
        ``write_date`` poll, pass the keyset leaf of §5 in ``domain`` yourself.
        """
        size = self._checked_page_size(page_size)
        match = _ID_ORDER.match(order)
        descending = bool(match and (match.group("dir") or "").lower() == "desc")
        if match:
            order = "id desc" if descending else "id asc"
        elif not _orders_by_id(order):
            order = f"{order}, id asc"
        base = list(domain)
        remaining = limit
        offset = 0
        last_id: int | None = None
        while remaining is None or remaining > 0:
            want = size if remaining is None else min(size, remaining)
            params: dict[str, Any] = {
                "domain": base,
                "fields": list(fields),
                "limit": want,
                "order": order,
            }
            if match and last_id is not None:
                params["domain"] = [*base, ["id", "<" if descending else ">", last_id]]
            elif offset:
                params["offset"] = offset
            page = list(self._call(model, "search_read", None, params, context=context))
            if page:
                yield page
            if len(page) < want:
                return
            offset += len(page)
            last_id = int(page[-1]["id"])
            if remaining is not None:
                remaining -= len(page)

    def read(
        self,
        model: str,
        ids: Sequence[int],
        fields: Sequence[str],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Read ``ids`` in chunks of ``page_size``; ids that no longer exist are silently
        absent from the result, as Odoo does (§1.6 "read ... on a deleted id: no error")."""
        records: list[dict[str, Any]] = []
        for chunk in _chunks(ids, self._page_size):
            records.extend(
                self._call(model, "read", chunk, {"fields": list(fields)}, context=context)
            )
        return records

    # --- write ---------------------------------------------------------------------------

    def create(
        self,
        model: str,
        vals_list: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """Create records, ``CREATE_BATCH_SIZE`` per RPC; returns their ids in order.

        Sent as a *list* so every version returns a list (§3.1). ``create`` is not retried after
        an ambiguous failure (see :mod:`app.sync.odoo.retry`); if a later batch fails, the ids
        already created are in the error's ``details["created_ids"]``.
        """
        created: list[int] = []
        for chunk in _chunks(vals_list, CREATE_BATCH_SIZE):
            try:
                result = self._call(
                    model,
                    "create",
                    None,
                    {"vals_list": [dict(v) for v in chunk]},
                    context=context,
                )
            except OdooError as exc:
                if created:
                    exc.details["created_ids"] = list(created)
                raise
            created.extend(_as_id_list(result, model, "create"))
        return created

    def write(
        self,
        model: str,
        ids: Sequence[int],
        vals: Mapping[str, Any],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> bool:
        """One ``write`` for many ids sharing ``vals`` (chunked at ``WRITE_BATCH_SIZE``).

        A deleted id raises :class:`OdooMissingError` (§1.6). Do not write non-stored computed
        fields such as ``shipping_weight`` in 17/18: they are silently dropped (§2.1).
        """
        ok = True
        for chunk in _chunks(ids, WRITE_BATCH_SIZE):
            ok = (
                bool(self._call(model, "write", chunk, {"vals": dict(vals)}, context=context))
                and ok
            )
        return ok

    def write_many(
        self,
        model: str,
        updates: Mapping[int, Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> int:
        """Write per-record values with one ``write`` per distinct ``vals``; returns the RPC
        count. Ten pickings getting the same state cost one call (DESIGN.md §5 "Batch")."""
        groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
        for record_id, vals in updates.items():
            key = json.dumps(encode(vals), sort_keys=True, default=str)
            groups.setdefault(key, (dict(vals), []))[1].append(int(record_id))
        calls = 0
        for vals, ids in groups.values():
            for chunk in _chunks(ids, WRITE_BATCH_SIZE):
                self._call(model, "write", chunk, {"vals": vals}, context=context)
                calls += 1
        return calls

    def unlink(
        self, model: str, ids: Sequence[int], *, context: Mapping[str, Any] | None = None
    ) -> bool:
        ok = True
        for chunk in _chunks(ids, WRITE_BATCH_SIZE):
            ok = bool(self._call(model, "unlink", chunk, {}, context=context)) and ok
        return ok

    # --- chatter and attachments ---------------------------------------------------------

    def message_post(
        self,
        model: str,
        res_id: int,
        body_html: str,
        *,
        subject: str | None = None,
        message_type: str = "comment",
        subtype_xmlid: str = "mail.mt_note",
        attachment_ids: Sequence[int] | None = None,
    ) -> int:
        """Post on a record's chatter; returns the ``mail.message`` id.

        §2.9: a singleton, keyword-only parameters, and ``body_is_html=True`` — otherwise a str
        body is HTML-escaped. 17.0/18.0 return the id, 19.0 ``[id]``; both become ``int``.
        ``mail.mt_note`` is an internal note (no follower e-mails).
        """
        params: dict[str, Any] = {
            "body": body_html,
            "body_is_html": True,
            "message_type": message_type,
            "subtype_xmlid": subtype_xmlid,
        }
        if subject is not None:
            params["subject"] = subject
        if attachment_ids:
            params["attachment_ids"] = [int(i) for i in attachment_ids]
        result = self._call(model, "message_post", [int(res_id)], params)
        return _as_single_id(result, model, "message_post")

    def note_values(
        self, model: str, res_id: int, body_html: str, *, subject: str | None = None
    ) -> dict[str, Any]:
        """``mail.message`` values for an internal note, as :meth:`message_post` would write it
        with its defaults (``comment``, ``mail.mt_note``).

        Many records' notes then go in one ``mail.message`` ``create`` instead of one
        ``message_post`` each. Odoo allows that create to anyone who may write the document
        (``mail.message`` access rules, "create": access on the related document), the same
        right ``message_post`` needs. A note notifies nobody either way; what the create skips
        is ``message_post``'s follower notification, which notes do not send.
        """
        vals: dict[str, Any] = {
            "model": model,
            "res_id": int(res_id),
            "body": body_html,
            "message_type": "comment",
            "subtype_id": self.xmlid_to_res_id("mail.mt_note"),
        }
        if subject is not None:
            vals["subject"] = subject
        return vals

    def attach(self, res_model: str, res_id: int, name: str, data: bytes, mimetype: str) -> int:
        """Create one ``ir.attachment`` (base64 ``datas``) on a record; returns its id.

        One attachment per RPC because label payloads are large (§5). Images are sent with
        ``image_no_postprocess`` so Odoo does not resize a label (§2.6).
        """
        vals = {
            "name": name,
            "type": "binary",
            "datas": base64.b64encode(data).decode("ascii"),
            "res_model": res_model,
            "res_id": int(res_id),
            "mimetype": mimetype,
        }
        context = {"image_no_postprocess": True} if mimetype.startswith("image/") else None
        return self.create("ir.attachment", [vals], context=context)[0]

    # --- lookups -------------------------------------------------------------------------

    def xmlid_to_res_id(self, xmlid: str) -> int:
        """Resolve ``module.name`` with ``ir.model.data.check_object_reference`` (§2.11).

        ``_xmlid_to_res_id`` is private and ``search_read`` on ``ir.model.data`` needs the
        Access Rights group, while ``check_object_reference`` works for any user. An unknown
        xml id is :class:`OdooMissingError`; an unreadable target :class:`OdooAccessError`.
        """
        cached = self._xmlids.get(xmlid)
        if cached is not None:
            return cached
        match = _XMLID.match(xmlid)
        if not match:
            raise ValueError(f"expected an xml id like 'module.name', got {xmlid!r}")
        result = self._call(
            "ir.model.data",
            "check_object_reference",
            None,
            {"module": match.group("module"), "xml_id": match.group("name")},
        )
        if not isinstance(result, list | tuple) or len(result) != 2:
            raise OdooServerError(
                "unexpected check_object_reference result",
                protocol=self.protocol,
                model="ir.model.data",
                method="check_object_reference",
                reason="unexpected_result",
            )
        res_id = result[1]
        if res_id is False or res_id is None:
            raise OdooAccessError(
                f"xml id {xmlid} exists but its record is not readable by this user",
                protocol=self.protocol,
                model="ir.model.data",
                method="check_object_reference",
                reason="xmlid_not_readable",
                extra={"xmlid": xmlid},
            )
        with self._cache_lock:
            self._xmlids[xmlid] = int(res_id)
        return int(res_id)

    def model_id(self, model: str) -> int:
        """The ``ir.model`` id of ``model``, cached.

        Needs ``base.group_erp_manager`` (§2.10): a plain integration user gets
        :class:`OdooAccessError`. :meth:`schedule_activity` copes with that on its own.
        """
        cached = self._model_ids.get(model)
        if cached is not None:
            return cached
        rows = self._call(
            "ir.model",
            "search_read",
            None,
            {"domain": [["model", "=", model]], "fields": ["id"], "limit": 1},
        )
        if not rows:
            raise OdooMissingError(
                f"model {model} is not installed",
                protocol=self.protocol,
                model="ir.model",
                method="search_read",
                reason="unknown_model",
                extra={"target_model": model},
            )
        with self._cache_lock:
            self._model_ids[model] = int(rows[0]["id"])
        return int(rows[0]["id"])

    # --- activities ----------------------------------------------------------------------

    def schedule_activity(self, res_model: str, res_id: int, **fields: Any) -> int:
        """Create a ``mail.activity`` on a record; returns its id.

        ``mail.activity.create`` rather than ``activity_schedule``, whose recordset result
        cannot be returned over RPC in 17.0/18.0 (§3.4). ``res_model_id`` is required in 17/18
        (§2.7); when ``ir.model`` is not readable we let ``default_get`` fill it from
        ``context['default_res_model']``, which runs as sudo (§2.7, §2.10). ``user_id`` and
        ``date_deadline`` default to the current user and today on Odoo's side. The keyword
        arguments are :meth:`activity_values`'s (``summary``, ``note_html``, …).
        """
        vals, context = self.activity_values(res_model, res_id, **fields)
        return self.create("mail.activity", [vals], context=context)[0]

    def activity_values(
        self,
        res_model: str,
        res_id: int,
        *,
        summary: str,
        note_html: str,
        activity_type_xmlid: str = "mail.mail_activity_data_todo",
        user_id: int | None = None,
        date_deadline: dt.date | str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The ``mail.activity`` values and the context to create them with (what
        :meth:`schedule_activity` sends, for the same keyword arguments), so that many records'
        activities can go in one ``create``: activities on one model share the context."""
        vals: dict[str, Any] = {
            "res_id": int(res_id),
            "activity_type_id": self.xmlid_to_res_id(activity_type_xmlid),
            "summary": summary,
            "note": note_html,
        }
        context: dict[str, Any] | None = None
        res_model_id = self._model_id_if_readable(res_model)
        if res_model_id is None:
            context = {"default_res_model": res_model}
        else:
            vals["res_model_id"] = res_model_id
        if user_id is not None:
            vals["user_id"] = int(user_id)
        if date_deadline is not None:
            vals["date_deadline"] = date_deadline
        return vals, context

    def update_activity(self, activity_id: int, **vals: Any) -> None:
        self.write("mail.activity", [activity_id], vals)

    def complete_activity(self, activity_id: int, feedback: str | None = None) -> None:
        """``action_feedback`` (§3.4). In 17/18 the activity is then deleted (unless its type
        keeps done ones), so a second call raises :class:`OdooMissingError`."""
        params: dict[str, Any] = {} if feedback is None else {"feedback": feedback}
        self._call("mail.activity", "action_feedback", [int(activity_id)], params)

    def cancel_activity(self, activity_id: int) -> None:
        """Cancelling an activity in Odoo's UI deletes it."""
        self.unlink("mail.activity", [activity_id])

    # --- internals -----------------------------------------------------------------------

    def _model_id_if_readable(self, model: str) -> int | None:
        if self._ir_model_denied:
            return None
        try:
            return self.model_id(model)
        except OdooAccessError:
            self._ir_model_denied = True
            return None

    def _checked_page_size(self, page_size: int | None) -> int:
        size = self._page_size if page_size is None else page_size
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{MAX_PAGE_SIZE}, got {size}")
        return size

    def _call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None,
        params: Mapping[str, Any],
        *,
        positional: Sequence[str] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        uid = self.uid if self._rpc.needs_uid else None
        id_list = None if ids is None else [int(i) for i in ids]

        def once() -> Any:
            return self._rpc.call(
                model, method, id_list, params, uid=uid, positional=positional, context=context
            )

        return self._run(model, method, once, n_ids=len(id_list or ()))

    def _run(
        self,
        model: str | None,
        method: str,
        fn: Callable[[], T],
        *,
        n_ids: int = 0,
        attempts: int | None = None,
    ) -> T:
        retrying = build_retrying(
            method,
            attempts=self._retry_attempts if attempts is None else attempts,
            wait=self._retry_wait,
            before_sleep=lambda state: self._log_retry(model, method, state),
        )
        for attempt in retrying:
            with attempt:
                return self._attempt(model, method, fn, n_ids, attempt.retry_state.attempt_number)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _attempt(
        self, model: str | None, method: str, fn: Callable[[], T], n_ids: int, attempt: int
    ) -> T:
        """One HTTP round trip, timed and counted. Logs carry no key and no record values."""
        start = time.perf_counter()
        try:
            result = fn()
        except OdooError as exc:
            elapsed = time.perf_counter() - start
            observe(model, method, exc.code, elapsed)
            log.info(
                "odoo_rpc_failed",
                protocol=self.protocol,
                model=model,
                method=method,
                ids=n_ids,
                attempt=attempt,
                duration_ms=round(elapsed * 1000, 1),
                code=exc.code,
                odoo_exception=exc.odoo_exception,
                reason=exc.reason,
            )
            raise
        except Exception:
            observe(model, method, "internal_error", time.perf_counter() - start)
            raise
        elapsed = time.perf_counter() - start
        observe(model, method, "ok", elapsed)
        log.debug(
            "odoo_rpc",
            protocol=self.protocol,
            model=model,
            method=method,
            ids=n_ids,
            attempt=attempt,
            duration_ms=round(elapsed * 1000, 1),
        )
        return result

    def _log_retry(self, model: str | None, method: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "odoo_rpc_retry",
            protocol=self.protocol,
            model=model,
            method=method,
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
            code=getattr(exc, "code", None),
            odoo_exception=getattr(exc, "odoo_exception", None),
        )


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _orders_by_id(order: str) -> bool:
    return any(term.split()[0] == "id" for term in order.split(",") if term.strip())


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_id_list(result: Any, model: str, method: str) -> list[int]:
    """``create`` returns an int for a dict, a list for a list (§3.1); accept both."""
    if _is_id(result):
        return [result]
    if isinstance(result, list) and all(_is_id(v) for v in result):
        return list(result)
    raise OdooServerError(
        f"unexpected {method} result type {type(result).__name__}",
        model=model,
        method=method,
        reason="unexpected_result",
    )


def _as_single_id(result: Any, model: str, method: str) -> int:
    """17.0/18.0 ``@api.returns`` gives an int, 19.0 ``[id]`` (§2.9, §7)."""
    if _is_id(result):
        return int(result)
    if isinstance(result, list) and len(result) == 1 and _is_id(result[0]):
        return int(result[0])
    raise OdooServerError(
        f"unexpected {method} result type {type(result).__name__}",
        model=model,
        method=method,
        reason="unexpected_result",
    )

"""Draining the outbox into Odoo: in order per record, few RPCs, applied once.

Order: rows of one aggregate (one picking) are applied in ``id`` order and a failure stops that
aggregate until it succeeds, so a chatter message never lands before the tracking number it
announces. Other aggregates carry on. A pass goes in waves — the next write of every record not
blocked — and within a wave ``DRAIN_WORKERS`` records are written at a time (never two writes of
one record), while the label uploads of the wave go to Odoo as one ``create``: a drain that
waited for each RPC in turn would be bound by Odoo's latency, not by its capacity.

Once: a row is *claimed* (attempts + 1, committed) before Odoo is called. A row claimed before
(a crash or timeout may have applied it) is checked against Odoo first — label attachments by
name, messages by the reference they carry — so a retry never duplicates; tracking ref and price
are plain field writes, harmless to repeat.

Errors: retryable Odoo errors back off (exponentially, capped) and keep the row pending; a
rejection (record deleted, validation) marks the row ``dead`` with the reason, for a person.
"""

from __future__ import annotations

import base64
import html
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.core.db import Database
from app.core.logging import correlation, get_logger
from app.store.tables import LabelRow, OutboxRow, SuggestionRow
from app.sync.odoo import OdooClient, OdooError, OdooRetryableError
from app.sync.odoo.client import CREATE_BATCH_SIZE
from app.sync.writeback.metrics import OUTBOX_APPLIED, OUTBOX_LAG, SLA_HISTOGRAMS
from app.sync.writeback.outbox import (
    KIND_ACTIVITY,
    KIND_ACTIVITY_DONE,
    KIND_ACTIVITY_UPDATE,
    KIND_MESSAGE,
    KIND_PICKING_LABELS,
    KIND_PICKING_SHIPPED,
    KIND_PICKING_VOIDED,
)

log = get_logger(__name__)

MAX_BACKOFF = timedelta(minutes=15)
MAX_ATTEMPTS = 50  # about a day of backoff; then a person looks at it
CLAIM_LEASE = timedelta(minutes=5)  # a write in flight longer than this is presumed abandoned
DRAIN_WORKERS = 8  # records written to Odoo at once (Odoo serves RPCs from several workers)
LABEL_MIMETYPES = {"pdf": "application/pdf", "zpl": "text/plain", "png": "image/png"}


@dataclass
class DrainReport:
    applied: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0
    rpcs: int = 0
    blocked_aggregates: list[str] = field(default_factory=list)

    def to_body(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class _Claimed:
    """Outbox rows taken for one write (a group), with what applying them needs."""

    kind: str
    attempts: int
    payload: dict[str, Any]
    slas: list[dict[str, Any]]
    cid: str | None
    created: list[datetime]
    ids: list[int]


@dataclass(frozen=True)
class _CreateBatch:
    """A kind of write whose first attempts for many records can be one ``create``.

    ``prepare`` gives a claimed payload's ``create`` context and its values, each with a key;
    ``record`` keeps the ids Odoo returned, by those keys.
    """

    model: str
    prepare: Callable[[dict[str, Any]], tuple[dict[str, Any] | None, list[tuple[Any, dict]]]]
    record: Callable[[list[tuple[Any, int]]], None]


class OdooWriter:
    def __init__(
        self,
        *,
        db: Database,
        odoo: OdooClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        workers: int | None = None,
    ) -> None:
        self.db = db
        self.odoo = odoo
        self.clock = clock
        # SQLite (the embedded store) shares one connection between threads: drain serially.
        default = 1 if db.engine.dialect.name == "sqlite" else DRAIN_WORKERS
        self.workers = max(1, workers if workers is not None else default)
        self._rpcs = 0
        self._lock = threading.Lock()
        self._batches = {
            KIND_PICKING_LABELS: _CreateBatch(
                "ir.attachment",
                lambda p: (None, list(self._label_values(p).items())),
                self._record_attachments,
            ),
            KIND_MESSAGE: _CreateBatch("mail.message", self._note_values, lambda _: None),
            KIND_ACTIVITY: _CreateBatch(
                "mail.activity", self._activity_values, self._record_activities
            ),
        }

    def settle(
        self,
        *,
        quiet: float,
        longest: float,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Let the writes still arriving join the next drain: wait until none has been queued
        for ``quiet`` seconds, ``longest`` at most. A lone write waits ``quiet``; a burst (a
        release wave, a tracking storm) is drained in a few large waves, each kind in one
        ``create``, instead of one RPC per write as each commit wakes the drain."""
        if quiet <= 0 or longest <= 0:
            return
        deadline = monotonic() + longest
        newest = self._newest_queued()
        while (left := deadline - monotonic()) > 0:
            sleep(min(quiet, left))
            latest = self._newest_queued()
            if latest == newest:
                return
            newest = latest

    def _newest_queued(self) -> int | None:
        with self.db.session() as session:
            return session.scalar(select(func.max(OutboxRow.id)))

    def drain(
        self, *, limit: int = 500, max_passes: int = 20, chase_new_writes: bool = True
    ) -> DrainReport:
        """Apply due writes; repeat while a pass made progress (writes queued meanwhile).

        ``chase_new_writes=False`` repeats only while a pass found ``limit`` rows (a backlog):
        writes queued during the drain are left to the run their enqueue triggered, which
        settles first and so sends them in larger waves (``drain_outbox``)."""
        report = DrainReport()
        self._rpcs = 0
        for _ in range(max_passes):
            applied_before = report.applied
            due, backlog = self._due(limit)
            kinds = {row_id: kind for rows in due.values() for row_id, kind in rows}
            pending = [(aggregate, deque(_coalesce(rows))) for aggregate, rows in due.items()]
            while pending:  # waves: the next write of every record that is still unblocked
                heads = [(aggregate, queue.popleft()) for aggregate, queue in pending]
                outcomes = self._apply_wave([group for _, group in heads], kinds)
                still = []
                for (aggregate, queue), (_, group), outcome in zip(
                    pending, heads, outcomes, strict=True
                ):
                    setattr(report, outcome, getattr(report, outcome) + len(group))
                    if outcome != "applied":
                        report.blocked_aggregates.append(aggregate)
                    elif queue:
                        still.append((aggregate, queue))
                pending = still
            if report.applied == applied_before or not (chase_new_writes or backlog):
                break
        report.rpcs = self._rpcs
        return report

    def _apply_wave(self, groups: list[list[int]], kinds: dict[int, str]) -> list[str]:
        """One write per record: first attempts at creating labels, notes or activities for
        many records go in one ``create`` per kind, the others ``workers`` records at a time (a
        record's writes never run concurrently)."""
        outcomes = [""] * len(groups)
        for kind, batch in self._batches.items():
            members = [i for i, g in enumerate(groups) if kinds.get(g[0]) == kind]
            if len(members) > 1:
                for i, outcome in zip(
                    members, self._apply_batch(batch, [groups[i] for i in members]), strict=True
                ):
                    outcomes[i] = outcome
        rest = [i for i in range(len(groups)) if not outcomes[i]]
        if self.workers > 1 and len(rest) > 1:
            with ThreadPoolExecutor(min(self.workers, len(rest)), "outbox-drain") as pool:
                results = list(pool.map(lambda i: self._apply_group(groups[i]), rest))
        else:
            results = [self._apply_group(groups[i]) for i in rest]
        for i, outcome in zip(rest, results, strict=True):
            outcomes[i] = outcome
        return outcomes

    def _due(self, limit: int) -> tuple[OrderedDict[str, list[tuple[int, str]]], bool]:
        """Pending rows by aggregate (an aggregate whose oldest row is not due waits whole),
        and whether there were ``limit`` rows or more."""
        now = self.clock()
        with self.db.session() as session:
            rows = session.execute(
                select(OutboxRow.id, OutboxRow.aggregate, OutboxRow.available_at, OutboxRow.kind)
                .where(OutboxRow.status.in_(("pending", "in_flight")))
                .order_by(OutboxRow.id)
                .limit(limit)
            ).all()
        grouped: OrderedDict[str, list[tuple[int, str]]] = OrderedDict()
        waiting: set[str] = set()
        for row_id, aggregate, available_at, kind in rows:
            if aggregate in waiting:
                continue
            if available_at > now:
                waiting.add(aggregate)
                continue
            grouped.setdefault(aggregate, []).append((row_id, kind))
        return grouped, len(rows) >= limit

    def _apply_group(self, row_ids: list[int]) -> str:
        """Apply one write, or several chatter messages of one record as a single post."""
        claimed = self._claim_group(row_ids)
        if claimed is None:
            return "skipped"  # another drainer holds them: leave this record to it
        return self._apply_claimed(claimed)

    def _claim_group(self, row_ids: list[int]) -> _Claimed | None:
        return self._claim_groups([row_ids])[0]

    def _claim_groups(self, groups: list[list[int]]) -> list[_Claimed | None]:
        """Take the rows of many writes in one statement (a group whose rows another drainer
        holds comes back None): pending rows, or rows in flight whose lease expired (a drainer
        died mid-write — the retry check then looks in Odoo before writing again)."""
        now = self.clock()
        wanted = [row_id for group in groups for row_id in group]
        with self.db.session() as session:
            taken = set(
                session.scalars(
                    update(OutboxRow)
                    .where(
                        OutboxRow.id.in_(wanted),
                        OutboxRow.available_at <= now,
                        OutboxRow.status.in_(("pending", "in_flight")),
                    )
                    .values(
                        status="in_flight",
                        attempts=OutboxRow.attempts + 1,
                        available_at=now + CLAIM_LEASE,
                    )
                    .returning(OutboxRow.id)
                    .execution_options(synchronize_session=False)
                )
            )
            rows = {
                r.id: r
                for r in session.scalars(select(OutboxRow).where(OutboxRow.id.in_(list(taken))))
            }
            return [_claimed([rows[i] for i in group if i in rows]) for group in groups]

    def _apply_claimed(self, c: _Claimed) -> str:
        with correlation(c.cid):
            try:
                self._apply(c.kind, c.payload, retry=c.attempts > 1)
            except OdooRetryableError as exc:
                return self._after_failure(c.ids, c.attempts, exc, retryable=True)
            except OdooError as exc:
                return self._after_failure(c.ids, c.attempts, exc, retryable=False)
            self._mark_sent(c)
            return "applied"

    def _mark_sent(self, *claims: _Claimed) -> None:
        now = self.clock()
        with self.db.session() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([row_id for c in claims for row_id in c.ids]))
                .values(status="sent", sent_at=now, last_error=None)
                .execution_options(synchronize_session=False)
            )
        for c in claims:
            for moment in c.created:
                OUTBOX_APPLIED.labels(c.kind, "sent").inc()
                OUTBOX_LAG.labels(c.kind).observe((now - moment).total_seconds())
            for sla in c.slas:
                observe_sla(sla, now)

    def _apply_batch(self, batch: _CreateBatch, groups: list[list[int]]) -> list[str]:
        """First attempts of many records' writes of one kind as ``create`` calls of at most
        ``CREATE_BATCH_SIZE`` values. Odoo creates a list in one transaction, so a rejected
        call left nothing behind and each of its records then writes alone (the one at fault
        is told apart); a call that failed in transit may have landed, so its records retry
        later through the path that looks in Odoo first (as every later attempt does)."""
        claims = self._claim_groups(groups)
        outcomes = ["" if c is not None else "skipped" for c in claims]
        fresh = [(i, c) for i, c in enumerate(claims) if c is not None and c.attempts == 1]
        if len(fresh) > 1:
            prepared = [(i, c, *batch.prepare(c.payload)) for i, c in fresh]
            for context, chunk in _create_chunks(prepared):
                self._create_chunk(batch, context, chunk, outcomes)
        for i, c in enumerate(claims):
            if not outcomes[i] and c is not None:
                outcomes[i] = self._apply_claimed(c)
        return outcomes

    def _create_chunk(
        self,
        batch: _CreateBatch,
        context: dict[str, Any] | None,
        chunk: list[tuple[int, _Claimed, list[tuple[Any, dict[str, Any]]]]],
        outcomes: list[str],
    ) -> None:
        keyed = [pair for _, _, pairs in chunk for pair in pairs]
        try:
            created = (
                self._rpc(
                    self.odoo.create, batch.model, [vals for _, vals in keyed], context=context
                )
                if keyed
                else []
            )
        except OdooRetryableError as exc:
            for i, c, _ in chunk:
                outcomes[i] = self._after_failure(c.ids, c.attempts, exc, retryable=True)
            return
        except OdooError:
            return  # nothing was created: each record on its own, by the caller
        batch.record([(key, new_id) for (key, _), new_id in zip(keyed, created, strict=True)])
        self._mark_sent(*(c for _, c, _ in chunk))
        for i, _, _ in chunk:
            outcomes[i] = "applied"

    def _after_failure(
        self, row_ids: list[int], attempts: int, exc: OdooError, *, retryable: bool
    ) -> str:
        outcome = "retried" if retryable and attempts < MAX_ATTEMPTS else "dead"
        kind = "unknown"
        with self.db.session() as session:
            for row_id in row_ids:
                row = session.get(OutboxRow, row_id)
                if row is None:
                    continue
                kind = row.kind
                row.last_error = f"{exc.code}: {exc.message}"[:2000]
                if outcome == "retried":
                    backoff = min(timedelta(seconds=2**attempts), MAX_BACKOFF)
                    row.status = "pending"
                    row.available_at = self.clock() + backoff
                else:
                    row.status = "dead"
        row_id = row_ids[0]
        OUTBOX_APPLIED.labels(kind, outcome).inc()
        log.warning(
            "outbox_write_failed",
            row_id=row_id,
            kind=kind,
            attempts=attempts,
            outcome=outcome,
            error=exc.code,
        )
        return outcome

    # -- the writes ----------------------------------------------------------------------------

    def _apply(self, kind: str, payload: dict[str, Any], *, retry: bool) -> None:
        if kind == KIND_PICKING_SHIPPED:
            self._rpc(
                self.odoo.write,
                "stock.picking",
                [payload["picking_id"]],
                {
                    "carrier_tracking_ref": payload["tracking_ref"],
                    "carrier_price": float(payload["price"]),
                },
            )
        elif kind == KIND_PICKING_LABELS:
            self._attach_labels(payload, retry=retry)
        elif kind == KIND_MESSAGE:
            self._post_message(payload, retry=retry)
        elif kind == KIND_ACTIVITY:
            self._schedule_activity(payload, retry=retry)
        elif kind == KIND_ACTIVITY_UPDATE:
            vals = {"summary": payload["summary"], "note": _with_ref(payload)}
            if payload.get("date_deadline"):
                vals["date_deadline"] = payload["date_deadline"]
            if payload.get("user_id"):
                vals["user_id"] = int(payload["user_id"])
            self._rpc(self.odoo.update_activity, int(payload["activity_id"]), **vals)
        elif kind == KIND_ACTIVITY_DONE:
            self._complete_activity(payload)
        elif kind == KIND_PICKING_VOIDED:
            self._rpc(
                self.odoo.write,
                "stock.picking",
                [payload["picking_id"]],
                {"carrier_tracking_ref": False, "carrier_price": 0.0},
            )
        else:  # enqueue_write refuses unknown kinds; a row from a newer version waits for it
            raise ValueError(f"unknown outbox kind {kind!r}")

    def _label_values(self, payload: dict[str, Any]) -> dict[int, dict[str, Any]]:
        """The ``ir.attachment`` values of a labels write, by label id."""
        picking_id = int(payload["picking_id"])
        with self.db.session() as session:
            labels = session.scalars(
                select(LabelRow).where(LabelRow.id.in_(payload["label_ids"])).order_by(LabelRow.id)
            ).all()
            return {
                label.id: {
                    "name": label_name(payload["prefix"], label),
                    "res_model": "stock.picking",
                    "res_id": picking_id,
                    "type": "binary",
                    "datas": base64.b64encode(label.data).decode("ascii"),
                    "mimetype": LABEL_MIMETYPES.get(label.format, "application/octet-stream"),
                }
                for label in labels
            }

    def _attach_labels(self, payload: dict[str, Any], *, retry: bool) -> None:
        picking_id = int(payload["picking_id"])
        todo = self._label_values(payload)
        if retry and todo:
            present = {
                r["name"]
                for r in self._rpc(
                    self.odoo.search_read,
                    "ir.attachment",
                    [
                        ("res_model", "=", "stock.picking"),
                        ("res_id", "=", picking_id),
                        ("name", "in", [v["name"] for v in todo.values()]),
                    ],
                    ["name"],
                )
            }
            todo = {k: v for k, v in todo.items() if v["name"] not in present}
        if not todo:
            return
        ids = self._rpc(self.odoo.create, "ir.attachment", list(todo.values()))
        self._record_attachments(list(zip(todo, ids, strict=True)))

    def _record_attachments(self, created: list[tuple[Any, int]]) -> None:
        with self.db.session() as session:
            for label_id, attachment_id in created:
                row = session.get(LabelRow, label_id)
                if row is not None:
                    row.odoo_attachment_id = attachment_id

    def _note_values(self, payload: dict[str, Any]) -> tuple[None, list[tuple[Any, dict]]]:
        vals = self.odoo.note_values(
            payload["model"],
            int(payload["res_id"]),
            _note_body(payload),
            subject=payload.get("subject"),
        )
        return None, [(payload["ref"], vals)]

    def _activity_values(
        self, payload: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, list[tuple[Any, dict]]]:
        vals, context = self.odoo.activity_values(**_activity_fields(payload))
        return context, [(payload.get("suggestion_id"), vals)]

    def _record_activities(self, created: list[tuple[Any, int]]) -> None:
        with self.db.session() as session:
            for suggestion_id, activity_id in created:
                suggestion = session.get(SuggestionRow, suggestion_id) if suggestion_id else None
                if suggestion is not None:
                    suggestion.odoo_activity_id = activity_id

    def _post_message(self, payload: dict[str, Any], *, retry: bool) -> None:
        model, res_id, ref = payload["model"], int(payload["res_id"]), payload["ref"]
        if retry:
            found = self._rpc(
                self.odoo.search,
                "mail.message",
                [("model", "=", model), ("res_id", "=", res_id), ("body", "ilike", ref)],
                limit=1,
            )
            if found:
                return
        body = _note_body(payload)
        self._rpc(self.odoo.message_post, model, res_id, body, subject=payload.get("subject"))

    def _schedule_activity(self, payload: dict[str, Any], *, retry: bool) -> None:
        model, res_id, ref = payload["model"], int(payload["res_id"]), payload["ref"]
        activity_id: int | None = None
        if retry:
            found = self._rpc(
                self.odoo.search,
                "mail.activity",
                [("res_model", "=", model), ("res_id", "=", res_id), ("note", "ilike", ref)],
                limit=1,
            )
            activity_id = found[0] if found else None
        if activity_id is None:
            activity_id = self._rpc(self.odoo.schedule_activity, **_activity_fields(payload))
        self._record_activities([(payload.get("suggestion_id"), activity_id)])

    def _complete_activity(self, payload: dict[str, Any]) -> None:
        """Mark an activity done; one already gone (done by a person, or this write retried)
        is left alone. The id comes from the payload, else from the suggestion the create
        write recorded it on, else from our reference in its note."""
        activity_id = payload.get("activity_id")
        if activity_id is None and payload.get("suggestion_id"):
            with self.db.session() as session:
                suggestion = session.get(SuggestionRow, payload["suggestion_id"])
                activity_id = suggestion.odoo_activity_id if suggestion is not None else None
        domain: list[Any] = (
            [("id", "=", int(activity_id))]
            if activity_id is not None
            else [
                ("res_model", "=", payload["model"]),
                ("res_id", "=", int(payload["res_id"])),
                ("note", "ilike", f"Waybill ref {payload['ref']}<"),
            ]
        )
        found = self._rpc(self.odoo.search, "mail.activity", domain, limit=1)
        if found:
            self._rpc(self.odoo.complete_activity, int(found[0]), payload.get("feedback"))

    def _rpc(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._rpcs += 1
        return fn(*args, **kwargs)


def _footed(body_html: str, ref: str) -> str:
    """HTML footed with our reference: how a retry and the feedback sync find it in Odoo."""
    return body_html + f"<p><small>Waybill ref {html.escape(ref)}</small></p>"


def _note_body(payload: dict[str, Any]) -> str:
    return _footed(payload["body_html"], payload["ref"])


def _activity_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The arguments of :meth:`OdooClient.schedule_activity` for an activity write."""
    return {
        "res_model": payload["model"],
        "res_id": int(payload["res_id"]),
        "summary": payload["summary"],
        "note_html": _with_ref(payload),
        "activity_type_xmlid": payload.get("activity_type_xmlid", "mail.mail_activity_data_todo"),
        "user_id": payload.get("user_id"),
        "date_deadline": payload.get("date_deadline"),
    }


def _with_ref(payload: dict[str, Any]) -> str:
    return _footed(payload["note_html"], payload["ref"])


def _coalesce(rows: list[tuple[int, str]]) -> list[list[int]]:
    """Consecutive chatter messages for one record become one post: many events, few RPCs."""
    groups: list[list[int]] = []
    previous: str | None = None
    for row_id, kind in rows:
        if kind == KIND_MESSAGE and previous == KIND_MESSAGE:
            groups[-1].append(row_id)
        else:
            groups.append([row_id])
        previous = kind
    return groups


def observe_sla(sla: dict[str, Any], now: datetime) -> None:
    """Record one service level carried by an applied write; a malformed marker is skipped,
    never allowed to fail a write Odoo already has."""
    histogram = SLA_HISTOGRAMS.get(str(sla.get("metric")))
    try:
        since = datetime.fromisoformat(str(sla["since"]))
    except (KeyError, ValueError):
        return
    if histogram is None or since.tzinfo is None:
        return
    # A carrier clock ahead of ours gives a negative span: count it as no wait at all.
    histogram.labels(str(sla.get("carrier") or "unknown")).observe(
        max(0.0, (now - since).total_seconds())
    )


def _claimed(rows: list[OutboxRow]) -> _Claimed | None:
    """One write from the claimed rows of a group (several chatter messages become one)."""
    if not rows:
        return None
    payloads = [dict(r.payload) for r in rows]
    return _Claimed(
        kind=rows[0].kind,
        attempts=max(r.attempts for r in rows),
        payload=_merge(payloads),
        slas=[p["sla"] for p in payloads if isinstance(p.get("sla"), dict)],
        cid=rows[0].correlation_id,
        created=[r.created_at for r in rows],
        ids=[r.id for r in rows],
    )


def _merge(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    if len(payloads) == 1:
        return payloads[0]
    first = payloads[0]
    return {**first, "body_html": "<hr/>".join(p["body_html"] for p in payloads)}


def label_name(prefix: str, label: LabelRow) -> str:
    """Odoo's own convention: ``LabelShipping-<type>-<tracking>.<ext>`` (reference §6)."""
    return f"{prefix}-{label.tracking_number}-{label.parcel_index + 1}.{label.format}"


Prepared = tuple[int, _Claimed, dict[str, Any] | None, list[tuple[Any, dict[str, Any]]]]


def _create_chunks(
    prepared: list[Prepared],
) -> Iterator[tuple[dict[str, Any] | None, list[tuple[int, _Claimed, list[Any]]]]]:
    """Claims with the same ``create`` context, cut so that no call carries more than
    ``CREATE_BATCH_SIZE`` values (one call, one Odoo transaction: all or nothing); a claim's
    values never straddle two calls. A claim with nothing to create needs no call at all."""
    by_context: dict[str, tuple[dict[str, Any] | None, list[Prepared]]] = {}
    for item in prepared:
        key = json.dumps(item[2], sort_keys=True)
        by_context.setdefault(key, (item[2], []))[1].append(item)
    for context, items in by_context.values():
        chunk: list[tuple[int, _Claimed, list[Any]]] = []
        size = 0
        for i, claimed, _, pairs in items:
            if chunk and size + len(pairs) > CREATE_BATCH_SIZE:
                yield context, chunk
                chunk, size = [], 0
            chunk.append((i, claimed, pairs))
            size += len(pairs)
        if chunk:
            yield context, chunk

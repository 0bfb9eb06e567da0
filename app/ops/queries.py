"""What the operations page shows, gathered from the queue, Redis and the store.

Every panel is computed on its own: Redis being down empties the queue and circuit panels with
an error line, and the database panels still render (an on-call page that fails whole during an
incident is no use). Times are UTC; "last 24 h" windows are ``[now - 24 h, now]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select

from app.core.breaker import CircuitBreaker
from app.core.context import AppContext
from app.core.dlq import QUEUES, DeadLetterView, dead_letters_for
from app.core.logging import get_logger
from app.core.queue import RQJobQueue
from app.store.tables import LabelRow, ShipmentRow, TrackingEventRow

log = get_logger(__name__)

WINDOW = timedelta(hours=24)
MAX_SLA_SAMPLES = 20_000  # newest rows per metric; enough for stable p90s, bounded work
MAX_DEAD_LETTERS_SHOWN = 200
BREAKER_PREFIX = "waybill:cb:"
T = TypeVar("T")


@dataclass(frozen=True)
class QueueDepth:
    name: str
    queued: int
    started: int | None = None
    scheduled: int | None = None
    failed: int | None = None


@dataclass(frozen=True)
class QueuePanel:
    backend: str  # "rq" | "in_process"
    queues: list[QueueDepth]
    workers: int | None = None  # RQ workers registered in Redis; None where not applicable


@dataclass(frozen=True)
class CarrierHealth:
    account: str
    carrier: str | None
    state: str  # closed | half_open | open
    recent_failures: int
    opened_at: datetime | None


@dataclass(frozen=True)
class CategoryCount:
    category: str
    count: int


@dataclass(frozen=True)
class ExceptionPanel:
    categories: list[CategoryCount]
    events_total: int

    @property
    def exceptions_total(self) -> int:
        return sum(c.count for c in self.categories)


@dataclass(frozen=True)
class Latency:
    name: str
    samples: int
    p50: float | None  # seconds
    p90: float | None


@dataclass
class Panel:
    """A panel's data, or why it could not be read (the error's type; details are logged)."""

    data: Any = None
    error: str | None = None


@dataclass
class OpsSnapshot:
    now: datetime
    queues: Panel = field(default_factory=Panel)
    dead_letters: Panel = field(default_factory=Panel)
    dead_letters_total: int = 0
    carriers: Panel = field(default_factory=Panel)
    exceptions: Panel = field(default_factory=Panel)
    sla: Panel = field(default_factory=Panel)


def _panel(name: str, compute: Callable[[], T]) -> Panel:
    try:
        return Panel(data=compute())
    except Exception as exc:  # one broken dependency must not take the page down
        log.warning("ops_panel_failed", panel=name, error=type(exc).__name__, message=str(exc))
        return Panel(error=type(exc).__name__)


# --- queues ---------------------------------------------------------------------------------


def queue_panel(ctx: AppContext) -> QueuePanel:
    """Depth of every queue: RQ's queues and registries in Redis, or the in-process pool."""
    queue = ctx.queue
    if isinstance(queue, RQJobQueue):
        from rq import Queue, Worker
        from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

        rows = []
        for name in QUEUES:
            q = Queue(name, connection=queue.connection)
            rows.append(
                QueueDepth(
                    name=name,
                    queued=q.count,
                    started=StartedJobRegistry(queue=q).count,
                    scheduled=ScheduledJobRegistry(queue=q).count,
                    failed=FailedJobRegistry(queue=q).count,
                )
            )
        return QueuePanel("rq", rows, workers=Worker.count(connection=queue.connection))
    depth = queue.depth()
    return QueuePanel(
        "in_process",
        [QueueDepth(name=name, queued=int(n)) for name, n in sorted(depth.items())],
    )


def dead_letter_list(ctx: AppContext) -> list[DeadLetterView]:
    """Every dead letter, newest first."""
    items = dead_letters_for(ctx.queue).list()
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(items, key=lambda v: v.failed_at or oldest, reverse=True)


# --- carriers -------------------------------------------------------------------------------


def _configured_accounts(ctx: AppContext) -> dict[str, str]:
    """Carrier account id → carrier, from the running directory or the settings."""
    directory = ctx.extras.get("carrier_directory")
    accounts: Iterable[Any]
    if directory is not None:
        accounts = directory.accounts.values()
    elif ctx.settings.carrier_accounts is not None:
        from app.carriers.accounts import load_accounts

        accounts = load_accounts(ctx.settings.carrier_accounts.get_secret_value())
    else:
        accounts = ()
    return {a.id: a.carrier for a in accounts}


def _breaker_names(conn: Any) -> set[str]:
    names = set()
    for suffix in (":open", ":failures"):
        for raw in conn.scan_iter(match=f"{BREAKER_PREFIX}*{suffix}", count=500):
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            names.add(key[len(BREAKER_PREFIX) : -len(suffix)])
    return names


def carrier_health(ctx: AppContext) -> list[CarrierHealth]:
    """Each carrier account's circuit (state in Redis, shared by every worker): open first.

    States are read through ``CircuitBreaker`` with the cooldown the booking directory uses, so
    "half_open" here means what it means to the workers: the next call is a probe.
    """
    configured: dict[str, str] = {}
    try:
        configured = _configured_accounts(ctx)
    except Exception as exc:  # unreadable account settings: still show what Redis knows
        log.warning("ops_accounts_unreadable", error=type(exc).__name__)
    rows = []
    for name in sorted(_breaker_names(ctx.redis) | set(configured)):
        breaker = CircuitBreaker(ctx.redis, name)
        opened = ctx.redis.get(f"{BREAKER_PREFIX}{name}:open")
        failures = ctx.redis.get(f"{BREAKER_PREFIX}{name}:failures")
        try:
            opened_at = datetime.fromtimestamp(float(opened), UTC) if opened else None
        except (TypeError, ValueError):
            opened_at = None
        rows.append(
            CarrierHealth(
                account=name,
                carrier=configured.get(name),
                state=breaker.state(),
                recent_failures=int(failures or 0),
                opened_at=opened_at,
            )
        )
    order = {"open": 0, "half_open": 1, "closed": 2}
    return sorted(rows, key=lambda r: (order.get(r.state, 3), r.account))


# --- exceptions and SLAs --------------------------------------------------------------------


def exceptions_by_category(ctx: AppContext, now: datetime) -> ExceptionPanel:
    """Tracking events received in the last 24 h, counted by exception category."""
    since = now - WINDOW
    with ctx.db.session() as session:
        rows = session.execute(
            select(TrackingEventRow.exception_category, func.count())
            .where(TrackingEventRow.received_at >= since)
            .where(TrackingEventRow.exception_category.is_not(None))
            .group_by(TrackingEventRow.exception_category)
        ).all()
        total = session.scalar(
            select(func.count())
            .select_from(TrackingEventRow)
            .where(TrackingEventRow.received_at >= since)
        )
    categories = [CategoryCount(str(cat), int(n)) for cat, n in rows]
    categories.sort(key=lambda c: (-c.count, c.category))
    return ExceptionPanel(categories=categories, events_total=int(total or 0))


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in (0, 1]) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _latency(name: str, seconds: list[float]) -> Latency:
    return Latency(name, len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.9))


def label_latency(ctx: AppContext, now: datetime) -> Latency:
    """Shipment created → its first label, for shipments first labelled in the last 24 h."""
    since = now - WINDOW
    first_label = func.min(LabelRow.created_at)
    with ctx.db.session() as session:
        rows = session.execute(
            select(ShipmentRow.created_at, first_label)
            .join(ShipmentRow, ShipmentRow.id == LabelRow.shipment_id)
            .group_by(LabelRow.shipment_id, ShipmentRow.created_at)
            .having(first_label >= since)
            .order_by(first_label.desc())
            .limit(MAX_SLA_SAMPLES)
        ).all()
    seconds = [max(0.0, (labelled - created).total_seconds()) for created, labelled in rows]
    return _latency("Shipment created → label", seconds)


def tracking_latency(ctx: AppContext, now: datetime) -> Latency:
    """Carrier event occurred → received by Waybill, for events received in the last 24 h."""
    since = now - WINDOW
    with ctx.db.session() as session:
        rows = session.execute(
            select(TrackingEventRow.occurred_at, TrackingEventRow.received_at)
            .where(TrackingEventRow.received_at >= since)
            .order_by(TrackingEventRow.received_at.desc())
            .limit(MAX_SLA_SAMPLES)
        ).all()
    # A carrier clock ahead of ours gives a negative lag: count it as no lag at all.
    seconds = [max(0.0, (received - occurred).total_seconds()) for occurred, received in rows]
    return _latency("Tracking event → received", seconds)


def collect(ctx: AppContext, now: datetime | None = None) -> OpsSnapshot:
    """Everything the page shows; blocking (run it in a thread from async code)."""
    now = now or datetime.now(UTC)
    snapshot = OpsSnapshot(now=now)
    snapshot.queues = _panel("queues", lambda: queue_panel(ctx))
    letters = _panel("dead_letters", lambda: dead_letter_list(ctx))
    if letters.data is not None:
        snapshot.dead_letters_total = len(letters.data)
        letters.data = letters.data[:MAX_DEAD_LETTERS_SHOWN]
    snapshot.dead_letters = letters
    snapshot.carriers = _panel("carriers", lambda: carrier_health(ctx))
    snapshot.exceptions = _panel("exceptions", lambda: exceptions_by_category(ctx, now))
    snapshot.sla = _panel("sla", lambda: [label_latency(ctx, now), tracking_latency(ctx, now)])
    return snapshot

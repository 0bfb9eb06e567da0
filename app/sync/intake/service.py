"""Intake: turn ready outgoing pickings into persisted shipment intents, exactly once.

Two channels feed it and both end in ``ingest``:

* the automation-rule webhook, a *hint* (reference §4.1: it fires before Odoo commits, may
  repeat, carries no signature) — the picking is re-read over RPC before anything is decided;
* a ``write_date`` poll with an overlap window (reference §5: ``write_date`` is the transaction
  *start*, so a watermark without overlap misses long transactions), keyset-paged.

Idempotency is the unique ``(source, source_ref, revision)`` key on ``shipments``: the webhook
twice plus the poller yield one intent, even when they race.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.audit import record_audit
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import NotFound
from app.core.ids import new_id
from app.core.logging import correlation_id_var, get_logger, new_correlation_id
from app.models import ShipmentRequest, ShipmentState
from app.store.tables import OdooHintRow, ParcelRow, ShipmentRow, SyncCursorRow
from app.sync.intake.customs import MOVE_FIELDS, PRODUCT_FIELDS, customs_items, load_catalog
from app.sync.intake.mapping import (
    CARRIER_FIELDS,
    PARTNER_FIELDS,
    PICKING_FIELDS,
    SALE_ORDER_FIELDS,
    MappingError,
    m2o_id,
    odoo_datetime,
    picking_to_request,
)
from app.sync.intake.metrics import INTAKE_OUTCOMES
from app.sync.intake.schemas import PICKING_MODEL, IntakeOutcome, OdooWebhookPayload, PollReport
from app.sync.odoo import OdooClient, OdooError, OdooRetryableError

log = get_logger(__name__)

HINT_MAX_ATTEMPTS = 12
HINT_FIRST_RECHECK = timedelta(seconds=5)
HINT_MAX_BACKOFF = timedelta(minutes=10)
ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"
MAIN_PARTNER_XMLID = "base.main_partner"
OPEN_STATES = {ShipmentState.INTENT.value, ShipmentState.FAILED.value}
UNBOOKED_STATES = {
    ShipmentState.INTENT.value,
    ShipmentState.RATED.value,
    ShipmentState.AWAITING_APPROVAL.value,
    ShipmentState.FAILED.value,
}


class IntakeService:
    def __init__(
        self,
        *,
        db: Database,
        odoo: OdooClient,
        settings: Settings,
        on_new_intent: Callable[[str], None] | None = None,
        on_cancelled: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.odoo = odoo
        self.settings = settings
        self.on_new_intent = on_new_intent
        self.on_cancelled = on_cancelled
        self.clock = clock
        self.source = f"odoo:{settings.odoo_db}"
        self._shipper_id: int | None = settings.odoo_shipper_partner_id
        self.catalog = load_catalog(settings.customs_catalog)

    @property
    def shipper_partner_id(self) -> int | None:
        """The ship-from partner: configured, else the company's own (``base.main_partner``)."""
        if self._shipper_id is None:
            try:
                self._shipper_id = self.odoo.xmlid_to_res_id(MAIN_PARTNER_XMLID)
            except OdooError as exc:
                log.warning("intake_shipper_unresolved", error=exc.code)
        return self._shipper_id

    # -- webhook -------------------------------------------------------------------------------

    def handle_hint(
        self, payload: OdooWebhookPayload, *, channel: str = "webhook"
    ) -> IntakeOutcome:
        """Re-read the announced picking and ingest it; defer if Odoo cannot answer now.

        A picking that does not exist raises ``NotFound`` and changes nothing.
        """
        try:
            return self.reread_and_ingest(payload, channel=channel)
        except OdooRetryableError as exc:
            hint_id = self._store_hint(payload, error=f"{exc.code}: {exc.message}")
            INTAKE_OUTCOMES.labels(channel, "deferred").inc()
            log.warning(
                "intake_hint_deferred",
                picking_id=payload.record_id,
                hint_id=hint_id,
                error=exc.code,
            )
            return IntakeOutcome(
                "deferred", payload.record_id, hint_id=hint_id, reason="odoo_unavailable"
            )

    def reread_and_ingest(self, payload: OdooWebhookPayload, *, channel: str) -> IntakeOutcome:
        """Read the announced picking now (retryable Odoo errors propagate) and ingest it."""
        rows = self.odoo.read(PICKING_MODEL, [payload.record_id], PICKING_FIELDS)
        if not rows:
            INTAKE_OUTCOMES.labels(channel, "not_found").inc()
            log.info("intake_picking_not_found", picking_id=payload.record_id)
            raise NotFound(
                f"stock.picking {payload.record_id} does not exist in Odoo database "
                f"{self.settings.odoo_db!r}",
                code="odoo_record_not_found",
                details={"model": PICKING_MODEL, "id": payload.record_id},
            )
        (outcome,) = self.ingest(rows, channel=channel)
        return outcome

    def _store_hint(self, payload: OdooWebhookPayload, *, error: str) -> int:
        now = self.clock()
        with self.db.session() as session:
            hint = OdooHintRow(
                model=payload.model,
                record_id=payload.record_id,
                action=payload.action,
                payload=payload.model_dump(by_alias=True),
                attempts=0,
                last_error=error[:2000],
                received_at=now,
                next_check_at=now + HINT_FIRST_RECHECK,
                correlation_id=correlation_id_var.get(),
            )
            session.add(hint)
            session.flush()
            return hint.id

    def settle_due_hints(self, *, limit: int = 100) -> dict[str, int]:
        """Re-check stored hints that are due; back off on failure, give up after a day-ish."""
        now = self.clock()
        counts: dict[str, int] = {}
        with self.db.session() as session:
            hints = session.scalars(
                select(OdooHintRow)
                .where(OdooHintRow.status == "pending", OdooHintRow.next_check_at <= now)
                .order_by(OdooHintRow.id)
                .limit(limit)
            ).all()
            pending = [(h.id, OdooWebhookPayload.model_validate(h.payload)) for h in hints]
        for hint_id, payload in pending:
            status = self._settle(hint_id, payload)
            counts[status] = counts.get(status, 0) + 1
        return counts

    def _settle(self, hint_id: int, payload: OdooWebhookPayload) -> str:
        error: str | None = None
        try:
            self.reread_and_ingest(payload, channel="hint")
            status = "settled"
        except NotFound:
            status = "discarded"
        except OdooError as exc:
            status, error = "pending", f"{exc.code}: {exc.message}"
        with self.db.session() as session:
            hint = session.get(OdooHintRow, hint_id)
            if hint is None:
                return "gone"
            hint.attempts += 1
            hint.last_error = error[:2000] if error else hint.last_error
            if status == "pending":
                if hint.attempts >= HINT_MAX_ATTEMPTS:
                    status = "abandoned"  # the write_date poll still covers the picking
                    log.error("intake_hint_abandoned", hint_id=hint_id, attempts=hint.attempts)
                else:
                    backoff = min(HINT_FIRST_RECHECK * 2**hint.attempts, HINT_MAX_BACKOFF)
                    hint.next_check_at = self.clock() + backoff
            if status != "pending":
                hint.settled_at = self.clock()
            hint.status = status
        return status

    # -- poll ----------------------------------------------------------------------------------

    @property
    def cursor_name(self) -> str:
        return f"{self.source}:stock.picking:write_date"

    def poll_once(self) -> PollReport:
        """One poll cycle: every ready outgoing picking written since ``watermark - overlap``."""
        report = PollReport()
        watermark = self._load_watermark()
        # deliveries and returns that became ready, and cancellations of what we may have booked
        base: list[Any] = [
            ("picking_type_code", "in", ["outgoing", "incoming"]),
            ("state", "in", ["assigned", "cancel"]),
        ]
        if watermark is not None:
            since = watermark - timedelta(seconds=self.settings.poll_overlap_seconds)
            base.append(("write_date", ">=", since.strftime(ODOO_DATETIME)))
        newest = watermark
        cursor: str | None = None  # second-precision write_date of the last page's end
        seen_at_cursor: list[int] = []
        page_size = self.settings.odoo_page_size
        while True:
            domain = list(base)
            if cursor is not None:
                # Keyset paging that survives Odoo storing microseconds but returning seconds
                # (an ``=`` on write_date would never match and ``>`` would loop): resume at the
                # same second and skip the ids already taken from it.
                domain += [("write_date", ">=", cursor), ("id", "not in", seen_at_cursor)]
            page = self.odoo.search_read(
                PICKING_MODEL,
                domain,
                PICKING_FIELDS,
                order="write_date asc, id asc",
                limit=page_size,
            )
            if not page:
                break
            report.pages += 1
            report.seen += len(page)
            for outcome in self.ingest(page, channel="poll"):
                report.count(outcome)
            last = str(page[-1]["write_date"])
            same_second = [int(p["id"]) for p in page if str(p["write_date"]) == last]
            seen_at_cursor = seen_at_cursor + same_second if last == cursor else same_second
            cursor = last
            page_newest = odoo_datetime(last)
            if page_newest and (newest is None or page_newest > newest):
                newest = page_newest
            if len(page) < page_size:
                break
        if newest is not None and newest != watermark:
            self._save_watermark(newest)
        report.watermark = newest
        log.info("intake_poll", **report.to_body())
        return report

    def _load_watermark(self) -> datetime | None:
        with self.db.session() as session:
            row = session.get(SyncCursorRow, self.cursor_name)
            return datetime.fromisoformat(row.value) if row else None

    def _save_watermark(self, value: datetime) -> None:
        with self.db.session() as session:
            row = session.get(SyncCursorRow, self.cursor_name)
            if row is None:
                session.add(SyncCursorRow(name=self.cursor_name, value=value.isoformat()))
            elif datetime.fromisoformat(row.value) < value:
                row.value = value.isoformat()

    # -- ingest --------------------------------------------------------------------------------

    def ingest(self, pickings: list[dict[str, Any]], *, channel: str) -> list[IntakeOutcome]:
        """Decide each picking; related records are read in one RPC per model for the batch."""
        kinds = {int(p["id"]): classify(p) for p in pickings}
        ready = [p for p in pickings if kinds[int(p["id"])] in (SHIP, RETURN)]
        related = self._load_related(ready) if ready else _Related()
        outcomes: list[IntakeOutcome] = []
        for picking in pickings:
            kind = kinds[int(picking["id"])]
            if kind == CANCELLED:
                outcome = self._cancelled(picking)
            elif kind in (SHIP, RETURN):
                outcome = self._upsert(picking, related, channel=channel)
            else:
                outcome = IntakeOutcome("ignored", picking["id"], reason=kind)
            INTAKE_OUTCOMES.labels(channel, outcome.status).inc()
            outcomes.append(outcome)
        return outcomes

    def _cancelled(self, picking: dict[str, Any]) -> IntakeOutcome:
        """A cancelled picking voids what was booked for it, or closes the open intent."""
        picking_id = int(picking["id"])
        with self.db.session() as session:
            row = session.scalars(
                select(ShipmentRow)
                .where(
                    ShipmentRow.source == self.source,
                    ShipmentRow.source_ref == f"{PICKING_MODEL}:{picking_id}",
                )
                .order_by(ShipmentRow.revision.desc())
                .limit(1)
            ).first()
            if row is None or row.state in (ShipmentState.CANCELLED.value,):
                return IntakeOutcome("ignored", picking_id, reason="state_cancel")
            if row.state in UNBOOKED_STATES:
                before = row.state
                row.state = ShipmentState.CANCELLED.value
                record_audit(
                    session,
                    actor="system:intake",
                    action="shipment.cancelled",
                    target_type="shipment",
                    target_id=row.id,
                    before={"state": before},
                    after={"state": row.state, "why": "picking cancelled in Odoo"},
                )
                return IntakeOutcome("cancelled", picking_id, row.id, row.state)
            shipment_id, state = row.id, row.state
        if self.on_cancelled is not None:
            self.on_cancelled(shipment_id)
        return IntakeOutcome("cancel_requested", picking_id, shipment_id, state)

    def _load_related(self, pickings: list[dict[str, Any]]) -> _Related:
        related = _Related()
        partner_ids = {m2o_id(p.get("partner_id")) for p in pickings} - {None}
        shipper_id = self.shipper_partner_id
        if shipper_id:
            partner_ids.add(shipper_id)
        related.partners = _by_id(self._read("res.partner", partner_ids, PARTNER_FIELDS))
        related.sale_orders = _by_id(
            self._read(
                "sale.order", {m2o_id(p.get("sale_id")) for p in pickings}, SALE_ORDER_FIELDS
            )
        )
        related.carriers = _by_id(
            self._read(
                "delivery.carrier", {m2o_id(p.get("carrier_id")) for p in pickings}, CARRIER_FIELDS
            )
        )
        related.state_codes = self._state_codes(related.partners.values())
        self._load_customs_lines(pickings, related)
        return related

    def _load_customs_lines(self, pickings: list[dict[str, Any]], related: _Related) -> None:
        """Moves and products of cross-border pickings only: domestic ones need no declaration."""
        shipper = related.partners.get(self.shipper_partner_id or -1, {})
        origin = shipper.get("country_code")
        border = [
            p
            for p in pickings
            if (
                related.partners.get(m2o_id(p.get("partner_id")) or -1, {}).get("country_code")
                or origin
            )
            != origin
        ]
        move_ids = {m for p in border for m in (p.get("move_ids") or [])}
        moves = self._read("stock.move", move_ids, MOVE_FIELDS)
        for move in moves:
            related.moves.setdefault(m2o_id(move.get("picking_id")) or -1, []).append(move)
        related.products = _by_id(
            self._read(
                "product.product", {m2o_id(m.get("product_id")) for m in moves}, PRODUCT_FIELDS
            )
        )

    def _read(self, model: str, ids: Iterable[int | None], fields: list[str]) -> list[dict]:
        wanted = sorted(i for i in ids if i)
        return self.odoo.read(model, wanted, fields) if wanted else []

    def _state_codes(self, partners: Iterable[dict[str, Any]]) -> dict[int, str]:
        """Carriers need the state *code*; Odoo's partner only links the state record."""
        ids = {m2o_id(p.get("state_id")) for p in partners} - {None}
        if not ids:
            return {}
        try:
            rows = self._read("res.country.state", ids, ["id", "code"])
        except OdooError as exc:
            log.warning("intake_state_codes_unavailable", error=exc.code)
            return {}
        return {int(r["id"]): str(r["code"]) for r in rows if r.get("code")}

    def _upsert(self, picking: dict[str, Any], related: _Related, *, channel: str) -> IntakeOutcome:
        picking_id = int(picking["id"])
        request, errors = self._build_request(picking, related)
        state = ShipmentState.INTENT if request else ShipmentState.FAILED
        write_date = odoo_datetime(picking.get("write_date"))
        source_ref = f"{PICKING_MODEL}:{picking_id}"
        with self.db.session() as session:
            latest = self._latest(session, source_ref)
            if latest is not None and latest.state != ShipmentState.CANCELLED.value:
                return self._refresh_if_newer(
                    session, latest, picking, request, errors, state, write_date
                )
            revision = latest.revision + 1 if latest else 1
            row = ShipmentRow(
                id=new_id("shp"),
                source=self.source,
                source_ref=source_ref,
                revision=revision,
                reference=str(picking.get("name") or source_ref),
                odoo_picking_id=picking_id,
                odoo_sale_order_id=m2o_id(picking.get("sale_id")),
                odoo_carrier_id=m2o_id(picking.get("carrier_id")),
                state=state.value,
                request=request.model_dump(mode="json") if request else None,
                source_snapshot=_snapshot(picking),
                source_write_date=write_date,
                error={"code": "invalid_picking", "fields": errors} if errors else None,
                promised_date=_as_datetime(request.promised_date) if request else None,
                correlation_id=correlation_id_var.get() or new_correlation_id(),
            )
            _set_parcels(row, request)
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                # the other channel inserted the same picking between our read and write; the
                # transaction held only that read, so rolling all of it back costs nothing (a
                # savepoint around the insert would cost two round trips on every intent)
                session.rollback()
                existing = session.scalars(
                    select(ShipmentRow).where(
                        ShipmentRow.source == self.source,
                        ShipmentRow.source_ref == source_ref,
                        ShipmentRow.revision == revision,
                    )
                ).one()
                return IntakeOutcome("duplicate", picking_id, existing.id, existing.state)
            record_audit(
                session,
                actor=f"system:intake:{channel}",
                action="shipment.intent_created",
                target_type="shipment",
                target_id=row.id,
                after={"state": row.state, "picking_id": picking_id, "revision": revision},
            )
        log.info(
            "intake_intent_created",
            shipment_id=row.id,
            picking_id=picking_id,
            state=row.state,
            channel=channel,
        )
        if request is not None and self.on_new_intent is not None:
            self.on_new_intent(row.id)
        return IntakeOutcome("created", picking_id, row.id, row.state, errors=errors or None)

    def _latest(self, session: Session, source_ref: str) -> ShipmentRow | None:
        """The picking's newest shipment revision, if any."""
        return session.scalars(  # type: ignore[no-any-return]
            select(ShipmentRow)
            .where(ShipmentRow.source == self.source, ShipmentRow.source_ref == source_ref)
            .order_by(ShipmentRow.revision.desc())
            .limit(1)
        ).first()

    def _build_request(
        self, picking: dict[str, Any], related: _Related
    ) -> tuple[ShipmentRequest | None, dict[str, str]]:
        shipper = related.partners.get(self.shipper_partner_id or -1)
        if shipper is None:
            return None, {
                "shipper": "ship-from address not found in Odoo: set "
                "WAYBILL_ODOO_SHIPPER_PARTNER_ID to the warehouse's res.partner id"
            }
        items: list[dict[str, Any]] | None = None
        recipient = related.partners.get(m2o_id(picking.get("partner_id")) or -1)
        if recipient and recipient.get("country_code") != shipper.get("country_code"):
            items, problems = customs_items(
                related.moves.get(int(picking["id"]), []),
                related.products,
                self.catalog,
                default_origin=str(shipper.get("country_code") or ""),
            )
            if problems:
                return None, problems
        try:
            request = picking_to_request(
                picking,
                recipient=related.partners.get(m2o_id(picking.get("partner_id")) or -1),
                shipper=shipper,
                sale_order=related.sale_orders.get(m2o_id(picking.get("sale_id")) or -1),
                carrier=related.carriers.get(m2o_id(picking.get("carrier_id")) or -1),
                state_codes=related.state_codes,
                max_parcel_kg=_decimal(self.settings.parcel_max_weight_kg),
                is_return=classify(picking) == RETURN,
                customs_items=items,
            )
        except MappingError as exc:
            return None, exc.fields
        return request, {}

    def _refresh_if_newer(
        self,
        session: Session,
        row: ShipmentRow,
        picking: dict[str, Any],
        request: ShipmentRequest | None,
        errors: dict[str, str],
        state: ShipmentState,
        write_date: datetime | None,
    ) -> IntakeOutcome:
        """A picking edited before booking (address fixed, carrier changed) refreshes its intent."""
        newer = write_date and (row.source_write_date is None or write_date > row.source_write_date)
        if row.state not in OPEN_STATES or not newer:
            return IntakeOutcome("duplicate", row.odoo_picking_id or 0, row.id, row.state)
        before = {"state": row.state}
        row.request = request.model_dump(mode="json") if request else None
        row.error = {"code": "invalid_picking", "fields": errors} if errors else None
        row.state = state.value
        row.source_snapshot = _snapshot(picking)
        row.source_write_date = write_date
        row.odoo_carrier_id = m2o_id(picking.get("carrier_id"))
        row.parcels.clear()
        session.flush()
        _set_parcels(row, request)
        record_audit(
            session,
            actor="system:intake",
            action="shipment.intent_refreshed",
            target_type="shipment",
            target_id=row.id,
            before=before,
            after={"state": row.state},
        )
        return IntakeOutcome(
            "refreshed", row.odoo_picking_id or 0, row.id, row.state, errors=errors or None
        )


class _Related:
    def __init__(self) -> None:
        self.partners: dict[int, dict[str, Any]] = {}
        self.sale_orders: dict[int, dict[str, Any]] = {}
        self.carriers: dict[int, dict[str, Any]] = {}
        self.state_codes: dict[int, str] = {}
        self.moves: dict[int, list[dict[str, Any]]] = {}
        self.products: dict[int, dict[str, Any]] = {}


SHIP, RETURN, CANCELLED = "ship", "return", "cancelled"


def classify(picking: dict[str, Any]) -> str:
    """``ship``, ``return`` (a customer return needing a label), ``cancelled``, or why not."""
    code, state = picking.get("picking_type_code"), picking.get("state")
    if code not in ("outgoing", "incoming"):
        return f"not_shippable_{code}"
    if code == "incoming" and not picking.get("is_return_picking"):
        return "not_outgoing"  # a vendor receipt: nothing for Waybill to ship
    if state == "cancel":
        return CANCELLED
    if state != "assigned":
        return f"state_{state}"
    return RETURN if code == "incoming" else SHIP


def _by_id(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {int(r["id"]): r for r in rows}


def _snapshot(picking: dict[str, Any]) -> dict[str, Any]:
    """What Odoo said, minus personal data: ids and states only, for support and audit."""
    keep = (
        "id",
        "name",
        "state",
        "picking_type_code",
        "carrier_id",
        "sale_id",
        "write_date",
        "origin",
        "weight",
        "backorder_id",
        "partner_id",
    )
    return {k: picking.get(k) for k in keep if k in picking}


def _decimal(value: float | None) -> Decimal | None:
    return Decimal(str(value)) if value else None


def _as_datetime(value: Any) -> datetime | None:
    return datetime(value.year, value.month, value.day, tzinfo=UTC) if value else None


def _set_parcels(row: ShipmentRow, request: ShipmentRequest | None) -> None:
    if request is None:
        return
    for index, parcel in enumerate(request.parcels):
        dims = parcel.dims_cm
        row.parcels.append(
            ParcelRow(
                index=index,
                weight_kg=parcel.weight_kg,
                length_cm=dims[0] if dims else None,
                width_cm=dims[1] if dims else None,
                height_cm=dims[2] if dims else None,
            )
        )

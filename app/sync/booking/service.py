"""Booking orchestration: intent → quotes → choice → label → Odoo write-back (via the outbox).

Buying a label is the one step that costs money and cannot be rolled back, so it is fenced:

1. the choice is persisted and the shipment moves to ``booking`` *before* the carrier is called;
2. the carrier gets a deterministic idempotency key (shipment id + revision), so a job retried
   after a crash anywhere around the call asks for the same label, not a second one;
3. the label, tracking numbers, price and the Odoo writes they imply commit in one transaction,
   and the writes reach Odoo from the outbox — once, in order, whatever Odoo's health.

A carrier that *rejects* the request (bad address, overweight) fails the shipment with the
carrier's words on the picking; a carrier that is *down* raises, and the job backs off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from app.carriers.errors import (
    CarrierError,
    CarrierRejectedError,
    CarrierTimeoutError,
    CarrierUnavailableError,
)
from app.core.audit import record_audit
from app.core.db import Database
from app.core.errors import WaybillError
from app.core.logging import get_logger
from app.models import (
    BookingResult,
    Money,
    Rate,
    ShipmentRequest,
    ShipmentState,
)
from app.store.tables import LabelRow, RateRow, ShipmentRow
from app.store.types import utcnow
from app.sync.booking.approval import request_approval
from app.sync.booking.cancellation import CancelOutcome, ShipmentCanceller
from app.sync.booking.direct import create_direct_intent
from app.sync.booking.directory import CarrierChoice, CarrierDirectory
from app.sync.booking.messages import (
    approval_html,
    booked_html,
    carrier_down_html,
    failed_html,
)
from app.sync.booking.policy import Decision, DefaultPolicy, SelectionPolicy
from app.sync.booking.rate_shop import RateShopResult, rate_shop
from app.sync.booking.records import booking_key, locked, queue_shipment_message
from app.sync.writeback.outbox import (
    KIND_PICKING_LABELS,
    KIND_PICKING_SHIPPED,
    enqueue_write,
    picking_aggregate,
    sla_marker,
)

log = get_logger(__name__)

BOOKABLE = {ShipmentState.INTENT.value, ShipmentState.RATED.value, ShipmentState.BOOKING.value}


@dataclass
class BookingOutcome:
    shipment_id: str
    state: str
    detail: str = ""


CLAIM_MARGIN = timedelta(seconds=10)  # beyond the carrier timeout: rate-limit wait, commit
OUTCOME_UNKNOWN = "purchase_outcome_unknown"  # the carrier got the request, no answer came
CLAIM_WAIT_SECONDS = 15.0  # a re-run waits this long in place for another run's claim


class BookingInProgressError(WaybillError):
    """Another run of this booking holds a fresh claim; retry after it has answered."""

    code = "booking_in_progress"
    http_status = 409
    retryable = True

    def __init__(self, shipment_id: str) -> None:
        super().__init__(f"shipment {shipment_id} is being booked by another run")


class _SupersededError(Exception):
    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


class BookingService:
    def __init__(
        self,
        *,
        db: Database,
        directory: CarrierDirectory,
        policy: SelectionPolicy | None = None,
        on_writes_queued: Callable[[], None] | None = None,
        rate_workers: int = 8,
    ) -> None:
        self.db = db
        self.directory = directory
        self.policy = policy or DefaultPolicy()
        self.on_writes_queued = on_writes_queued
        self.rate_workers = rate_workers
        self.claim_wait = CLAIM_WAIT_SECONDS

    def book_shipment(self, shipment_id: str, *, wait_for_claim: bool = True) -> BookingOutcome:
        """Idempotent: a shipment already booked, failed or waiting for a person is left alone.

        ``booking`` on entry means an earlier attempt called the carrier and never learned the
        answer (crash, timeout). None of the supported carriers honours an idempotency key, so
        buying again could buy twice: the shipment goes to a dispatcher instead, with the
        reference to look up at the carrier. Every *definite* answer (a label, a rejection, an
        error response) is recorded, so only a true unknown ever needs a person.
        """
        with self.db.session() as session:
            row = session.get(ShipmentRow, shipment_id)
            if row is None:
                return BookingOutcome(shipment_id, "missing", "no such shipment")
            if row.state not in BOOKABLE or row.request is None:
                return BookingOutcome(shipment_id, row.state, "not bookable in this state")
            if row.state == ShipmentState.BOOKING.value:
                fresh_for = self._claim_lifetime(row.carrier_account) - (utcnow() - row.updated_at)
                unknown = (row.error or {}).get("code") == OUTCOME_UNKNOWN
                if fresh_for > timedelta(0) and not unknown:
                    # another run may be talking to the carrier right now (a job re-queued
                    # after Redis lost it, or a worker killed a moment ago): let its claim run
                    # out before concluding that nobody knows the outcome
                    if not wait_for_claim:
                        raise BookingInProgressError(shipment_id)
                    session.close()
                    self._wait_for_claim(shipment_id, fresh_for)
                    return self.book_shipment(shipment_id, wait_for_claim=False)
                return self._hold_for_dispatcher(
                    shipment_id,
                    Decision(
                        _chosen_rate(row),
                        f"an earlier booking attempt (reference {booking_key(row)}) got no answer "
                        "from the carrier; check whether a label was bought before booking again",
                    ),
                )
            request = ShipmentRequest.model_validate(row.request)
            entry_state = row.state
            chosen = _chosen_rate(row) if row.state == ShipmentState.RATED.value else None
            key = booking_key(row)
            odoo_carrier_id = row.odoo_carrier_id
            requested = _requested_choice(request)
        reason = "carrier chosen earlier"
        claimed = False
        if chosen is None:
            try:
                decision = self._decide(shipment_id, request, odoo_carrier_id, requested)
            except CarrierRejectedError as exc:
                return self._fail(shipment_id, "No carrier accepts this shipment", exc)
            except _SupersededError as exc:
                return BookingOutcome(shipment_id, exc.state, "taken over by another run")
            if decision.rate is None or decision.needs_approval:
                return self._hold_for_dispatcher(shipment_id, decision)
            chosen, reason = decision.rate, decision.reason
            claimed = True  # in the transaction that recorded the choice (see ``_decide``)
        if not claimed and not self._claim(shipment_id, entry_state):
            return BookingOutcome(
                shipment_id, self._state(shipment_id), "taken over by another run"
            )
        account = self.directory.accounts[chosen.carrier_account]
        try:
            booking = self.directory.adapter(account.id).book(
                request, chosen, idempotency_key=key, label_format=account.label_format
            )
        except CarrierTimeoutError as exc:
            # outcome unknown: the shipment stays in ``booking`` (see above), marked so that the
            # retry goes to a person at once instead of waiting out a claim nobody holds
            self._mark_outcome_unknown(shipment_id, exc)
            raise
        except CarrierRejectedError as exc:
            return self._fail(shipment_id, "Carrier rejected the shipment", exc)
        except CarrierError as exc:
            if not exc.retryable:
                return self._fail(shipment_id, "Booking failed", exc)
            self._set_state(shipment_id, ShipmentState.RATED)  # nothing bought; retry freely
            raise
        return self._record_booking(shipment_id, booking, chosen, reason)

    def cancel_shipment(self, shipment_id: str, *, actor: str = "system:booking") -> CancelOutcome:
        """Void a booked label (see ``cancellation``)."""
        canceller = ShipmentCanceller(
            db=self.db, directory=self.directory, on_writes_queued=self.on_writes_queued
        )
        return canceller.cancel(shipment_id, actor=actor)

    def create_direct(
        self,
        request: ShipmentRequest,
        *,
        idempotency_key: str,
        actor: str,
        account: str | None = None,
        service: str | None = None,
    ) -> str:
        """An API booking: persisted as an intent first (see ``direct``)."""
        return create_direct_intent(
            self.db,
            self.directory,
            request,
            idempotency_key=idempotency_key,
            actor=actor,
            account=account,
            service=service,
        )

    def quote(self, request: ShipmentRequest) -> RateShopResult:
        """Quotes from every eligible account, nothing persisted (``GET``/``POST /v1/rates``)."""
        return rate_shop(self.directory.eligible(request), request, workers=self.rate_workers)

    def _claim(self, shipment_id: str, expected_state: str) -> bool:
        """Compare-and-set ``expected_state`` → ``booking``: of two runs of one booking (a job
        re-queued while the first still runs), exactly one may call the carrier."""
        with self.db.session() as session:
            claimed = session.execute(
                update(ShipmentRow)
                .where(ShipmentRow.id == shipment_id, ShipmentRow.state == expected_state)
                .values(
                    state=ShipmentState.BOOKING.value,
                    updated_at=utcnow(),
                    error=None,  # a new attempt: no earlier "outcome unknown" applies to it
                    version=ShipmentRow.version + 1,  # the ORM's optimistic lock sees the change
                )
                .execution_options(synchronize_session=False)
            )
            return bool(claimed.rowcount)

    def _wait_for_claim(self, shipment_id: str, fresh_for: timedelta) -> None:
        """Wait, at most ``claim_wait``, for another run's claim to settle or lapse; the caller
        then decides again (still fresh after the wait → retry later: the job backs off)."""
        # a hair past the lapse, so the second look does not find it fresh by a millisecond
        wait = min(fresh_for.total_seconds() + 0.05, self.claim_wait)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
            if self._state(shipment_id) != ShipmentState.BOOKING.value:
                return

    def _mark_outcome_unknown(self, shipment_id: str, exc: CarrierError) -> None:
        with self.db.session() as session:
            row = locked(session, shipment_id)
            if row.state == ShipmentState.BOOKING.value:
                row.error = {"code": OUTCOME_UNKNOWN, "carrier_error": exc.code}

    def _claim_lifetime(self, account_id: str | None) -> timedelta:
        """How long a run can legitimately hold the ``booking`` claim: one carrier call. Older
        than that, the run died and only a person can tell whether a label was bought."""
        account = self.directory.accounts.get(account_id or "")
        timeout = account.timeout_seconds if account is not None else 30.0
        return timedelta(seconds=timeout) + CLAIM_MARGIN

    def _state(self, shipment_id: str) -> str:
        with self.db.session() as session:
            row = session.get(ShipmentRow, shipment_id)
            return row.state if row is not None else "missing"

    def _set_state(self, shipment_id: str, state: ShipmentState) -> None:
        with self.db.session() as session:
            locked(session, shipment_id).state = state.value

    # -- steps ---------------------------------------------------------------------------------

    def _decide(
        self,
        shipment_id: str,
        request: ShipmentRequest,
        odoo_carrier_id: int | None,
        requested: CarrierChoice | None = None,
    ) -> Decision:
        """Quote, choose, and record the quotes and the choice; a choice that needs no person is
        also claimed for booking in that same transaction (the caller then buys at once)."""
        shop = rate_shop(self.directory.eligible(request), request, workers=self.rate_workers)
        if not shop.rates and shop.all_retryable:
            raise CarrierUnavailableError(
                "no carrier could quote right now: "
                + ", ".join(f"{k}: {v.code}" for k, v in shop.errors.items())
            )
        rejections = [e for e in shop.errors.values() if isinstance(e, CarrierRejectedError)]
        if not shop.rates and rejections:
            raise rejections[0]  # the request itself is wrong (address, weight): a person fixes it
        preferred = requested or self.directory.odoo_choice(
            odoo_carrier_id, request.carrier_preference
        )
        down = shop.errors.get(preferred.account) if preferred else None
        if preferred is not None and down is not None and down.retryable:
            self._offer_alternative(shipment_id, preferred, down, shop.rates)
            raise CarrierUnavailableError(
                f"{preferred.account} is unavailable ({down.code}); the booking waits for it",
                carrier=down.carrier,
            )
        decision = self.policy.choose(request, shop.rates, preferred=preferred)
        with self.db.session() as session:
            row = locked(session, shipment_id)
            if row.state not in (ShipmentState.INTENT.value, ShipmentState.RATED.value):
                raise _SupersededError(row.state)  # another run got further meanwhile
            row.rates.clear()
            for rate in shop.rates:
                row.rates.append(_rate_row(rate, chosen=rate is decision.rate))
            row.state = ShipmentState.RATED.value
            if decision.rate is not None:
                row.carrier = decision.rate.carrier
                row.carrier_account = decision.rate.carrier_account
                row.service = decision.rate.service
            row.error = (
                {"code": "rate_errors", "accounts": {k: v.code for k, v in shop.errors.items()}}
                if shop.errors
                else None
            )
            if decision.rate is not None and not decision.needs_approval:
                # The claim (``_claim``'s rated → booking), in this transaction: the row is locked
                # and its state checked above, so exactly one run gets here, and the choice and the
                # claim commit together — one transaction per booking fewer. The rates keep the
                # chosen quote, so a run that resets the state to ``rated`` resumes from it.
                row.state = ShipmentState.BOOKING.value
                row.updated_at = utcnow()
                row.error = None  # as ``_claim``: a new attempt, no earlier outcome applies
        return decision

    def _offer_alternative(
        self, shipment_id: str, preferred: CarrierChoice, down: CarrierError, rates: list[Rate]
    ) -> None:
        """The chosen carrier is down: say so once on the picking, with the best other quote —
        a suggestion for the dispatcher, never a silent switch."""
        best = min(rates, key=lambda r: r.total.amount) if rates else None
        with self.db.session() as session:
            row = locked(session, shipment_id)
            self._message(
                session,
                row,
                f"carrier-down-{preferred.account}",
                carrier_down_html(preferred.account, down.code, best),
            )
        self._writes_queued()
        log.warning(
            "booking_waits_for_carrier",
            shipment_id=shipment_id,
            account=preferred.account,
            error=down.code,
        )

    def _hold_for_dispatcher(self, shipment_id: str, decision: Decision) -> BookingOutcome:
        with self.db.session() as session:
            row = locked(session, shipment_id)
            what = f"needs-dispatcher-from-{row.state}"
            row.state = ShipmentState.AWAITING_APPROVAL.value
            self._message(session, row, what, approval_html(decision.rate, decision.reason))
            request_approval(session, row, decision.rate, decision.reason)
        self._writes_queued()
        log.info("booking_needs_dispatcher", shipment_id=shipment_id, reason=decision.reason)
        return BookingOutcome(shipment_id, ShipmentState.AWAITING_APPROVAL.value, decision.reason)

    def _fail(self, shipment_id: str, title: str, exc: CarrierError) -> BookingOutcome:
        with self.db.session() as session:
            row = locked(session, shipment_id)
            before = row.state
            row.state = ShipmentState.FAILED.value
            row.error = {"code": exc.code, "message": exc.message, **exc.details}
            self._message(
                session, row, f"failed-{exc.code}", failed_html(title, exc.message, exc.details)
            )
            record_audit(
                session,
                actor="system:booking",
                action="shipment.booking_failed",
                target_type="shipment",
                target_id=row.id,
                before={"state": before},
                after={"state": row.state, "code": exc.code},
            )
        self._writes_queued()
        log.warning("booking_failed", shipment_id=shipment_id, error=exc.code)
        return BookingOutcome(shipment_id, ShipmentState.FAILED.value, exc.message)

    def _record_booking(
        self, shipment_id: str, booking: BookingResult, rate: Rate, reason: str
    ) -> BookingOutcome:
        with self.db.session() as session:
            row = locked(session, shipment_id)
            if row.state != ShipmentState.BOOKING.value:  # another attempt got here first
                return BookingOutcome(shipment_id, row.state, "already recorded")
            price = booking.charged or rate.total
            row.state = ShipmentState.BOOKED.value
            row.carrier, row.carrier_account = booking.carrier, booking.carrier_account
            row.service = booking.service
            row.carrier_shipment_id = booking.carrier_shipment_id
            row.price_amount, row.price_currency = price.amount, price.currency
            row.error = None
            for parcel, number in zip(row.parcels, booking.tracking_numbers, strict=False):
                parcel.tracking_number = number
            # added by key rather than through ``row.labels``: appending would first load the
            # shipment's label collection, one more round trip per booking
            labels = [
                LabelRow(
                    shipment_id=row.id,
                    parcel_index=label.parcel_index,
                    tracking_number=label.tracking_number,
                    format=label.format.value,
                    data=label.data,
                )
                for label in booking.labels
            ]
            session.add_all(labels)
            session.flush()
            # each outbox write checks its dedupe key first; without autoflush those checks do
            # not push the previous write out one INSERT at a time, and the writes (distinct
            # keys) go to the database together at commit
            with session.no_autoflush:
                self._queue_writeback(session, row, booking, price, labels, reason, rate)
            record_audit(
                session,
                actor="system:booking",
                action="shipment.booked",
                target_type="shipment",
                target_id=row.id,
                before={"state": "booking"},
                after={
                    "state": row.state,
                    "carrier": booking.carrier,
                    "tracking": booking.master_tracking_number,
                    "price": str(price.amount),
                },
            )
        self._writes_queued()
        log.info(
            "shipment_booked",
            shipment_id=shipment_id,
            carrier=booking.carrier,
            account=booking.carrier_account,
            tracking=booking.master_tracking_number,
        )
        return BookingOutcome(
            shipment_id, ShipmentState.BOOKED.value, booking.master_tracking_number
        )

    def _queue_writeback(
        self,
        session: Any,
        row: ShipmentRow,
        booking: BookingResult,
        price: Money,
        labels: list[LabelRow],
        reason: str,
        rate: Rate,
    ) -> None:
        if row.odoo_picking_id is None:
            return
        aggregate = picking_aggregate(row.odoo_picking_id)
        key = booking_key(row)
        enqueue_write(
            session,
            aggregate=aggregate,
            kind=KIND_PICKING_SHIPPED,
            dedupe_key=f"{key}:shipped",
            payload={
                "picking_id": row.odoo_picking_id,
                "tracking_ref": ",".join(booking.tracking_numbers),
                "price": str(Decimal(price.amount)),
                "currency": price.currency,
            },
        )
        if labels:
            prefix = "LabelReturn" if (row.request or {}).get("is_return") else "LabelShipping"
            enqueue_write(
                session,
                aggregate=aggregate,
                kind=KIND_PICKING_LABELS,
                dedupe_key=f"{key}:labels",
                payload={
                    "picking_id": row.odoo_picking_id,
                    "label_ids": [label.id for label in labels],
                    "prefix": f"{prefix}-{booking.carrier}",
                    **sla_marker("ready_to_label", row.created_at, booking.carrier),
                },
            )
        self._message(session, row, "booked", booked_html(booking, rate, reason))

    def _message(self, session: Any, row: ShipmentRow, what: str, body_html: str) -> None:
        queue_shipment_message(session, row, what, body_html)

    def _writes_queued(self) -> None:
        if self.on_writes_queued is not None:
            self.on_writes_queued()


def _requested_choice(request: ShipmentRequest) -> CarrierChoice | None:
    account = request.metadata.get("requested_account")
    if not account:
        return None
    return CarrierChoice(account, request.metadata.get("requested_service"), strict=True)


def _rate_row(rate: Rate, *, chosen: bool) -> RateRow:
    return RateRow(
        carrier=rate.carrier,
        carrier_account=rate.carrier_account,
        service=rate.service,
        amount=rate.total.amount,
        currency=rate.total.currency,
        transit_days=rate.transit_days,
        chosen=chosen,
        scores={"quote": rate.model_dump(mode="json")},  # the exact quote, to resume a booking
        estimated_delivery=None,
        quoted_at=utcnow(),
    )


def _chosen_rate(row: ShipmentRow) -> Rate | None:
    for r in row.rates:
        if r.chosen and (r.scores or {}).get("quote"):
            return Rate.model_validate(r.scores["quote"])
        if r.chosen:
            return Rate(
                carrier=r.carrier,
                carrier_account=r.carrier_account,
                service=r.service,
                total=Money(amount=r.amount, currency=r.currency),
                transit_days=r.transit_days,
                rate_id=(r.scores or {}).get("rate_id"),
            )
    return None

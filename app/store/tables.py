"""The store's tables. One metadata, one migration history, for SQLite and PostgreSQL alike.

Rows keep what was true when it happened (raw carrier payloads, the quote that was chosen, who
decided what) because triage, ETA and recommendation models are trained on exactly this.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base
from app.store.types import JSONType, UTCDateTime, utcnow

Money = Numeric(12, 2)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class ShipmentRow(TimestampMixin, Base):
    """One shipment intent and everything bought for it.

    ``(source, source_ref, revision)`` is the intake's idempotency key: the same Odoo picking
    seen by webhook and poller maps to one row; a picking that is re-readied after its shipment was
    cancelled gets the next revision.
    """

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", "revision", name="uq_shipments_source_ref"),
        Index("ix_shipments_state_updated", "state", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), nullable=False)  # e.g. "odoo:waybill-demo"
    source_ref: Mapped[str] = mapped_column(String(64), nullable=False)  # e.g. "stock.picking:42"
    revision: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    reference: Mapped[str] = mapped_column(String(64), nullable=False)  # WH/OUT/00042
    odoo_picking_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    odoo_sale_order_id: Mapped[int | None] = mapped_column(BigInteger)
    odoo_carrier_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    request: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    source_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    source_write_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    carrier: Mapped[str | None] = mapped_column(String(32))
    carrier_account: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(64))
    carrier_shipment_id: Mapped[str | None] = mapped_column(String(128))
    price_amount: Mapped[Decimal | None] = mapped_column(Money)
    price_currency: Mapped[str | None] = mapped_column(String(3))
    promised_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    tracking_status: Mapped[str | None] = mapped_column(String(32))
    tracking_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    tracking_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    correlation_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative API

    parcels: Mapped[list[ParcelRow]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="ParcelRow.index"
    )
    rates: Mapped[list[RateRow]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan"
    )
    labels: Mapped[list[LabelRow]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan"
    )


class ParcelRow(Base):
    __tablename__ = "parcels"
    __table_args__ = (UniqueConstraint("shipment_id", "index", name="uq_parcels_shipment_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer, nullable=False)
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(10, 3), nullable=False)
    length_cm: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    width_cm: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    height_cm: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    tracking_number: Mapped[str | None] = mapped_column(String(64), index=True)

    shipment: Mapped[ShipmentRow] = relationship(back_populates="parcels")


class RateRow(Base):
    """Every quote offered, not only the chosen one: the recommender learns from the others."""

    __tablename__ = "rates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    carrier: Mapped[str] = mapped_column(String(32), nullable=False)
    carrier_account: Mapped[str] = mapped_column(String(64), nullable=False)
    service: Mapped[str] = mapped_column(String(64), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    transit_days: Mapped[int | None] = mapped_column(Integer)
    estimated_delivery: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chosen: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    scores: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    quoted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    shipment: Mapped[ShipmentRow] = relationship(back_populates="rates")


class LabelRow(Base):
    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("shipment_id", "parcel_index", "format", name="uq_labels_parcel_format"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    parcel_index: Mapped[int] = mapped_column(Integer, nullable=False)
    tracking_number: Mapped[str] = mapped_column(String(64), nullable=False)
    format: Mapped[str] = mapped_column(String(8), nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    odoo_attachment_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    shipment: Mapped[ShipmentRow] = relationship(back_populates="labels")


class TrackingEventRow(Base):
    """A carrier event as received (raw payload kept) and as normalized.

    ``dedupe_key`` is the carrier's event id, or a content hash where the carrier sends none, so
    a webhook redelivered for two days is stored once.
    """

    __tablename__ = "tracking_events"
    __table_args__ = (Index("ix_tracking_events_number_time", "tracking_number", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    shipment_id: Mapped[str | None] = mapped_column(
        ForeignKey("shipments.id", ondelete="SET NULL"), index=True
    )
    carrier: Mapped[str] = mapped_column(String(32), nullable=False)
    tracking_number: Mapped[str] = mapped_column(String(64), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    raw_code: Mapped[str | None] = mapped_column(String(64))
    raw_description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    exception_category: Mapped[str | None] = mapped_column(String(40))
    location: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    raw_payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(String(16), default="webhook", nullable=False)


class SuggestionRow(TimestampMixin, Base):
    """Something a model proposed to a person (triage, carrier choice, at-risk alert)."""

    __tablename__ = "suggestions"
    __table_args__ = (UniqueConstraint("kind", "dedupe_key", name="uq_suggestions_kind_key"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(128), nullable=False)
    shipment_id: Mapped[str | None] = mapped_column(
        ForeignKey("shipments.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="open", nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    model_name: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column()
    odoo_activity_id: Mapped[int | None] = mapped_column(BigInteger)


class FeedbackRow(Base):
    """A person's decision on a suggestion: the label that closes the learning loop."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[str] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str] = mapped_column(String(64), nullable=False)
    target_id: Mapped[str] = mapped_column(String(64), nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    correlation_id: Mapped[str | None] = mapped_column(String(64), index=True)


class IdempotencyKeyRow(Base):
    """Stored outcome of a mutating request, replayed when the same key comes again (24 h)."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # in_flight | completed
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)


class OutboxRow(Base):
    """A write Waybill owes Odoo, stored in the same transaction as the change that caused it.

    Drained in ``id`` order per ``aggregate`` so an Odoo outage delays write-back but never
    loses or reorders it; ``dedupe_key`` keeps a retried job from queueing the same write twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "available_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    aggregate: Mapped[str] = mapped_column(String(96), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(48), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    correlation_id: Mapped[str | None] = mapped_column(String(64))


class OdooHintRow(Base):
    """An automation-rule webhook we could not settle at once (Odoo slow, record not committed).

    Persisted before the webhook is acknowledged; re-checked until settled or given up on, with
    the ``write_date`` poller as the final safety net.
    """

    __tablename__ = "odoo_hints"
    __table_args__ = (Index("ix_odoo_hints_due", "status", "next_check_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    action: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    correlation_id: Mapped[str | None] = mapped_column(String(64))


class SyncCursorRow(Base):
    """Watermarks of incremental polls (e.g. Odoo ``write_date`` per database)."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class WebhookInboxRow(Base):
    """A carrier or platform webhook exactly as received, stored before it is acknowledged.

    ``(source, body_sha256)`` is unique: a platform redelivering the same body for two days
    adds nothing. Parsing happens afterwards, from here, so a parser fix can replay old bodies.
    """

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("source", "body_sha256", name="uq_webhook_inbox_body"),
        Index("ix_webhook_inbox_pending", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    account_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    body_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    events: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    correlation_id: Mapped[str | None] = mapped_column(String(64))


class OutboundDeliveryRow(Base):
    """One attempt-tracked delivery of an event to a subscriber's webhook (the delivery log)."""

    __tablename__ = "outbound_deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber", "event_id", name="uq_outbound_deliveries_event"),
        Index("ix_outbound_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber: Mapped[str] = mapped_column(String(64), nullable=False)
    event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    event_type: Mapped[str] = mapped_column(String(48), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


from app.store.security_tables import ApiKeyRow  # noqa: E402,F401 - same metadata


class AlertRow(TimestampMixin, Base):
    """A degradation of one carrier, service or lane on one metric, as people handle it.

    One row per episode: ``dedupe_key`` is (scope, key, metric, first day), so the detector,
    re-run over its window on every sweep, finds the episode it already reported. ``state`` is
    open -> acknowledged -> resolved (``app.sync.alerts.states``); the detector resolves an
    episode when the series recovers, a person may acknowledge or resolve it earlier.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_state_scope", "state", "scope", "key"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)  # carrier | service | lane
    key: Mapped[str] = mapped_column(String(128), nullable=False)  # parcelo:EXPRESS, DE:AT
    metric: Mapped[str] = mapped_column(String(32), nullable=False)
    state: Mapped[str] = mapped_column(String(16), default="open", nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    value: Mapped[float | None] = mapped_column()
    expected: Mapped[float | None] = mapped_column()
    score: Mapped[float | None] = mapped_column()
    peak_score: Mapped[float | None] = mapped_column()
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolution: Mapped[str | None] = mapped_column(String(32))  # recovered | manual


class ManifestRow(Base):
    """One end-of-day close-out of one carrier account: what the driver scans at pickup.

    ``id`` is derived from the account, the day and the shipments it lists, so closing the same
    group twice is the same row; the document's hash proves which sheet was handed over.
    """

    __tablename__ = "manifests"
    __table_args__ = (Index("ix_manifests_account_day", "account", "day"),)

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    shipment_count: Mapped[int] = mapped_column(Integer, nullable=False)
    parcel_count: Mapped[int] = mapped_column(Integer, nullable=False)
    document_name: Mapped[str] = mapped_column(String(200), nullable=False)
    document_source: Mapped[str] = mapped_column(String(16), nullable=False)  # waybill | carrier
    document_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    carrier_reference: Mapped[str | None] = mapped_column(String(128))
    odoo_carrier_id: Mapped[int | None] = mapped_column(BigInteger)
    odoo_attachment_id: Mapped[int | None] = mapped_column(BigInteger)


class ManifestShipmentRow(Base):
    """A shipment listed on a manifest; the unique ``shipment_id`` is the store's guarantee that
    no shipment is ever handed over on two manifests, even when two close-outs race."""

    __tablename__ = "manifest_shipments"

    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), primary_key=True
    )
    manifest_id: Mapped[str] = mapped_column(
        ForeignKey("manifests.id", ondelete="CASCADE"), nullable=False, index=True
    )

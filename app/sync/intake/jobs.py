"""Intake entry points for workers and schedulers (RQ jobs take ids and no live objects)."""

from __future__ import annotations

from typing import Any

from app.core.context import AppContext, get_context
from app.sync.booking.jobs import enqueue_booking, enqueue_cancel
from app.sync.intake.service import IntakeService


def build_intake(ctx: AppContext, *, fast: bool = False) -> IntakeService:
    def book(shipment_id: str) -> None:
        if ctx.settings.auto_book:
            enqueue_booking(ctx, shipment_id)

    return IntakeService(
        db=ctx.db,
        odoo=ctx.odoo_fast if fast else ctx.odoo,
        settings=ctx.settings,
        on_new_intent=book,
        on_cancelled=lambda shipment_id: enqueue_cancel(ctx, shipment_id),
    )


def poll_pickings() -> dict[str, Any]:
    """One ``write_date`` poll cycle, plus any stored webhook hints that are due."""
    ctx = get_context()
    intake = build_intake(ctx)
    report = intake.poll_once().to_body()
    report["hints"] = intake.settle_due_hints()
    return report

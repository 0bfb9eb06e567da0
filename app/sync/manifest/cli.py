"""``waybill manifest close``: the end-of-day close-out, from cron or by hand."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import typer

manifest_app = typer.Typer(help="End-of-day manifests per carrier account.", no_args_is_help=True)


@manifest_app.callback()
def _group() -> None:
    """End-of-day manifest commands."""


@manifest_app.command("close")
def close_cmd(
    day: str = typer.Option("", "--day", help="YYYY-MM-DD (UTC); default: today."),
    account: list[str] = typer.Option([], "--account", help="Only these carrier accounts."),
) -> None:
    """Close the day's labelled shipments: one manifest per account, posted to Odoo."""
    from app.core.context import get_context
    from app.sync.booking.jobs import carrier_directory
    from app.sync.manifest.service import ManifestService

    ctx = get_context()
    when = date.fromisoformat(day) if day else datetime.now(UTC).date()
    service = ManifestService(db=ctx.db, directory=carrier_directory(ctx), odoo=ctx.odoo)
    records = service.close_day(when, accounts=account or None)
    typer.echo(json.dumps({"day": when.isoformat(), "manifests": [r.to_body() for r in records]}))

"""Shared helpers of the intake tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.core.config import Settings
from app.core.db import Database
from app.sync.intake.service import IntakeService
from app.sync.odoo import OdooClient
from app.sync.odoo_sandbox import OdooSandbox

READY_DOMAIN = [("picking_type_code", "=", "outgoing"), ("state", "=", "assigned")]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Env:
    sandbox: OdooSandbox
    odoo: OdooClient
    db: Database
    settings: Settings
    intake: IntakeService
    clock: Clock

    def ready_picking_ids(self) -> list[int]:
        rows = self.odoo.search_read("stock.picking", READY_DOMAIN, ["id"], order="id asc")
        return [r["id"] for r in rows]

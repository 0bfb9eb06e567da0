"""Wire shapes of intake: the Odoo automation-rule payload and what intake answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PICKING_MODEL = "stock.picking"

Outcome = Literal[
    "created", "duplicate", "refreshed", "ignored", "deferred", "cancelled", "cancel_requested"
]


class OdooWebhookPayload(BaseModel):
    """``{_action, _id, _model, ...fields}`` as Odoo's webhook server action sends it (§4.1).

    Extra keys (the selected fields) are kept but never trusted: the record is re-read.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, str_strip_whitespace=True)

    model: str = Field(alias="_model", min_length=1, max_length=128)
    record_id: int = Field(alias="_id", gt=0, lt=2**53)
    action: str | None = Field(default=None, alias="_action", max_length=256)

    def hint_fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


@dataclass
class IntakeOutcome:
    status: Outcome
    picking_id: int
    shipment_id: str | None = None
    state: str | None = None
    reason: str | None = None
    errors: dict[str, str] | None = None
    hint_id: int | None = None

    def to_body(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class PollReport:
    seen: int = 0
    pages: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    watermark: datetime | None = None

    def count(self, outcome: IntakeOutcome) -> None:
        self.outcomes[outcome.status] = self.outcomes.get(outcome.status, 0) + 1

    def to_body(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "pages": self.pages,
            "outcomes": self.outcomes,
            "watermark": self.watermark.isoformat() if self.watermark else None,
        }

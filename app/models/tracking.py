"""Canonical tracking event: one carrier scan, normalized, with the raw code and text kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from app.models.enums import ExceptionCategory, TrackingStatus
from app.models.shipment import CanonicalModel, CountryCode


class EventLocation(CanonicalModel):
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country_code: CountryCode | None = None


class TrackingEvent(CanonicalModel):
    """Why the raw fields stay: code tables are wrong sometimes, and triage reads the words."""

    carrier: str = Field(min_length=1)
    tracking_number: str = Field(min_length=1, max_length=64)
    occurred_at: datetime
    status: TrackingStatus
    raw_code: str | None = None
    raw_description: str = ""
    location: EventLocation | None = None
    exception_category: ExceptionCategory | None = None
    carrier_event_id: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a timezone: out-of-order handling compares instants")
        return value

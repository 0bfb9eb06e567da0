"""USPS adapter (USPS APIs v3, OAuth, through karrio).

Our table keys the real ``eventCode`` values; times come from ``GMTTimestamp`` or the local
``eventTimestamp`` with ``GMTOffset``. USPS subscription webhooks are not wired yet.
"""

from __future__ import annotations

from typing import Any, ClassVar

from app.carriers.karrio_support.adapter import KarrioAdapter
from app.carriers.karrio_support.runtime import Exchange
from app.carriers.timeutil import parse_iso, parse_offset
from app.carriers.usps import codes, services
from app.models import LabelFormat, TrackingEvent


class USPSAdapter(KarrioAdapter):
    code = "usps"
    karrio_name = "usps"
    table = codes.TABLE
    CAPABILITIES = services.CAPABILITIES
    label_types: ClassVar[dict[LabelFormat, str]] = {
        LabelFormat.PDF: "PDF",
        LabelFormat.ZPL: "ZPL203DPI",
    }

    def cancel_identifier(self, shipment_id: str, tracking_numbers: list[str]) -> str:
        return tracking_numbers[0] if tracking_numbers else shipment_id

    def is_tracking(self, exchange: Exchange) -> bool:
        return "/tracking/v3/" in exchange.path

    def events_from_payload(self, payload: Any) -> list[TrackingEvent]:
        if not isinstance(payload, dict):
            return []
        number = str(payload.get("trackingNumber") or "")
        events = []
        for item in payload.get("trackingEvents") or []:
            if not isinstance(item, dict):
                continue
            when = parse_iso(item.get("GMTTimestamp")) or parse_iso(
                item.get("eventTimestamp"), default_tz=parse_offset(item.get("GMTOffset"))
            )
            event = self.event(
                tracking_number=number,
                occurred_at=when,
                codes=[item.get("eventCode")],
                description=item.get("eventType"),
                location={
                    "city": item.get("eventCity"),
                    "region": item.get("eventState"),
                    "postal_code": item.get("eventZIP") or item.get("eventZIPCode"),
                    "country_code": item.get("eventCountry") or "US",
                },
                event_id=f"{number}:{item.get('eventTimestamp')}:{item.get('eventCode')}",
            )
            if event is not None:
                events.append(event)
        return events

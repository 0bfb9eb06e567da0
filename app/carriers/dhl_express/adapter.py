"""DHL Express adapter (MyDHL API, REST, through karrio's ``mydhl`` connector).

The legacy XML-PI connector (``dhl_express``) is not used: MyDHL is DHL's current API and its
connector is a fraction of the size. DHL prints every piece on one waybill document, so a
booking carries one label covering all parcels. MyDHL has no void and no push.
"""

from __future__ import annotations

from typing import Any, ClassVar

from app.carriers.dhl_express import codes, services
from app.carriers.karrio_support.adapter import KarrioAdapter
from app.carriers.karrio_support.runtime import Exchange
from app.carriers.timeutil import combine, parse_offset
from app.models import LabelFormat, TrackingEvent


class DHLExpressAdapter(KarrioAdapter):
    code = "dhl_express"
    karrio_name = "mydhl"
    table = codes.TABLE
    CAPABILITIES = services.CAPABILITIES
    label_types: ClassVar[dict[LabelFormat, str]] = {LabelFormat.PDF: "PDF", LabelFormat.ZPL: "ZPL"}

    def is_tracking(self, exchange: Exchange) -> bool:
        return exchange.path.endswith("/tracking")

    def events_from_payload(self, payload: Any) -> list[TrackingEvent]:
        events = []
        for shipment in (payload or {}).get("shipments") or []:
            if not isinstance(shipment, dict):
                continue
            number = str(shipment.get("shipmentTrackingNumber") or "")
            for item in shipment.get("events") or []:
                if not isinstance(item, dict):
                    continue
                area = next(iter(item.get("serviceArea") or []), {}) or {}
                city, _, country = str(area.get("description") or "").rpartition("-")
                event = self.event(
                    tracking_number=number,
                    # local date/time with the checkpoint's own GMT offset
                    occurred_at=combine(
                        item.get("date"),
                        item.get("time"),
                        date_format="%Y-%m-%d",
                        time_format="%H:%M:%S",
                        tz=parse_offset(item.get("GMTOffset")),
                    ),
                    codes=[item.get("typeCode")],
                    description=item.get("description"),
                    location={"city": city or None, "country_code": country or None},
                    event_id=f"{number}:{item.get('date')}T{item.get('time')}:{item.get('typeCode')}",
                    extra={"dhl_service_area": area.get("code")},
                )
                if event is not None:
                    events.append(event)
        return events

"""FedEx adapter (REST Ship/Rate/Track APIs through karrio).

Beyond the connector: one label per piece (karrio merges pieces into one document), our table,
offsets taken from FedEx's ISO timestamps, and Advanced Integrated Visibility webhook handling
(``fdx-signature``), which the connector does not have.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from app.carriers.base import Headers
from app.carriers.errors import WebhookPayloadError
from app.carriers.fedex import codes, services
from app.carriers.karrio_support import convert
from app.carriers.karrio_support.adapter import KarrioAdapter
from app.carriers.karrio_support.runtime import Exchange
from app.carriers.timeutil import parse_iso
from app.carriers.webhooks import header, load_json_object, verify_hmac
from app.models import Label, LabelFormat, Money, TrackingEvent

SIGNATURE_HEADER = "fdx-signature"


class FedExAdapter(KarrioAdapter):
    code = "fedex"
    karrio_name = "fedex"
    table = codes.TABLE
    CAPABILITIES = services.CAPABILITIES
    label_types: ClassVar[dict[LabelFormat, str]] = {
        LabelFormat.PDF: "PDF_4x6",
        LabelFormat.ZPL: "ZPL_4x6",
    }

    # --- booking -------------------------------------------------------------------------------

    def _shipment(self, exchanges: Sequence[Exchange]) -> dict[str, Any]:
        for exchange in reversed(exchanges):
            if (
                exchange.path.endswith("/ship/v1/shipments")
                and exchange.status
                and exchange.status < 300
            ):
                try:
                    data = json.loads(exchange.body)
                except ValueError:
                    return {}
                found = ((data or {}).get("output") or {}).get("transactionShipments") or [{}]
                return found[0] if isinstance(found[0], dict) else {}
        return {}

    def parcel_tracking_numbers(
        self, details: Any, exchanges: Sequence[Exchange], parcel_count: int
    ) -> list[str]:
        pieces = self._shipment(exchanges).get("pieceResponses") or []
        numbers = [
            str(p["trackingNumber"])
            for p in pieces
            if isinstance(p, dict) and p.get("trackingNumber")
        ]
        return numbers or super().parcel_tracking_numbers(details, exchanges, parcel_count)

    def parcel_labels(
        self,
        details: Any,
        exchanges: Sequence[Exchange],
        tracking_numbers: list[str],
        label_format: LabelFormat,
    ) -> list[Label]:
        labels = []
        pieces = self._shipment(exchanges).get("pieceResponses") or []
        for index, piece in enumerate(p for p in pieces if isinstance(p, dict)):
            doc = next(
                (
                    d
                    for d in piece.get("packageDocuments") or []
                    if "LABEL" in str(d.get("contentType", "")) and d.get("encodedLabel")
                ),
                None,
            )
            if doc is None:
                continue
            data = base64.b64decode(doc["encodedLabel"])
            labels.append(
                Label(
                    tracking_number=str(piece.get("trackingNumber") or tracking_numbers[0]),
                    format=convert.sniff_format(data, label_format),
                    data=data,
                    parcel_index=index,
                )
            )
        return labels or super().parcel_labels(details, exchanges, tracking_numbers, label_format)

    def charged(self, details: Any, exchanges: Sequence[Exchange]) -> Money | None:
        shipment = self._shipment(exchanges)
        ratings = ((shipment.get("completedShipmentDetail") or {}).get("shipmentRating") or {}).get(
            "shipmentRateDetails"
        ) or []
        for rating in ratings:
            money = convert.money(rating.get("totalNetCharge"), rating.get("currency"))
            if money is not None:
                return money
        return None

    # --- tracking ------------------------------------------------------------------------------

    def is_tracking(self, exchange: Exchange) -> bool:
        return "/track/v1/" in exchange.path

    def events_from_payload(self, payload: Any) -> list[TrackingEvent]:
        events = []
        for result in _track_results(payload):
            number = ((result.get("trackingNumberInfo") or {}).get("trackingNumber")) or ""
            for scan in result.get("scanEvents") or []:
                if not isinstance(scan, dict):
                    continue
                place = scan.get("scanLocation") or {}
                description = scan.get("eventDescription") or ""
                if scan.get("exceptionDescription"):
                    description = f"{description}: {scan['exceptionDescription']}".strip(": ")
                event = self.event(
                    tracking_number=str(number),
                    occurred_at=parse_iso(scan.get("date")),  # FedEx sends the local offset
                    codes=[scan.get("eventType"), f"derived:{scan.get('derivedStatusCode')}"],
                    raw_code=scan.get("eventType"),
                    description=description,
                    location={
                        "city": place.get("city"),
                        "region": place.get("stateOrProvinceCode"),
                        "postal_code": place.get("postalCode"),
                        "country_code": place.get("countryCode"),
                    },
                    event_id=f"{number}:{scan.get('date')}:{scan.get('eventType')}",
                    extra={
                        "fedex_exception_code": scan.get("exceptionCode") or None,
                        "fedex_derived_status": scan.get("derivedStatusCode"),
                    },
                )
                if event is not None:
                    events.append(event)
        return events

    # --- webhooks ------------------------------------------------------------------------------

    def verify_webhook(self, headers: Headers, body: bytes) -> None:
        """``fdx-signature`` = base64(HMAC-SHA256(security token, raw body)). FedEx sends no
        timestamp; replays are absorbed by event-id deduplication downstream."""
        verify_hmac(
            carrier=self.code,
            secret=self.webhook_secret,
            body=body,
            presented=header(headers, SIGNATURE_HEADER),
            encoding="base64",
        )

    def parse_webhook(self, headers: Headers, body: bytes) -> list[TrackingEvent]:
        """The push carries Track API results (``trackResults`` with ``scanEvents``), either
        wrapped in ``output.completeTrackResults`` or bare."""
        data = load_json_object(self.code, body)
        try:
            results = list(_track_results(data))
            if not results:
                raise WebhookPayloadError("fedex webhook carries no track results")
            return self.events_from_payload(data)
        except WebhookPayloadError:
            raise
        except Exception as exc:
            raise WebhookPayloadError(f"fedex webhook is malformed: {exc}") from None


def _track_results(payload: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(payload, dict):
        return
    output = payload.get("output") if isinstance(payload.get("output"), dict) else payload
    complete = output.get("completeTrackResults")
    if isinstance(complete, list):
        for item in complete:
            if isinstance(item, dict):
                yield from (r for r in item.get("trackResults") or [] if isinstance(r, dict))
    results = output.get("trackResults")
    if isinstance(results, list):
        yield from (r for r in results if isinstance(r, dict))

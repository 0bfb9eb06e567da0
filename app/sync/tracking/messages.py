"""Milestone texts for the picking's chatter: what a customer-service agent needs at a glance."""

from __future__ import annotations

from html import escape
from typing import Any

from app.models import TrackingStatus

TITLES = {
    TrackingStatus.INFO_RECEIVED: "Label scanned in by the carrier",
    TrackingStatus.IN_TRANSIT: "Picked up — in transit",
    TrackingStatus.OUT_FOR_DELIVERY: "Out for delivery",
    TrackingStatus.AVAILABLE_FOR_PICKUP: "Waiting at a pickup point",
    TrackingStatus.DELIVERED: "Delivered",
    TrackingStatus.EXCEPTION: "Delivery exception",
    TrackingStatus.RETURN_TO_SENDER: "Returning to sender",
    TrackingStatus.CANCELLED: "Cancelled by the carrier",
}


def milestone_html(status: TrackingStatus, event: dict[str, Any]) -> str:
    where = event.get("location") or {}
    place = ", ".join(str(where[k]) for k in ("city", "country_code") if where.get(k))
    parts = [f"<p><b>{escape(TITLES.get(status, status.value))}</b>"]
    parts.append(f" — {escape(str(event.get('occurred_at', '')))}")
    if place:
        parts.append(f" in {escape(place)}")
    parts.append("</p>")
    detail = event.get("raw_description")
    if detail:
        parts.append(f"<p>{escape(str(event.get('carrier', '')))}: {escape(str(detail))}</p>")
    if event.get("exception_category"):
        parts.append(f"<p>Category: {escape(str(event['exception_category']))}</p>")
    signer = (event.get("extra") or {}).get("signed_by")
    if status is TrackingStatus.DELIVERED and signer:
        parts.append(f"<p>Signed by {escape(str(signer))}</p>")
    parts.append(f"<p><small>Tracking {escape(str(event.get('tracking_number', '')))}</small></p>")
    return "".join(parts)

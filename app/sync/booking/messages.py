"""Chatter texts for the picking: short, factual, what a dispatcher needs to act."""

from __future__ import annotations

from html import escape
from typing import Any

from app.models import BookingResult, Rate


def booked_html(booking: BookingResult, rate: Rate, reason: str) -> str:
    price = booking.charged or rate.total
    numbers = ", ".join(escape(n) for n in booking.tracking_numbers)
    return (
        f"<p><b>Shipment booked</b> with {escape(booking.carrier)} "
        f"({escape(booking.service)}): {escape(str(price.amount))} {escape(price.currency)}.</p>"
        f"<p>Tracking: {numbers}</p><p>Why this carrier: {escape(reason)}</p>"
    )


def failed_html(title: str, message: str, details: dict[str, Any]) -> str:
    items = "".join(
        f"<li>{escape(str(k))}: {escape(str(v))}</li>"
        for k, v in details.items()
        if k in ("field", "carrier", "carrier_message", "carrier_code") and v
    )
    return f"<p><b>{escape(title)}</b></p><p>{escape(message)}</p>" + (
        f"<ul>{items}</ul>" if items else ""
    )


def approval_html(rate: Rate | None, reason: str) -> str:
    if rate is None:
        return f"<p><b>Shipment needs a dispatcher</b>: {escape(reason)}</p>"
    return (
        f"<p><b>Shipment needs a dispatcher</b>: {escape(reason)}.</p><p>Suggested: "
        f"{escape(rate.carrier)} {escape(rate.service)} at {escape(str(rate.total.amount))} "
        f"{escape(rate.total.currency)}.</p>"
    )

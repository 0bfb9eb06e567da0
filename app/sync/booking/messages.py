"""Chatter texts for the picking: short, factual, what a dispatcher needs to act."""

from __future__ import annotations

from html import escape
from typing import Any

from app.models import BookingResult, CancelResult, Rate


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


def voided_html(result: CancelResult) -> str:
    numbers = ", ".join(escape(n) for n in result.tracking_numbers) or "the label"
    refund = (
        " The refund is pending the carrier's review."
        if result.status.value == ("refund_pending")
        else ""
    )
    return f"<p><b>Label voided</b> at {escape(result.carrier)}: {numbers}.{refund}</p>"


def cancel_refused_html(result: CancelResult) -> str:
    parts = [
        f"<p>{escape(result.carrier)} refused to void the label: "
        f"{escape(result.reason or 'no reason given')}.</p>"
    ]
    if result.policy:
        parts.append(f"<p>Carrier rule: {escape(result.policy)}</p>")
    parts.append("<p>Stop the parcel or start a return with the carrier.</p>")
    return "".join(parts)


def carrier_down_html(account: str, code: str, alternative: Rate | None) -> str:
    text = (
        f"<p><b>{escape(account)} is unavailable</b> ({escape(code)}). The booking is "
        "queued and retries automatically.</p>"
    )
    if alternative is not None:
        text += (
            f"<p>Available now instead: {escape(alternative.carrier)} "
            f"{escape(alternative.service)} at {escape(str(alternative.total.amount))} "
            f"{escape(alternative.total.currency)} — choose it to ship without waiting.</p>"
        )
    return text

"""Carrier timestamps to aware UTC-comparable datetimes.

Carriers send local wall-clock times in a dozen shapes; the SDK appends a literal ``Z`` to local
times, which silently shifts events by hours. We parse the raw fields ourselves and only accept an
offset the carrier actually sent, falling back to a per-carrier default zone that is documented at
the call site.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

_OFFSET = re.compile(r"^(?P<sign>[+-])(?P<h>\d{1,2}):?(?P<m>\d{2})?$")


def parse_offset(value: str | None) -> tzinfo | None:
    """``+01:00``, ``-0500``, ``-5``, ``Z`` → a fixed-offset zone; anything else → None."""
    if value is None:
        return None
    text = value.strip()
    if text in ("Z", "z", "UTC", "GMT"):
        return UTC
    match = _OFFSET.match(text)
    if not match:
        return None
    hours, minutes = int(match["h"]), int(match["m"] or 0)
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if match["sign"] == "-" else delta)


def parse_iso(value: str | None, *, default_tz: tzinfo | None = None) -> datetime | None:
    """An ISO-8601 timestamp; naive ones get ``default_tz`` (None → rejected)."""
    if not value:
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if default_tz is None:
            return None
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def combine(
    date_text: str | None,
    time_text: str | None,
    *,
    date_format: str = "%Y%m%d",
    time_format: str = "%H%M%S",
    tz: tzinfo | None,
) -> datetime | None:
    """A carrier's separate date and time fields, in the zone ``tz`` (None → rejected)."""
    if not date_text or tz is None:
        return None
    try:
        day = datetime.strptime(date_text.strip(), date_format)
    except ValueError:
        return None
    if time_text:
        try:
            clock = datetime.strptime(time_text.strip(), time_format)
        except ValueError:
            return None
        day = day.replace(hour=clock.hour, minute=clock.minute, second=clock.second)
    return day.replace(tzinfo=tz)

"""Raw carrier location fields → ``EventLocation``, dropping what does not validate.

A carrier that writes "United States" where a country code belongs must not make the whole event
unreadable: the odd value is left out of the location and the raw text is still on the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.models import EventLocation
from app.models.countries import ISO_COUNTRIES


def location(raw: Mapping[str, Any] | None) -> EventLocation | None:
    if not raw:
        return None
    country = _text(raw.get("country_code"))
    if country is not None:
        country = country.upper()
        if country not in ISO_COUNTRIES:
            country = None
    values = {
        "city": _text(raw.get("city")),
        "region": _text(raw.get("region")),
        "postal_code": _text(raw.get("postal_code")),
        "country_code": country,
    }
    if not any(values.values()):
        return None
    return EventLocation(**values)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None

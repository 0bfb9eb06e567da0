"""Code tables: carrier event code → canonical (status, exception category).

Tables, not if-chains (DESIGN §9): a new carrier code is one row. An unknown code is not guessed
at: it maps to ``TrackingStatus.UNKNOWN``, is logged with carrier and code, and is counted in
``waybill_tracking_unknown_codes_total{carrier}`` so a growing gap shows on a dashboard. The raw
code and text always stay on the event, so triage can still read the words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import structlog

from app.carriers.metrics import TRACKING_UNKNOWN_CODES
from app.models import ExceptionCategory, TrackingStatus

log = structlog.get_logger(__name__)

S = TrackingStatus
X = ExceptionCategory


@dataclass(frozen=True, slots=True)
class CodeMapping:
    status: TrackingStatus
    category: ExceptionCategory | None = None
    known: bool = True


UNKNOWN = CodeMapping(TrackingStatus.UNKNOWN, None, known=False)


class CodeTable:
    """One carrier's table. Keys are compared case-insensitively and stripped.

    ``lookup`` takes candidate keys in priority order (most specific first, e.g. a UPS status code
    before its coarse status type), which is how we avoid karrio's UPS defect of matching the
    type first and calling every out-for-delivery scan "in transit".
    """

    def __init__(
        self,
        carrier: str,
        rows: Mapping[str, tuple[TrackingStatus, ExceptionCategory | None]],
    ) -> None:
        self.carrier = carrier
        self._rows: dict[str, CodeMapping] = {}
        for key, (status, category) in rows.items():
            norm = _norm(key)
            if norm in self._rows:
                raise ValueError(f"{carrier}: code {key!r} appears twice in the table")
            if (
                category is not None
                and status is not TrackingStatus.EXCEPTION
                and status
                not in (
                    TrackingStatus.RETURN_TO_SENDER,
                    TrackingStatus.CANCELLED,
                )
            ):
                # A category on an ordinary scan is how reasons end up on "arrived at facility".
                raise ValueError(f"{carrier}: code {key!r} has a category on status {status}")
            self._rows[norm] = CodeMapping(status, category)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _norm(key) in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def items(self) -> Iterable[tuple[str, CodeMapping]]:
        return self._rows.items()

    def get(self, *candidates: str | None) -> CodeMapping | None:
        """The first candidate that is in the table, without counting a miss."""
        for key in candidates:
            if key:
                found = self._rows.get(_norm(key))
                if found is not None:
                    return found
        return None

    def lookup(self, *candidates: str | None, description: str = "") -> CodeMapping:
        """Map the first known candidate; an entirely unknown code is logged and counted."""
        found = self.get(*candidates)
        if found is not None:
            return found
        code = next((c for c in candidates if c), None)
        TRACKING_UNKNOWN_CODES.labels(carrier=self.carrier).inc()
        log.warning(
            "tracking_code_unknown",
            carrier=self.carrier,
            code=code,
            candidates=[c for c in candidates if c],
            description=description[:200],
        )
        return UNKNOWN


def _norm(key: str) -> str:
    return key.strip().upper()


# Generic exception codes ("exception", "held", "delivery exception") carry no category; the
# carrier's own words then decide, first match wins. Still a table: one row per pattern.
EXCEPTION_TEXT_HINTS: tuple[tuple[re.Pattern[str], ExceptionCategory], ...] = (
    (re.compile(r"customs|clearance|dut(y|ies)|import|broker", re.I), X.CUSTOMS_HOLD),
    (re.compile(r"refus", re.I), X.REFUSED),
    (
        re.compile(r"address|undeliverable as addressed|no such (number|street)|moved", re.I),
        X.ADDRESS_ISSUE,
    ),
    (
        re.compile(
            r"not home|not available|no authorized recipient|notice left|business closed"
            r"|attempt",
            re.I,
        ),
        X.RECIPIENT_UNAVAILABLE,
    ),
    (re.compile(r"weather|storm|snow|flood|hurricane|natural disaster", re.I), X.WEATHER_DELAY),
    (re.compile(r"damage", re.I), X.DAMAGED),
    (re.compile(r"\blost\b|cannot be located|missing", re.I), X.LOST),
    (re.compile(r"dangerous|prohibited|security|regulatory", re.I), X.HELD_BY_CARRIER_SECURITY),
    (re.compile(r"delay|missort|mis-sort|missed|late", re.I), X.CARRIER_DELAY),
)


def refine_category(
    category: ExceptionCategory | None, description: str
) -> ExceptionCategory | None:
    """Sharpen a generic ``other_exception`` with the carrier's words; others pass through."""
    if category is not ExceptionCategory.OTHER_EXCEPTION:
        return category
    return next((c for rx, c in EXCEPTION_TEXT_HINTS if rx.search(description)), category)

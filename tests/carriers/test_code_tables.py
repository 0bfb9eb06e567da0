"""Code tables: every row is canonical, unknown codes are unknown and counted."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from app.carriers.codes import CodeTable
from app.carriers.dhl_express.codes import TABLE as DHL
from app.carriers.easypost.codes import TABLE as EASYPOST
from app.carriers.fedex.codes import TABLE as FEDEX
from app.carriers.ups.codes import TABLE as UPS
from app.carriers.usps.codes import TABLE as USPS
from app.models import ExceptionCategory, TrackingStatus

TABLES = [UPS, FEDEX, DHL, USPS, EASYPOST]
WITH_CATEGORY = {
    TrackingStatus.EXCEPTION,
    TrackingStatus.RETURN_TO_SENDER,
    TrackingStatus.CANCELLED,
}


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.carrier)
def test_every_row_is_canonical(table: CodeTable):
    assert len(table) >= 15
    for code, mapping in table.items():
        assert isinstance(mapping.status, TrackingStatus), code
        assert mapping.category is None or isinstance(mapping.category, ExceptionCategory)
        if mapping.status is TrackingStatus.EXCEPTION:
            assert mapping.category is not None, f"{table.carrier} {code}: exception w/o category"
        if mapping.category is not None:
            assert mapping.status in WITH_CATEGORY, code


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.carrier)
def test_unknown_code_is_unknown_and_counted(table: CodeTable):
    def count() -> float:
        return (
            REGISTRY.get_sample_value(
                "waybill_tracking_unknown_codes_total", {"carrier": table.carrier}
            )
            or 0.0
        )

    before = count()
    mapping = table.lookup("NO-SUCH-CODE-42", description="something new")
    assert mapping.status is TrackingStatus.UNKNOWN and not mapping.known
    assert count() == before + 1
    table.lookup(next(iter(dict(table.items()))))  # a known code is not counted
    assert count() == before + 1


def test_duplicate_rows_and_reasons_on_plain_scans_are_refused():
    with pytest.raises(ValueError, match="twice"):
        CodeTable(
            "x", {"A": (TrackingStatus.IN_TRANSIT, None), "a": (TrackingStatus.DELIVERED, None)}
        )
    with pytest.raises(ValueError, match="category"):
        CodeTable("x", {"AR": (TrackingStatus.IN_TRANSIT, ExceptionCategory.ADDRESS_ISSUE)})


def test_every_exception_category_is_reachable_somewhere():
    reachable = {m.category for t in TABLES for _, m in t.items() if m.category}
    missing = set(ExceptionCategory) - reachable - {ExceptionCategory.HELD_BY_CARRIER_SECURITY}
    assert not missing, missing

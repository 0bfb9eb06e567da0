"""The Olist adapter maps real delivery history into the contract (skipped without the data)."""

from __future__ import annotations

import pytest

from training.datasets.olist import DEFAULT_OLIST_DIR, OlistTables, available, load_olist
from training.schemas import validate_tables

pytestmark = pytest.mark.skipif(not available(), reason=f"no Olist data at {DEFAULT_OLIST_DIR}")


@pytest.fixture(scope="module")
def olist() -> OlistTables:
    return load_olist()


def test_olist_satisfies_the_contract(olist: OlistTables) -> None:
    report = validate_tables(olist.tables())
    assert report.ok, report.errors
    assert olist.dropped["delivered_before_handover"] < 20


def test_olist_mapping_is_plausible(olist: OlistTables) -> None:
    d = olist.deliveries
    delivered = d[d["final_status"] == "delivered"]
    assert len(delivered) > 15_000
    days = delivered["transit_hours"].median() / 24
    assert 5 < days < 10
    assert 0.85 < delivered["on_time"].astype(float).mean() < 0.99
    s = olist.shipments
    assert (s["origin_country"] == "BR").all()
    assert s["lane_distance_km"].notna().mean() > 0.9
    assert s["carrier"].isna().all()  # Olist does not name carriers
    assert (d["delivered_at"].isna() == (d["final_status"] != "delivered")).all()

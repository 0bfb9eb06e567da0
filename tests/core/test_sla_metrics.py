"""Service-level samples carried by outbox writes: measured when Odoo has the result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from app.sync.writeback.outbox import sla_marker
from app.sync.writeback.writer import observe_sla

METRIC = "waybill_sla_picking_ready_to_label_seconds"


def _sample(suffix: str, carrier: str) -> float:
    return REGISTRY.get_sample_value(f"{METRIC}_{suffix}", {"carrier": carrier}) or 0.0


def test_marker_round_trip_observes_the_elapsed_time() -> None:
    now = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    marker = sla_marker("ready_to_label", now - timedelta(minutes=7), "sla-test-carrier")
    count, total = _sample("count", "sla-test-carrier"), _sample("sum", "sla-test-carrier")
    observe_sla(marker["sla"], now)
    assert _sample("count", "sla-test-carrier") == count + 1
    assert _sample("sum", "sla-test-carrier") == total + 420


def test_no_start_moment_means_no_marker() -> None:
    assert sla_marker("ready_to_label", None, "ups") == {}


def test_malformed_or_future_markers_never_raise() -> None:
    now = datetime.now(UTC)
    before = _sample("count", "sla-odd")
    observe_sla({"metric": "ready_to_label", "since": "yesterday", "carrier": "sla-odd"}, now)
    observe_sla({"metric": "nope", "since": now.isoformat(), "carrier": "sla-odd"}, now)
    observe_sla({"metric": "ready_to_label", "since": "2026-01-01T00:00:00"}, now)  # naive
    assert _sample("count", "sla-odd") == before
    ahead = {"metric": "ready_to_label", "since": (now + timedelta(hours=1)).isoformat()}
    observe_sla({**ahead, "carrier": "sla-odd"}, now)  # carrier clock ahead: zero, not negative
    assert _sample("count", "sla-odd") == before + 1
    assert _sample("sum", "sla-odd") == 0

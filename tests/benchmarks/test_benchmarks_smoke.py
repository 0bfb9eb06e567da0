"""Each benchmark at a tiny size: the JSON it prints and the invariants it checks, never its
timings (speed belongs to the benchmark runs, not to tests). SQLite and an embedded Redis keep
these independent of the shared servers; latencies are zero so they run in seconds."""

from __future__ import annotations

import json

import pytest

from benchmarks import end_of_day, order_burst, webhook_storm

TINY = {"db_kind": "sqlite", "redis_url": "embedded", "odoo_latency_ms": 0.0}


def test_order_burst_books_each_picking_once_and_writes_it_back() -> None:
    result = order_burst.run(12, 2, workers=4, carrier_latency_ms=0.0, timeout=120, **TINY)
    burst, inv = result["burst"], result["invariants"]
    assert burst["finished"] and burst["dead_letters"] == 0
    assert inv["booked_shipments"] >= 12  # the released ones (the demo may hold more ready)
    assert inv["labels_bought"] == inv["parcels"]
    assert inv["bought_more_than_once"] == inv["booked_without_purchase"] == 0
    assert inv["odoo_tracking_ref_mismatch"] == inv["odoo_label_count_mismatch"] == 0
    assert inv["odoo_booked_message_mismatch"] == 0 and inv["ok"]
    assert result["baseline_sequential"]["booked"] == 2
    assert burst["odoo_rpcs"] == sum(result["odoo_rpcs_by_method_burst"].values()) - 1
    json.dumps(result)


def test_webhook_storm_stores_every_event_once_and_reaches_odoo() -> None:
    result = webhook_storm.run(60, 0.3, concurrency=4, workers=2, timeout=120, **TINY)
    check = result["consistency"]
    assert result["storm"]["codes"] == {"200": 60}
    assert result["baseline_bare_endpoint"]["codes"] == {"200": 60}
    assert check["events_stored"] == check["distinct_events"] == 42
    assert check["status_mismatch"] == 0 and check["ok"]
    assert check["pickings_with_milestones"] == check["shipments"]
    assert result["storm"]["ack_latency_ms"]["n"] == 60
    json.dumps(result)


def test_build_bodies_repeats_the_requested_share() -> None:
    deliveries, per_number, events = webhook_storm.build_bodies(100, 0.3, seed=1)
    unique = {b for bodies in per_number.values() for b in bodies}
    assert len(deliveries) == 100 and len(unique) == events == 70
    assert set(deliveries) == unique


def test_end_of_day_lists_each_shipment_in_one_manifest_per_account(
    capsys: pytest.CaptureFixture[str],
) -> None:
    end_of_day.main(
        [
            "--size",
            "20",
            "--carriers",
            "2",
            "--baseline-size",
            "4",
            "--db",
            "sqlite",
            "--redis-url",
            "embedded",
        ]
    )
    (line,) = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    result = json.loads(line)
    inv = result["invariants"]
    assert inv["ok"] and inv["listed_once"] and inv["rerun_manifests"] == 0
    assert inv["seeded_per_account"] == {"sandbox-easypost-1": 10, "sandbox-easypost-2": 10}
    manifests = result["close_out"]["manifests"]
    assert sorted(m["shipments"] for m in manifests) == [10, 10]
    assert result["baseline_per_shipment"]["shipments"] == 4
    assert {"cores", "uname", "python"} <= set(result["machine"])


@pytest.mark.slow  # fits a small ETA model first (about 20 s)
def test_triage_throughput_classifies_routes_and_predicts_every_event() -> None:
    from benchmarks import triage_throughput

    result = triage_throughput.run(300, 10)
    assert sum(result["batch"]["categories"].values()) <= 300
    assert result["single_event_ms"]["n"] == 10
    assert set(result["single_event_ms_by_step"]) == {"classify", "route", "eta"}
    json.dumps(result)

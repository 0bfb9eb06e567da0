"""Each benchmark at a tiny size: the JSON it prints and the invariants it checks, never its
timings (speed belongs to the benchmark runs, not to tests). SQLite and an embedded Redis keep
these independent of the shared servers; latencies are zero so they run in seconds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import end_of_day, order_burst, webhook_storm
from benchmarks.topology import Topology

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


def assert_storm_consistent(result: dict[str, Any], *, deliveries: int, distinct: int) -> None:
    """Every delivery acknowledged, every event stored once, Odoo at the derived states."""
    check = result["consistency"]
    assert result["storm"]["codes"] == {"200": deliveries}
    assert result["baseline_bare_endpoint"]["codes"] == {"200": deliveries}
    assert check["events_stored"] == check["distinct_events"] == distinct
    assert check["status_mismatch"] == 0 and check["ok"]
    assert check["pickings_with_milestones"] == check["shipments"]
    assert result["storm"]["ack_latency_ms"]["n"] == deliveries
    json.dumps(result)


def test_webhook_storm_stores_every_event_once_and_reaches_odoo() -> None:
    result = webhook_storm.run(60, 0.3, concurrency=4, workers=2, timeout=120, **TINY)
    assert_storm_consistent(result, deliveries=60, distinct=42)


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


# -- production topology: uvicorn and RQ worker processes on the real PostgreSQL and Redis ------

PROCESSES = Topology(api_workers=1, job_workers=2)


@pytest.fixture
def servers(redis_conn: Any) -> str:
    """The Redis URL the processes share (the shared test database, flushed around the test);
    skips, like the other server tests, when PostgreSQL or Redis is not reachable."""
    from tests.conftest import REDIS_TEST_URL, _pg_available

    if not _pg_available():
        pytest.skip("PostgreSQL not reachable")
    return REDIS_TEST_URL


@pytest.mark.slow  # starts the sandboxes, two RQ workers and uvicorn: about a minute
@pytest.mark.postgres
@pytest.mark.redis
def test_order_burst_in_worker_processes_books_each_picking_once(servers: str) -> None:
    result = order_burst.run(
        8,
        1,
        db_kind="postgres",
        redis_url=servers,
        odoo_latency_ms=0.0,
        carrier_latency_ms=0.0,
        timeout=120,
        topology=PROCESSES,
    )
    burst, inv = result["burst"], result["invariants"]
    assert result["settings"]["topology"]["mode"] == "processes"
    assert burst["finished"] and burst["dead_letters"] == 0
    assert burst["poll"].get("seen", 0) >= 8  # the poll ran as an RQ job
    assert inv["booked_shipments"] >= 8
    assert inv["labels_bought"] == inv["parcels"]
    assert inv["bought_more_than_once"] == inv["booked_without_purchase"] == 0
    assert inv["odoo_tracking_ref_mismatch"] == inv["odoo_label_count_mismatch"] == 0
    assert inv["odoo_booked_message_mismatch"] == 0 and inv["ok"]
    assert result["baseline_sequential"]["booked"] == 1
    assert burst["resources"]["service_cpu_seconds_by_role"]["jobs"] > 0
    json.dumps(result)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_webhook_storm_in_service_processes_stores_every_event_once(servers: str) -> None:
    result = webhook_storm.run(
        60,
        0.3,
        concurrency=4,
        db_kind="postgres",
        redis_url=servers,
        odoo_latency_ms=0.0,
        timeout=120,
        topology=PROCESSES,
    )
    assert result["settings"]["topology"]["mode"] == "processes"
    assert_storm_consistent(result, deliveries=60, distinct=42)
    roles = result["storm"]["resources"]["during_storm"]["service_cpu_seconds_by_role"]
    assert roles["api"] > 0
    json.dumps(result)


def test_loadgen_clients_post_every_body_and_agree(tmp_path: Path) -> None:
    """The bare HTTP/1.1 client (one and two processes) and httpx see the same answers."""
    from app.carriers.sandbox.runner import serve_asgi
    from benchmarks import loadgen

    bodies = [json.dumps({"n": i}).encode() for i in range(40)]
    with serve_asgi(webhook_storm.bare_app()) as url:
        target = f"{url}/v1/webhooks/easypost"
        for client, processes in (("raw", 1), ("raw", 2), ("httpx", 1)):
            result = loadgen.storm(target, bodies, "s3cret", 4, processes=processes, client=client)
            assert result["codes"] == {200: 40}, (client, processes)
            assert all(v > 0 for v in result["latencies"])
            assert result["processes"] == processes


def test_service_env_round_trips_the_settings() -> None:
    """What the service processes read back is what the benchmark configured."""
    from pydantic import SecretStr

    from app.core.config import Settings
    from benchmarks.topology import child_env, service_env

    settings = Settings(
        env="test",
        odoo_page_size=500,
        auto_book=True,
        log_json=False,
        carrier_accounts=SecretStr('[{"id": "a", "carrier": "easypost"}]'),
        carrier_rate_per_second=0.0,
        _env_file=None,  # type: ignore[call-arg]
    )
    env = service_env(settings)
    assert env["WAYBILL_CARRIER_ACCOUNTS"] == '[{"id": "a", "carrier": "easypost"}]'
    assert env["WAYBILL_LOG_JSON"] == "false" and "WAYBILL_REDIS_URL" not in env
    rebuilt = Settings(**{k.removeprefix("WAYBILL_").lower(): v for k, v in env.items()})
    assert rebuilt.model_dump() == settings.model_dump()
    assert child_env(env)["WAYBILL_ODOO_PAGE_SIZE"] == "500"

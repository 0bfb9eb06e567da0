"""Operations and read routes over the same environment: health, readiness, shipments."""

from __future__ import annotations

from fastapi.testclient import TestClient
from intake_env import Env

from app.sync.odoo import OdooClient


def test_health_needs_nothing(api: TestClient) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_ready_checks_database_redis_and_odoo(env: Env, api: TestClient) -> None:
    response = api.get("/ready")
    assert response.status_code == 200, response.text
    assert {c["name"]: c["ok"] for c in response.json()["checks"]} == {
        "database": True,
        "redis": True,
        "odoo": True,
    }


def test_ready_reports_odoo_down(env: Env, api: TestClient) -> None:
    dead = OdooClient(
        url="http://127.0.0.1:9", db="x", username="u", api_key="k", retry_attempts=1, timeout=1
    )
    api.app.state.ctx.use_odoo(env.odoo, fast=dead)  # type: ignore[attr-defined]
    response = api.get("/ready")
    assert response.status_code == 503
    checks = {c["name"]: c for c in response.json()["checks"]}
    assert checks["odoo"]["ok"] is False and checks["database"]["ok"] is True


def test_shipments_list_detail_and_404(env: Env, api: TestClient) -> None:
    env.intake.poll_once()
    page = api.get("/v1/shipments", params={"limit": 3}).json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = api.get("/v1/shipments", params={"before": page["next_cursor"]}).json()
    ids = [s["id"] for s in page["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == len(env.ready_picking_ids())
    assert ids == sorted(ids, reverse=True)

    detail = api.get(f"/v1/shipments/{ids[0]}")
    assert detail.status_code == 200
    assert detail.json()["parcels"] or detail.json()["state"] == "failed"

    missing = api.get("/v1/shipments/shp_nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "shipment_not_found"
    assert api.get("/v1/shipments", params={"state": "bogus"}).status_code == 422


def test_request_id_is_echoed(api: TestClient) -> None:
    response = api.get("/health", headers={"X-Request-ID": "odoo-WH-OUT-42"})
    assert response.headers["X-Request-ID"] == "odoo-WH-OUT-42"
    minted = api.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert minted.headers["X-Request-ID"].startswith("wb-")

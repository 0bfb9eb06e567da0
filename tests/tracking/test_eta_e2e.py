"""ETA follows the shipment: re-predicted on status changes, a moved estimate reaches Odoo."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from track_env import TrackEnv, wait_until

from app.main import create_app
from app.store.tables import SuggestionRow
from app.sync.eta.service import latest_eta

pytestmark = pytest.mark.redis


def test_exception_moves_the_eta_and_odoo_shows_it(tenv: TrackEnv) -> None:
    from auth_support import api_key_for

    shipment_id, picking_id, number = tenv.booked_shipment()
    url, tenv.carrier_box.webhook_url = tenv.carrier_box.webhook_url, None
    tenv.carrier_box.advance(number, 2)  # label created, accepted: in transit
    tenv.carrier_box.webhook_url = url
    tenv.carrier_box.push_tracking(number, "lost")  # later scans, then the parcel is lost
    history = wait_until(lambda: (e := latest_eta(tenv.ctx.db, shipment_id)) and e)
    assert {"p10", "p50", "p90", "p95", "stage"} <= set(history)
    assert history["p10"] <= history["p50"] <= history["p90"] <= history["p95"]
    assert tenv.ctx.queue.join()

    def moved_in_odoo() -> list[str]:
        tenv.writer.drain()
        bodies = [
            str(m["body"])
            for m in tenv.ctx.odoo.search_read(
                "mail.message",
                [("model", "=", "stock.picking"), ("res_id", "=", picking_id)],
                ["body"],
            )
        ]
        return [b for b in bodies if "New delivery estimate" in b]

    notices = wait_until(moved_in_odoo)
    latest = latest_eta(tenv.ctx.db, shipment_id)
    with tenv.ctx.db.session() as s:
        stored = s.scalars(
            select(SuggestionRow).where(
                SuggestionRow.kind == "eta", SuggestionRow.shipment_id == shipment_id
            )
        ).one()
        predictions = stored.payload["history"]  # every estimate, oldest first
    assert latest is not None and latest["p50"] == predictions[-1]["p50"]
    assert predictions[-1]["p50"] > predictions[0]["p50"]  # the exception pushed it back
    assert latest["p50"][:10] in notices[-1] and "(was " in notices[-1]
    with TestClient(create_app(tenv.ctx)) as api:
        api.headers["X-API-Key"] = api_key_for(tenv.ctx, "support")
        response = api.get(f"/v1/shipments/{shipment_id}/eta")
        assert response.status_code == 200 and response.json()["p50"] == latest["p50"]
        assert api.get("/v1/shipments/shp_nope/eta").status_code == 404

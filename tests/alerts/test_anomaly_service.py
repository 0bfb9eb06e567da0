"""Degradation alerts end to end over the store: a carrier's hub fails in a simulated history
loaded into Waybill's tables; the hourly run opens one alert per episode, the booking policy
asks the dispatcher about that carrier, people acknowledge and resolve through the API and the
CLI, and the detector resolves what recovered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import fakeredis
import pytest
from auth_support import api_key_for
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.queue import InProcessJobQueue
from app.main import create_app
from app.models import Address, Money, Parcel, Rate, ShipmentRequest
from app.store.tables import AlertRow, ShipmentRow, TrackingEventRow
from app.sync.alerts import cli as alerts_cli
from app.sync.alerts.anomalies import AnomalyMonitor, booking_advisor
from app.sync.alerts.baseline import BaselineConfig
from app.sync.booking.policy import RecommenderPolicy
from training.simulator.disruptions import HubFailure
from training.simulator.generate import SimulationConfig, simulate_history

START = date(2024, 3, 4)
OUTAGE = START + timedelta(days=42)
CONFIG = BaselineConfig(min_count=10, min_history=14)


@dataclass
class Loaded:
    db: Database
    ctx: AppContext


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def load_history(db: Database) -> None:
    """A simulated history as Waybill's own shipments and tracking events (country lanes)."""
    history = simulate_history(
        SimulationConfig(
            days=60,
            seed=2,
            start=START,
            shipments_per_day=45,
            returns=False,
            disruptions=(HubFailure("parcelo", "DE-W", OUTAGE, 4.0),),
        )
    )
    ships = history.shipments
    ships = ships.loc[ships["origin_country"].astype(str) == "DE"]
    rows = [
        {
            "id": s.shipment_id,
            "source": "sim",
            "source_ref": s.shipment_id,
            "revision": 1,
            "reference": s.shipment_id,
            "state": "written_back",
            "carrier": str(s.carrier),
            "service": str(s.service),
            "correlation_id": "sim",
            "request": {
                "shipper": {"country_code": "DE"},
                "recipient": {"country_code": str(s.destination_country)},
            },
            "source_snapshot": {},
            "version": 1,
            "created_at": s.created_at.to_pydatetime(),
            "updated_at": s.created_at.to_pydatetime(),
        }
        for s in ships.itertuples()
    ]
    keep = set(ships["shipment_id"])
    ev = history.events.loc[history.events["shipment_id"].isin(keep)]
    events = [
        {
            "dedupe_key": f"{e.shipment_id}:{e.seq}",
            "shipment_id": e.shipment_id,
            "carrier": str(e.carrier),
            "tracking_number": e.tracking_number,
            "occurred_at": e.occurred_at.to_pydatetime(),
            "status": str(e.status),
            "raw_description": e.raw_description,
            "source": "sim",
            "received_at": e.occurred_at.to_pydatetime(),
        }
        for e in ev.itertuples()
    ]
    with db.session() as session:
        session.execute(insert(ShipmentRow), rows)
        session.execute(insert(TrackingEventRow), events)


@pytest.fixture
def loaded(db: Database) -> Iterator[Loaded]:
    load_history(db)
    settings = Settings(
        env="test", database_url=db.url, odoo_url="http://127.0.0.1:9", _env_file=None
    )  # type: ignore[call-arg]
    ctx = AppContext(
        settings=settings, db=db, redis=fakeredis.FakeRedis(), queue=InProcessJobQueue(workers=1)
    )
    yield Loaded(db, ctx)
    ctx.queue.close()


def request_to(country: str) -> ShipmentRequest:
    address = {"name": "A", "street1": "Street 1", "city": "Dortmund", "postal_code": "44135"}
    return ShipmentRequest(
        reference="WH/OUT/1",
        shipper=Address(**address, country_code="DE"),
        recipient=Address(
            **{**address, "city": "Berlin", "postal_code": "10115"}, country_code=country
        ),
        parcels=[Parcel(weight=Decimal("1.0"))],
    )


def rate(carrier: str, service: str) -> Rate:
    return Rate(
        carrier=carrier,
        carrier_account=f"{carrier}-1",
        service=service,
        total=Money(amount=Decimal("7.50"), currency="EUR"),
        transit_days=1,
    )


def test_hub_failure_opens_one_alert_and_the_booking_asks_the_dispatcher(loaded: Loaded) -> None:
    monitor = AnomalyMonitor(db=loaded.db, config=CONFIG)
    before = monitor.run(now=midnight(OUTAGE))
    assert before.day == OUTAGE - timedelta(days=1) and before.series > 0
    with loaded.db.session() as s:
        assert not s.scalars(select(AlertRow).where(AlertRow.key.like("parcelo%"))).all()

    during = monitor.run(now=midnight(OUTAGE + timedelta(days=3)))
    assert during.opened >= 1
    with loaded.db.session() as s:
        parcelo = s.scalars(
            select(AlertRow).where(AlertRow.key.like("parcelo%"), AlertRow.state == "open")
        ).all()
        assert parcelo and all(
            OUTAGE <= a.started_at.date() <= OUTAGE + timedelta(days=2) for a in parcelo
        )
        total = len(s.scalars(select(AlertRow)).all())
    again = monitor.run(now=midnight(OUTAGE + timedelta(days=3)) + timedelta(hours=1))
    assert again.opened == 0 and again.updated >= len(parcelo)  # one row per episode
    with loaded.db.session() as s:
        assert len(s.scalars(select(AlertRow)).all()) == total
    assert b"waybill_anomaly_alerts_active" in generate_latest()

    advise = booking_advisor(loaded.db)
    notes = advise(request_to("DE"), rate("parcelo", str(parcelo[0].key.split(":")[-1])))
    assert notes and "parcelo" in notes[0] and "degraded since" in notes[0]
    assert advise(request_to("DE"), rate("some-other-carrier", "X")) == []

    class Baseline:
        source = "baseline"

    policy = RecommenderPolicy(lambda: Baseline(), advisor=advise)
    decision = policy.choose(request_to("DE"), [rate("parcelo", "PARCELO_CLASSIC")], preferred=None)
    assert decision.needs_approval and "degraded since" in decision.reason
    plain = RecommenderPolicy(lambda: Baseline()).choose(
        request_to("DE"), [rate("parcelo", "PARCELO_CLASSIC")], preferred=None
    )
    assert not plain.needs_approval

    after = monitor.run(now=midnight(START + timedelta(days=60)))
    assert after.resolved >= 1
    with loaded.db.session() as s:
        recovered = s.scalars(select(AlertRow).where(AlertRow.resolution == "recovered")).all()
        assert {a.id for a in parcelo} & {a.id for a in recovered}
        assert all(a.resolved_by == "detector" for a in recovered)


def test_people_acknowledge_and_resolve_through_the_api_and_the_cli(
    loaded: Loaded, monkeypatch: pytest.MonkeyPatch
) -> None:
    AnomalyMonitor(db=loaded.db, config=CONFIG).run(now=midnight(OUTAGE + timedelta(days=3)))
    with TestClient(create_app(loaded.ctx)) as api:
        api.headers["X-API-Key"] = api_key_for(loaded.ctx, "support")
        items = api.get("/v1/alerts", params={"kind": "anomaly", "state": "open"}).json()["items"]
        assert items and all(i["kind"] == "anomaly" and i["state"] == "open" for i in items)
        first = items[0]["id"]
        acked = api.post(f"/v1/alerts/{first}/ack")
        assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
        assert acked.json()["acknowledged_by"]
        assert api.post(f"/v1/alerts/{first}/ack").json()["state"] == "acknowledged"
        assert api.post(f"/v1/alerts/{first}/resolve").json()["resolution"] == "manual"
        refused = api.post(f"/v1/alerts/{first}/ack")
        assert refused.status_code == 409 and refused.json()["code"] == "alert_state"
        assert api.post("/v1/alerts/alr_nope/ack").status_code == 404
        assert api.get("/v1/alerts", params={"state": "bogus"}).status_code == 422
        api.headers["X-API-Key"] = api_key_for(loaded.ctx, "data_scientist")
        assert api.get("/v1/alerts").status_code == 403

    monkeypatch.setattr(alerts_cli, "_db", lambda: loaded.db)
    runner = CliRunner()
    listed = runner.invoke(alerts_cli.alerts_app, ["list", "--kind", "anomaly", "--state", "open"])
    assert listed.exit_code == 0, listed.output
    second = json.loads(listed.output.splitlines()[0])["id"]
    out = runner.invoke(alerts_cli.alerts_app, ["ack", second, "--actor", "oncall"])
    assert out.exit_code == 0 and json.loads(out.output)["acknowledged_by"] == "oncall"
    out = runner.invoke(alerts_cli.alerts_app, ["resolve", second])
    assert out.exit_code == 0 and json.loads(out.output)["state"] == "resolved"
    out = runner.invoke(alerts_cli.alerts_app, ["ack", second])
    assert out.exit_code == 1 and "alert_state" in out.output

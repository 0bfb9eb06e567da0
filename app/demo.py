"""``waybill demo``: the whole flow on one machine with nothing installed but the package.

Starts the built-in Odoo sandbox (seeded with demo data), points an automation-rule webhook at
the API, polls as the safety net, and keeps releasing pickings so a newcomer watches delivery
orders become shipment intents in the logs and at ``/docs``.
"""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path

import uvicorn

from app.carriers.karrio_support import runtime
from app.carriers.sandbox import CarrierSandbox, run_carrier_sandbox
from app.core.config import Settings
from app.core.context import AppContext, set_context
from app.core.logging import configure_logging, get_logger
from app.core.security import DEV_API_KEY
from app.main import create_app
from app.store.migrate import upgrade
from app.sync.booking.directory import CarrierChoice, CarrierDirectory
from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server
from app.sync.scheduler import run_periodically

log = get_logger(__name__)

WEBHOOK_FIELDS = ["name", "state", "picking_type_code", "carrier_id", "write_date"]
SANDBOX_ACCOUNT = "sandbox-easypost"
# What the demo Odoo's delivery methods mean at the (EasyPost-wire) carrier sandbox.
DEMO_CARRIER_MAP = {
    "UPS Ground": CarrierChoice(SANDBOX_ACCOUNT, "easypost_ups_ground"),
    "FedEx Home Delivery": CarrierChoice(SANDBOX_ACCOUNT, "easypost_fedex_fedex_ground"),
    "USPS Priority Mail": CarrierChoice(SANDBOX_ACCOUNT, "easypost_usps_priority"),
}


# HS codes and declared values of the sandbox's products, so cross-border pickings can ship.
DEMO_CUSTOMS = {
    "FURN_0001": {"hs_code": "940521", "unit_value": "39.00", "currency": "USD"},
    "FURN_0002": {"hs_code": "940130", "unit_value": "189.00", "currency": "USD"},
    "FURN_0003": {"hs_code": "940360", "unit_value": "129.00", "currency": "USD"},
    "ACC_0001": {"hs_code": "691200", "unit_value": "12.00", "currency": "USD"},
    "ACC_0002": {"hs_code": "482020", "unit_value": "6.50", "currency": "USD"},
    "ELEC_0001": {"hs_code": "847180", "unit_value": "34.00", "currency": "USD"},
    "ELEC_0002": {"hs_code": "847160", "unit_value": "59.00", "currency": "USD"},
    "TEXT_0001": {"hs_code": "630120", "unit_value": "79.00", "currency": "USD"},
    "GARD_0001": {"hs_code": "391732", "unit_value": "29.00", "currency": "USD"},
    "KIT_0001": {"hs_code": "732391", "unit_value": "45.00", "currency": "USD"},
}


def demo_settings(*, odoo_url: str, sandbox: OdooSandbox, data_dir: Path) -> Settings:
    return Settings(
        env="dev",
        log_json=False,
        database_url=f"sqlite:///{data_dir / 'demo.db'}",
        redis_url="embedded",
        odoo_url=odoo_url,
        odoo_db=sandbox.db,
        odoo_username=sandbox.login,
        odoo_api_key=sandbox.api_key,
        odoo_protocol="json2" if sandbox.version.startswith("19") else "jsonrpc",
        poll_interval_seconds=15,
        allow_dev_api_key=True,
        customs_catalog=json.dumps(DEMO_CUSTOMS),
        _env_file=None,  # type: ignore[call-arg]
    )


SCENARIOS = (
    "delivered",
    "delivered",
    "delivered",
    "weather_delay",
    "recipient_unavailable",
    "customs_hold",
    "address_issue",
    "damaged",
    "lost",
)


def _carrier_loop(carriers: CarrierSandbox, every: float, stop: threading.Event) -> None:
    """Parcels move: each tick one booked parcel takes its next scan (webhook pushed)."""
    rng = random.Random(7)
    while not stop.wait(every):
        numbers = list(carriers.trackers)
        if numbers:
            number = rng.choice(numbers)
            carriers.advance(number, 1, scenario=rng.choice(SCENARIOS))


def _release_loop(sandbox: OdooSandbox, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        released = sandbox.release_pickings(1)
        if released:
            log.info("demo_picking_released", picking_ids=released)


def run_demo(*, port: int, odoo_port: int, odoo_version: str, release_every: float) -> None:
    configure_logging("INFO", json=False)
    data_dir = Path("var")
    data_dir.mkdir(exist_ok=True)
    runtime.install(loopback_only=True)  # the demo never talks to a real carrier
    sandbox = OdooSandbox(version=odoo_version, seed=42, demo_data=True, latency_ms=20)
    carriers = CarrierSandbox(seed=42, latency_ms=80)
    with (
        run_sandbox_server(sandbox, host="127.0.0.1", port=odoo_port) as odoo_url,
        run_carrier_sandbox(carriers) as carrier_url,
    ):
        settings = demo_settings(odoo_url=odoo_url, sandbox=sandbox, data_dir=data_dir)
        upgrade(settings.database_url)
        ctx = AppContext.from_settings(settings)
        ctx.extras["carrier_directory"] = CarrierDirectory(
            [carriers.account(SANDBOX_ACCOUNT)], DEMO_CARRIER_MAP
        )
        set_context(ctx)
        token = settings.odoo_webhook_token.get_secret_value()
        sandbox.set_automation_webhook(
            f"http://127.0.0.1:{port}/v1/odoo/webhook?token={token}", WEBHOOK_FIELDS
        )
        carriers.webhook_url = f"http://127.0.0.1:{port}/v1/webhooks/easypost"
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=run_periodically,
                args=(settings.poll_interval_seconds, stop),
                name="demo-poll",
                daemon=True,
            ),
            threading.Thread(
                target=_carrier_loop,
                args=(carriers, max(1.0, release_every / 2), stop),
                name="demo-carrier",
                daemon=True,
            ),
            threading.Thread(
                target=_release_loop,
                args=(sandbox, release_every, stop),
                name="demo-release",
                daemon=True,
            ),
        ]
        for thread in threads:
            thread.start()
        print(
            f"\n  Waybill demo\n"
            f"  API docs      http://127.0.0.1:{port}/docs\n"
            f"  readiness     http://127.0.0.1:{port}/ready\n"
            f"  API key       {DEV_API_KEY}  (header X-API-Key; demo only)\n"
            f"  Odoo sandbox  {odoo_url} (Odoo {odoo_version}, db {sandbox.db})\n"
            f"  Carrier       {carrier_url} (EasyPost wire format)\n"
            f"  A ready picking is released every {release_every:g} s; watch the log.\n",
            flush=True,
        )
        try:
            uvicorn.run(create_app(ctx), host="127.0.0.1", port=port, log_config=None)
        finally:
            stop.set()
            ctx.close()
            set_context(None)

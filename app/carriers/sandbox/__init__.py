"""Carrier sandbox: a loopback server speaking EasyPost's wire format (see ``server``)."""

from app.carriers.sandbox.runner import run_carrier_sandbox, serve_asgi
from app.carriers.sandbox.scenarios import SCENARIOS
from app.carriers.sandbox.server import CarrierSandbox, RecordedRequest, WebhookDelivery

__all__ = [
    "SCENARIOS",
    "CarrierSandbox",
    "RecordedRequest",
    "WebhookDelivery",
    "run_carrier_sandbox",
    "serve_asgi",
]

"""Intake metrics: how pickings arrive and what became of them."""

from prometheus_client import Counter

INTAKE_OUTCOMES = Counter(
    "waybill_intake_pickings_total",
    "Pickings seen by intake, by channel (webhook, poll, hint) and outcome.",
    ["channel", "outcome"],
)
WEBHOOK_REJECTED = Counter(
    "waybill_odoo_webhook_rejected_total",
    "Odoo automation webhooks refused, by reason.",
    ["reason"],
)

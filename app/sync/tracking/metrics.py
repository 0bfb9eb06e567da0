"""Tracking metrics: what arrived, what it changed, how fast Odoo heard of it."""

from prometheus_client import Counter, Histogram

WEBHOOKS_RECEIVED = Counter(
    "waybill_tracking_webhooks_total",
    "Tracking webhooks by source and outcome.",
    ["source", "outcome"],
)
EVENTS_PROJECTED = Counter(
    "waybill_tracking_events_total",
    "Tracking events projected, by carrier and result.",
    ["carrier", "result"],
)
STATUS_CHANGES = Counter(
    "waybill_shipment_status_changes_total", "Shipment tracking status changes.", ["status"]
)
EVENT_TO_PROJECTION = Histogram(
    "waybill_tracking_event_age_seconds",
    "Time from the carrier's event to Waybill knowing it (webhook/poll latency).",
    buckets=(1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 72 * 3600),
)

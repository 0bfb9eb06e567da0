"""Outbox metrics: what reached Odoo, what waits, and how long it took."""

from prometheus_client import Counter, Histogram

OUTBOX_APPLIED = Counter(
    "waybill_outbox_writes_total",
    "Outbox rows processed, by kind and outcome.",
    ["kind", "outcome"],
)
OUTBOX_LAG = Histogram(
    "waybill_outbox_lag_seconds",
    "Time from queueing a write to applying it in Odoo.",
    ["kind"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400),
)

"""Prometheus metrics of the carrier layer, defined once so every adapter counts the same way."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

TRACKING_UNKNOWN_CODES = Counter(
    "waybill_tracking_unknown_codes_total",
    "Carrier tracking codes not in our code table (mapped to 'unknown'); a rising line means a "
    "table needs a new row.",
    ["carrier"],
)

CARRIER_CALLS = Counter(
    "waybill_carrier_calls_total",
    "Carrier operations by outcome (ok or the error code).",
    ["carrier", "operation", "outcome"],
)

CARRIER_CALL_SECONDS = Histogram(
    "waybill_carrier_call_seconds",
    "Wall time of one carrier operation, including every HTTP exchange it needed.",
    ["carrier", "operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)

WEBHOOKS_REJECTED = Counter(
    "waybill_carrier_webhooks_rejected_total",
    "Carrier webhooks refused, by reason (signature, stale, payload).",
    ["carrier", "reason"],
)

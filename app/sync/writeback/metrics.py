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

# Service levels on-call is judged by. A write carries its own start moment in the outbox
# payload (``sla``), so the figure is measured when Odoo actually has the result — an Odoo
# outage shows up here as the breach it is, not as a fast booking.
SLA_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
SLA_READY_TO_LABEL = Histogram(
    "waybill_sla_picking_ready_to_label_seconds",
    "Time from a picking reaching Waybill ready to ship to its label attached in Odoo.",
    ["carrier"],
    buckets=SLA_BUCKETS,
)
SLA_EVENT_TO_ODOO = Histogram(
    "waybill_sla_carrier_event_to_odoo_seconds",
    "Time from a carrier tracking event occurring to its milestone posted on the Odoo picking.",
    ["carrier"],
    buckets=SLA_BUCKETS,
)
SLA_HISTOGRAMS = {"ready_to_label": SLA_READY_TO_LABEL, "event_to_odoo": SLA_EVENT_TO_ODOO}

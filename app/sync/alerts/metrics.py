"""Alerting metrics on /metrics: what on-call and the dashboards watch."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ANOMALY_ALERTS_ACTIVE = Gauge(
    "waybill_anomaly_alerts_active",
    "Open or acknowledged degradation alerts, per scope, metric and state.",
    ["scope", "metric", "state"],
)
ANOMALY_ALERTS_OPENED = Counter(
    "waybill_anomaly_alerts_opened_total",
    "Degradation alerts opened by the detector, per scope and metric.",
    ["scope", "metric"],
)
AT_RISK_TRANSITIONS = Counter(
    "waybill_at_risk_total",
    "At-risk shipment activities opened, updated and closed (by reason).",
    ["action"],
)
AT_RISK_OPEN = Gauge("waybill_at_risk_open", "Shipments currently flagged at risk.")

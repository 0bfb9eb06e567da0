"""Predictive alerting: shipments at risk of missing their promise, and degraded carriers."""

"""Evaluation of predictive alerting (at-risk shipments, degradation detection)."""

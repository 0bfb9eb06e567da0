"""Shipments as Waybill holds them: read models for the API and the CLI."""

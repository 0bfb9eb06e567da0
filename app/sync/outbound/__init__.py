"""Outbound webhooks: Waybill events pushed to other systems, signed, retried, logged."""

"""Intake: ready outgoing pickings in Odoo become persisted shipment intents, exactly once."""

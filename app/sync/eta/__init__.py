"""Delivery-time predictions kept current for each shipment, and shown in Odoo."""

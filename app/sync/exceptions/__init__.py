"""Delivery exceptions in front of the right person in Odoo, and what they decided."""

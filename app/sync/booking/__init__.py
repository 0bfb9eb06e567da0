"""Booking: rate-shop, choose, buy the label once, and owe Odoo the write-back."""

"""Waybill: the integration layer between the Odoo ERP and parcel carriers."""

__version__ = "0.1.0"

"""Waybill's Odoo client: JSON-RPC, XML-RPC and 19.0 JSON-2 behind one facade.

    from app.sync.odoo import OdooClient, OdooError, OdooRetryableError
    client = OdooClient.from_settings(settings)

Modules: :mod:`.errors` (the error tree), :mod:`.translate` (wire errors → tree),
:mod:`.transports` (one per protocol), :mod:`.retry` (policy), :mod:`.metrics`,
:mod:`.client` (the facade). Facts come from ``reference/odoo-external-api.md``.
"""

from __future__ import annotations

from app.sync.odoo.client import OdooClient
from app.sync.odoo.errors import (
    OdooAccessError,
    OdooAuthError,
    OdooConcurrencyError,
    OdooDatabaseError,
    OdooError,
    OdooInvalidRequestError,
    OdooMissingError,
    OdooRejectedError,
    OdooRetryableError,
    OdooServerError,
    OdooTransportError,
    OdooValidationError,
)
from app.sync.odoo.transports import ServerVersion

__all__ = [
    "OdooAccessError",
    "OdooAuthError",
    "OdooClient",
    "OdooConcurrencyError",
    "OdooDatabaseError",
    "OdooError",
    "OdooInvalidRequestError",
    "OdooMissingError",
    "OdooRejectedError",
    "OdooRetryableError",
    "OdooServerError",
    "OdooTransportError",
    "OdooValidationError",
    "ServerVersion",
]

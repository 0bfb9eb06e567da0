"""A built-in Odoo sandbox: a small ASGI app that behaves like a real Odoo 17.0/18.0/19.0 server
for the part of the external API Waybill uses (XML-RPC, JSON-RPC and JSON-2).

    from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server

    sandbox = OdooSandbox(version="17.0", seed=42)
    with run_sandbox_server(sandbox) as base_url:
        ...
"""

from .sandbox import OdooSandbox
from .server import run_sandbox_server

__all__ = ["OdooSandbox", "run_sandbox_server"]

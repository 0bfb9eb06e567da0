"""The karrio SDK behind our adapter interface: runtime patches, settings override, conversion
and message mapping. Nothing outside ``app.carriers`` imports karrio."""

from app.carriers.karrio_support.runtime import (
    carrier_call,
    install,
    is_loopback_host,
    loopback_only,
    set_loopback_only,
)

__all__ = ["carrier_call", "install", "is_loopback_host", "loopback_only", "set_loopback_only"]

"""API keys for tests that call protected routes."""

from __future__ import annotations


def api_key_for(ctx: object, *roles: str) -> str:
    """A real API key in the context's store, for tests that call protected routes."""
    from app.core.security import security_config
    from app.core.security_keys import create_api_key

    created = create_api_key(
        ctx.db,  # type: ignore[attr-defined]
        pepper=security_config(ctx.settings).pepper,  # type: ignore[attr-defined]
        name=f"test-{'-'.join(roles) or 'admin'}",
        roles=roles or ("admin",),
        created_by="tests",
    )
    return created.key

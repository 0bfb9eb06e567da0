"""FastAPI dependencies: the app context, read from the application state."""

from __future__ import annotations

from fastapi import Request

from app.core.context import AppContext


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]

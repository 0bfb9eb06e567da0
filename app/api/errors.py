"""Every error leaves the API as ``{code, message, details}`` with the right status.

Validation errors name each offending field (``parcels.0.weight``) so a caller can fix its
request without reading our source; unexpected errors become a 500 that says only that, with the
correlation id to find the traceback in the logs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import WaybillError
from app.core.logging import correlation_id_var, get_logger

log = get_logger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"code": code, "message": message, "details": details or {}},
    )


def validation_details(errors: list[dict[str, Any]]) -> dict[str, Any]:
    fields = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        fields.append(
            {
                "field": ".".join(loc) or "body",
                "message": err.get("msg", "invalid"),
                "type": err.get("type"),
            }
        )
    return {"fields": fields}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WaybillError)
    async def _waybill(_request: Request, exc: WaybillError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("request_failed", code=exc.code, message=exc.message)
        return error_response(exc.http_status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(list(exc.errors()))
        names = ", ".join(f["field"] for f in details["fields"])
        return error_response(422, "validation_error", f"invalid request: {names}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("request_crashed", error=type(exc).__name__)
        return error_response(
            500,
            "internal_error",
            "unexpected error; quote the correlation id when reporting it",
            {"correlation_id": correlation_id_var.get()},
        )

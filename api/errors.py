"""OpenAI-shaped errors: one exception type and the handlers that render it."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    503: "server_error",
    504: "server_error",
}


class APIError(Exception):
    """An error the client caused or should see, rendered as ``{"error": {...}}``."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.param = param
        self.code = code
        self.error_type = error_type or _TYPE_BY_STATUS.get(status_code, "server_error")
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


def error_response(error: APIError) -> JSONResponse:
    return JSONResponse(status_code=error.status_code, content=error.body(), headers=error.headers)


def _validation_error(exc: RequestValidationError) -> APIError:
    problems = exc.errors()
    first = problems[0] if problems else {}
    if first.get("type") == "json_invalid":
        return APIError(400, "The request body is not valid JSON.", code="invalid_json")
    # loc is ("body", "speed") for a body field; drop the location prefix.
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    param = ".".join(loc) or None
    detail = first.get("msg", "invalid request")
    message = f"Invalid value for '{param}': {detail}" if param else f"Invalid request: {detail}"
    return APIError(400, message, param=param, code="invalid_value")


_ERROR_RESPONSE = {
    "description": "An error in OpenAI's shape.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI schema list the errors the app really returns.

    FastAPI documents a 422 wherever a request is validated; this app answers
    those with a 400 in OpenAI's shape. Every request body may also meet the
    body limit (413), and every operation behind the API key may answer 401.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()  # cached by FastAPI; the edits below are idempotent
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        for item in schema["paths"].values():
            for operation in item.values():
                responses = operation["responses"]
                if responses.pop("422", None) is not None:
                    responses.setdefault("400", _ERROR_RESPONSE)
                if "requestBody" in operation:
                    responses.setdefault("413", _ERROR_RESPONSE)
                if "security" in operation:
                    responses.setdefault("401", _ERROR_RESPONSE)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """Make every error the app returns, validation and routing included, OpenAI-shaped."""

    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, APIError)
        return error_response(exc)

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(_validation_error(exc))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 413:  # the body limit (api.bodylimit), its message says it
            error = APIError(413, str(exc.detail), code="request_too_large")
        else:
            code = "not_found" if exc.status_code == 404 else None
            message = f"{exc.detail}: {request.method} {request.url.path}"
            error = APIError(exc.status_code, message, code=code)
        response = error_response(error)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return error_response(APIError(500, "Internal server error", code="internal_error"))

    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)

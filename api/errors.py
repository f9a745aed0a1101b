"""OpenAI-shaped errors: one exception type and the handlers that render it."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.intake import Problem, RequestRejectedError

logger = logging.getLogger(__name__)

# OpenAI's error types by status, for every status this app answers with.
# Any other 4xx is the client's doing, any other 5xx the server's (type_for_status).
_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "invalid_request_error",  # as OpenAI reports a missing or wrong key
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    501: "server_error",
    503: "server_error",
    504: "server_error",
}


def type_for_status(status_code: int) -> str:
    """The OpenAI ``type`` of an error with this HTTP status."""
    fallback = "invalid_request_error" if status_code < 500 else "server_error"
    return _TYPE_BY_STATUS.get(status_code, fallback)


class APIError(Exception):
    """An error the client caused or should see, rendered as ``{"error": {...}}``.

    ``code`` is required: clients branch on it (OpenAI's do), so every error
    names its cause in snake_case, and mypy points at a raise that forgets it.
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: str,
        param: str | None = None,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.param = param
        self.code = code
        self.error_type = error_type or type_for_status(status_code)
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": encodable(self.message),
                "type": self.error_type,
                "param": None if self.param is None else encodable(self.param),
                "code": self.code,
            }
        }


def encodable(text: str) -> str:
    """``text`` as UTF-8 can carry it: a message may quote the client's input, and a
    lone surrogate in it (JSON can send one) would make the error itself fail."""
    return text.encode("utf-8", "replace").decode("utf-8")


_STATUS_BY_PROBLEM: dict[Problem, int] = {"invalid": 400, "not_found": 404, "too_large": 413}


def rejected(e: RequestRejectedError) -> APIError:
    """The HTTP error for a request the intake refused."""
    return APIError(_STATUS_BY_PROBLEM[e.problem], e.message, param=e.param, code=e.code)


# The codes of the errors Starlette raises itself: a form it cannot parse (400),
# routing and static files (404, 405) and the body limit (413, api.bodylimit).
# Written out rather than derived from http.HTTPStatus, whose phrases change
# between Python versions.
_HTTP_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}


def http_error_code(status_code: int) -> str:
    """The ``code`` of an error Starlette raised (``http_error`` for any other status)."""
    return _HTTP_ERROR_CODES.get(status_code, "http_error")


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

    async def on_rejected(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestRejectedError)
        return error_response(rejected(exc))

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(_validation_error(exc))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 413:  # the body limit (api.bodylimit), its message says it
            error = APIError(413, str(exc.detail), code=http_error_code(413))
        else:
            message = f"{str(exc.detail).rstrip('.')}: {request.method} {request.url.path}"
            error = APIError(exc.status_code, message, code=http_error_code(exc.status_code))
        response = error_response(error)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return error_response(APIError(500, "Internal server error", code="internal_error"))

    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(RequestRejectedError, on_rejected)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)

"""CORS (``KOKORO_CORS_ORIGINS``): Starlette's middleware, its refusals in OpenAI's shape."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.responses import Response

from api.errors import APIError, error_response

# The body's own headers; the refusal's CORS headers are kept.
_BODY_HEADERS = {"content-type", "content-length"}


class CORSMiddleware(StarletteCORSMiddleware):
    """Starlette's CORS middleware, whose refused preflight is a plain-text 400; here
    it is an error like every other (browsers hide it, but curl shows it)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = bytes(response.body).decode()  # "Disallowed CORS origin, headers"
        headers = {k: v for k, v in response.headers.items() if k not in _BODY_HEADERS}
        error = APIError(
            response.status_code,
            f"{reason}: the preflight asks for what the server's CORS settings do not allow.",
            code="cors_not_allowed",
            headers=headers,
        )
        return error_response(error)

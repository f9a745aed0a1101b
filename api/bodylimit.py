"""Request body size limits, answered with a 413 in OpenAI's error shape.

A body that declares a length over the limit is refused before a byte of it
is read; one sent without a length (chunked) is counted as it arrives and
refused as soon as it passes the limit. FastAPI's own ``max_body_size``
answers a declared length with a plain-text 413, hence this small middleware.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import APIError, error_response


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit.

    An ``HTTPException``, so that FastAPI's body parsing lets it through
    unchanged (it turns other errors into a 400) to the API error handler.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the limit of {limit} bytes.")
        self.limit = limit


def body_too_large(limit: int) -> APIError:
    return APIError(
        413,
        f"The request body is larger than the limit of {limit} bytes.",
        code="request_too_large",
    )


class BodyLimitMiddleware:
    """At most ``limit`` body bytes per request; ``per_route`` sets other limits for
    some (method, path) pairs, such as the voice upload."""

    def __init__(
        self, app: ASGIApp, limit: int, per_route: Mapping[tuple[str, str], int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.per_route = dict(per_route or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_route.get((scope["method"], scope["path"]), self.limit)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await error_response(body_too_large(limit))(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, counted_receive, send)

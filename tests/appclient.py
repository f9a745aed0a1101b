"""The app on given settings, its lifespan run, behind an httpx client (no sockets),
and the check every API test's error responses go through."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from api.app import create_app
from api.backends.base import Backend
from api.backends.fake import FakeBackend
from api.settings import Settings

# OpenAI's error type for each status the API answers with. A status missing here
# fails the check: a new kind of error is added to this table, and to the error
# table in docs/operations.md, on purpose.
ERROR_TYPES = {
    400: "invalid_request_error",
    # OpenAI reports a missing or wrong key as invalid_request_error/invalid_api_key.
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    # A client that left before its complete file was ready never reads this one.
    499: "invalid_request_error",
    500: "server_error",
    501: "server_error",
    504: "server_error",
}
_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def check_error(response: httpx.Response) -> None:
    """An error response (read already) must be OpenAI-shaped, with the type its
    status calls for and a snake_case code. Responses below 400 pass as they are."""
    if response.status_code < 400 or response.request.method == "HEAD":
        return
    what = f"{response.request.method} {response.request.url.path} {response.status_code}"
    assert response.headers.get("content-type", "").startswith("application/json"), what
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}, (what, error)
    assert error["type"] == ERROR_TYPES.get(response.status_code), (what, error)
    assert isinstance(error["code"], str), (what, error)
    assert _CODE.fullmatch(error["code"]), (what, error)
    assert isinstance(error["message"], str), (what, error)
    assert error["message"], (what, error)


async def _check_error_async(response: httpx.Response) -> None:
    if response.status_code >= 400:
        await response.aread()
        check_error(response)


def _check_error_sync(response: httpx.Response) -> None:
    if response.status_code >= 400:
        response.read()
        check_error(response)


CHECKED_ERRORS: dict[str, list[Any]] = {"response": [_check_error_async]}
"""``event_hooks`` for an ``httpx.AsyncClient``: every error response is checked."""
CHECKED_ERRORS_SYNC: dict[str, list[Any]] = {"response": [_check_error_sync]}
"""The same for an ``httpx.Client``."""


@asynccontextmanager
async def running(
    settings: Settings, backend: Backend | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh app on ``settings`` (a server (re)start), with the fake backend by default."""
    app = create_app(settings, backend=backend or FakeBackend())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", event_hooks=CHECKED_ERRORS
        ) as http:
            yield http

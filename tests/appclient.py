"""The app on given settings, its lifespan run, behind an httpx client (no sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from api.app import create_app
from api.backends.base import Backend
from api.backends.fake import FakeBackend
from api.settings import Settings


@asynccontextmanager
async def running(
    settings: Settings, backend: Backend | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh app on ``settings`` (a server (re)start), with the fake backend by default."""
    app = create_app(settings, backend=backend or FakeBackend())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http

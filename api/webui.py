"""The bundled web UI: static files in ``api/web/``, served at ``/web/``.

The files live inside the package so that an installed wheel, an editable
install and a Docker image all find them at the same place, next to this module.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

WEB_DIR = Path(__file__).with_name("web")

# The page loads nothing from elsewhere and builds no markup from strings, so
# it can run under a strict policy: a voice name or error message can never
# become a script. blob: is for the finished audio the page offers as downloads.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'none'",
    )
)


class WebFiles(StaticFiles):
    """Static files that browsers revalidate on every load (ETag, so a 304 is
    cheap) and may not mix stale modules with new ones after an upgrade."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def mount_web_ui(app: FastAPI) -> None:
    """Serve the UI at ``/web/``; ``/web`` and ``/`` lead there."""

    @app.get("/", include_in_schema=False)
    @app.get("/web", include_in_schema=False)
    async def to_web_ui() -> RedirectResponse:
        return RedirectResponse("/web/")

    app.mount("/web", WebFiles(directory=WEB_DIR, html=True), name="web")

"""The API documentation page, Swagger UI at ``/docs``, served without any CDN.

FastAPI's own page loads its script, styles and favicon from a CDN, so on a
machine without internet it stays blank. This one loads everything from this
server: the Swagger UI bundle that the ``fastapi-offline`` package ships, served
at ``/docs/assets/``, and the web UI's icon. Like /health it needs no API key:
it describes the API, the schema it reads holds no secret, and Swagger UI's
"Authorize" button sends the key to the API itself.

There is no ReDoc page (FastAPI's ``/redoc``): the ReDoc bundle always shows a
logo that it loads from Redocly's CDN, so even served locally it reaches out.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS_ASSETS_URL = "/docs/assets"
# Where fastapi-offline keeps the bundles inside its package.
_ASSETS_PACKAGE = ("fastapi_offline", "static")
SWAGGER_JS = "swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui.css"
_FAVICON_URL = "/web/icon.svg"

# FastAPI's defaults, plus no validator: Swagger UI's default validatorUrl is an
# online service (for a badge); null keeps the page from ever calling it.
_SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def mount_api_docs(app: FastAPI) -> None:
    """Serve /docs and its assets; the app must be built with ``docs_url=None,
    redoc_url=None`` so that FastAPI's CDN pages are not there too."""
    openapi_url = app.openapi_url or "/openapi.json"
    # A missing directory (a fastapi-offline that moved its files) fails here,
    # when the app is built, rather than as a blank page.
    assets = StaticFiles(packages=[_ASSETS_PACKAGE])
    app.mount(DOCS_ASSETS_URL, assets, name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{root}{DOCS_ASSETS_URL}/{SWAGGER_JS}",
            swagger_css_url=f"{root}{DOCS_ASSETS_URL}/{SWAGGER_CSS}",
            swagger_favicon_url=f"{root}{_FAVICON_URL}",
            swagger_ui_parameters=_SWAGGER_UI_PARAMETERS,
        )

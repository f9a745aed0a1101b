"""The API docs page loads nothing from outside the server (the browser test is in tests/e2e)."""

from __future__ import annotations

import re

import httpx
import pytest
from pydantic import SecretStr

from api.settings import Settings
from tests.appclient import running

pytestmark = pytest.mark.anyio

# Every place an HTML page or Swagger UI's start-up script names a URL.
_REFERENCE = re.compile(r"""(?:src|href)="([^"]*)"|url: '([^']*)'""")
_ABSOLUTE = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def references(html: str) -> list[str]:
    return [src or url for src, url in _REFERENCE.findall(html)]


async def test_the_docs_page_references_no_other_host(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    found = references(response.text)
    assert len(found) == 4, found  # the styles, the favicon, the script, the schema
    for url in found:
        assert url.startswith("/"), url
        assert not _ABSOLUTE.match(url), url
    # Nor anywhere else on the page (a comment, a script's string).
    assert not re.search(r"(?:https?:)?//[a-z0-9]", response.text, re.IGNORECASE)


async def test_everything_the_docs_page_loads_is_served(client: httpx.AsyncClient) -> None:
    html = (await client.get("/docs")).text
    for url in references(html):
        response = await client.get(url)
        assert response.status_code == 200, url
        if url == "/openapi.json":
            assert response.json()["paths"]
            continue
        suffix = url[url.rfind(".") :]
        assert response.headers["content-type"].startswith(_CONTENT_TYPES[suffix]), url


@pytest.mark.parametrize("path", ["/redoc", "/docs/oauth2-redirect"])
async def test_fastapis_other_docs_pages_are_not_served(
    client: httpx.AsyncClient, path: str
) -> None:
    # ReDoc's bundle loads a logo from a CDN (see api.docs); the OAuth2 redirect
    # page serves OAuth2 flows, and this API's only scheme is a bearer key.
    assert (await client.get(path)).status_code == 404


async def test_the_docs_need_no_key(settings: Settings) -> None:
    keyed = settings.model_copy(update={"api_keys": [SecretStr("sk-docs")]})
    async with running(keyed) as http:
        assert (await http.get("/v1/models")).status_code == 401
        html = (await http.get("/docs")).text
        for url in references(html):
            assert (await http.get(url)).status_code == 200, url

"""The web UI's files as the app serves them (the browser tests are in tests/e2e)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

import api
from api.webui import WEB_DIR

pytestmark = pytest.mark.anyio

_CONTENT_TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}
_HTML_REFERENCE = re.compile(r'(?:src|href)="(?!\.\./|https?:|#)([^"]+)"')
_JS_IMPORT = re.compile(r'^import .* from "(\./[^"]+)";$', re.MULTILINE)


def test_the_ui_lives_inside_the_package() -> None:
    # Inside api/, so a wheel, an editable install and a Docker image all carry it.
    assert WEB_DIR.parent == Path(api.__file__).parent
    assert (WEB_DIR / "index.html").is_file()


async def test_web_without_slash_leads_to_the_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/web")
    assert response.status_code == 307
    assert response.headers["location"] == "/web/"


async def test_the_page_is_served_with_a_strict_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/web/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Kokoro speech server</title>" in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'self'" in policy
    assert response.headers["cache-control"] == "no-cache"


async def test_every_file_the_page_needs_is_served(client: httpx.AsyncClient) -> None:
    """Follow index.html's links and every module's imports; each must load with
    its type (a browser refuses a module served as text/plain)."""
    page = (WEB_DIR / "index.html").read_text()
    pending = ["/web/index.html"] + [f"/web/{ref}" for ref in _HTML_REFERENCE.findall(page)]
    seen: set[str] = set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = await client.get(url)
        assert response.status_code == 200, url
        expected = _CONTENT_TYPES[Path(url).suffix]
        assert response.headers["content-type"].startswith(expected), url
        if url.endswith(".js"):
            base = url.rsplit("/", 1)[0]
            pending += [f"{base}/{ref[2:]}" for ref in _JS_IMPORT.findall(response.text)]
    served = {url.removeprefix("/web/") for url in seen}
    on_disk = {str(p.relative_to(WEB_DIR)) for p in WEB_DIR.rglob("*") if p.is_file()}
    assert served == on_disk, "files in api/web/ that nothing loads, or links to missing files"


async def test_a_missing_file_is_an_openai_shaped_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/web/nope.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

"""API keys, CORS and request body limits (fake backend)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import RouteContext, iter_route_contexts
from pydantic import SecretStr

from api.app import create_app
from api.backends.fake import FakeBackend
from api.deps import require_api_key
from api.settings import Settings
from api.voices.formats import pt_bytes
from tests.api.test_speech import assert_openai_error
from tests.appclient import running
from tests.wavcheck import read_wav

pytestmark = pytest.mark.anyio

SPEECH = "/v1/audio/speech"
KEY = "sk-test-0123456789"
OTHER_KEY = "second-key"
WAV_REQUEST = {"input": "Hello there.", "response_format": "wav"}
OPEN_PATHS = {"/health", "/", "/docs", "/docs/assets", "/openapi.json"}
SOCKETS = {"/v1/text-to-speech/{voice_id}/stream-input"}
"""WebSockets check the key themselves (a browser cannot send the header; the key
may come in the query or the first message): tests/api/test_stream_input.py."""
UI = "/web"
"""The static web UI (mounted by its own module): open, it asks for the key itself."""


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_keys": [SecretStr(KEY), SecretStr(OTHER_KEY)]})


@pytest.fixture
async def keyed_client(keyed: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(keyed) as http:
        yield http


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_401(response: httpx.Response) -> None:
    assert_openai_error(response, 401, None)
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert response.headers["www-authenticate"] == "Bearer"


# --- API keys -------------------------------------------------------------------------------


async def test_no_key_is_401(keyed_client: httpx.AsyncClient) -> None:
    response = await keyed_client.post(SPEECH, json=WAV_REQUEST)
    assert_401(response)
    assert "Authorization: Bearer" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {KEY}x",
        f"Bearer {KEY[:-1]}",
        f"Bearer {KEY.upper()}",
        f"Basic {KEY}",
        KEY,
        "Bearer ",
        f"Bearer {KEY},{OTHER_KEY}",
    ],
)
async def test_a_wrong_key_is_401(keyed_client: httpx.AsyncClient, authorization: str) -> None:
    response = await keyed_client.post(
        SPEECH, json=WAV_REQUEST, headers={"Authorization": authorization}
    )
    assert_401(response)


@pytest.mark.parametrize("key", [KEY, OTHER_KEY])
@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
async def test_a_right_key_gets_audio(
    keyed_client: httpx.AsyncClient, key: str, scheme: str
) -> None:
    response = await keyed_client.post(
        SPEECH, json=WAV_REQUEST, headers={"Authorization": f"{scheme} {key}"}
    )
    assert response.status_code == 200
    assert read_wav(response.content).frames > 0


async def test_every_endpoint_but_health_and_docs_needs_the_key(keyed: Settings) -> None:
    app = create_app(keyed, backend=FakeBackend())
    async with running(keyed) as http:
        checked = 0
        for route in iter_route_contexts(app.routes):
            path = route.path or ""
            if path in SOCKETS:
                continue
            for method in (route.methods or {"GET"}) - {"HEAD"}:
                url = re.sub(r"\{[^}]+\}", "jf_alpha", path)
                response = await http.request(method, url)
                if path in OPEN_PATHS:
                    assert response.status_code in (200, 307), (method, path)
                elif path.startswith(UI):
                    assert response.status_code != 401, path
                else:
                    assert response.status_code == 401, (method, path, response.status_code)
                    checked += 1
        assert checked >= 10  # speech, voices (4), models (2), dev (3), metrics


async def test_health_says_a_key_is_needed(
    keyed_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    assert (await keyed_client.get("/health")).json()["api_key_required"] is True
    assert (await client.get("/health")).json()["api_key_required"] is False


async def test_without_keys_the_api_is_open(client: httpx.AsyncClient) -> None:
    assert (await client.post(SPEECH, json=WAV_REQUEST)).status_code == 200
    assert (await client.get("/v1/models", headers=bearer("anything"))).status_code == 200


async def test_metrics_need_the_key_unless_public(keyed: Settings) -> None:
    async with running(keyed) as http:
        assert_401(await http.get("/metrics"))
        assert (await http.get("/metrics", headers=bearer(KEY))).status_code == 200
    public = keyed.model_copy(update={"public_metrics": True})
    async with running(public) as http:
        assert (await http.get("/metrics")).status_code == 200
        assert_401(await http.get("/v1/models"))


async def test_the_openapi_schema_declares_the_bearer_scheme(
    keyed_client: httpx.AsyncClient,
) -> None:
    schema = (await keyed_client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/v1/audio/speech"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in schema["paths"]["/health"]["get"]


async def test_keys_never_reach_the_log_or_the_settings_repr(
    keyed: Settings, keyed_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await keyed_client.post(SPEECH, json=WAV_REQUEST, headers=bearer(KEY))
    await keyed_client.post(SPEECH, json=WAV_REQUEST, headers=bearer(OTHER_KEY + "x"))
    assert caplog.records
    assert KEY not in caplog.text
    assert OTHER_KEY not in caplog.text
    assert KEY not in repr(keyed)
    assert KEY not in str(keyed.model_dump())


# --- CORS -----------------------------------------------------------------------------------


async def test_cors_allows_the_configured_origin_only(keyed: Settings) -> None:
    settings = keyed.model_copy(update={"cors_origins": ["https://app.example"]})
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async with running(settings) as http:
        allowed = await http.options(SPEECH, headers={"Origin": "https://app.example", **preflight})
        assert allowed.status_code == 200  # a preflight needs no key
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        refused = await http.options(
            SPEECH, headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in refused.headers
        assert_openai_error(refused, 400, None)
        assert refused.json()["error"]["code"] == "cors_not_allowed"
        assert "Disallowed CORS origin" in refused.json()["error"]["message"]
        # Errors carry the CORS headers too, so a browser page can read them.
        unauthorized = await http.post(
            SPEECH, json=WAV_REQUEST, headers={"Origin": "https://app.example"}
        )
        assert unauthorized.status_code == 401
        assert unauthorized.headers["access-control-allow-origin"] == "https://app.example"
        assert "retry-after" in unauthorized.headers["access-control-expose-headers"].lower()


async def test_without_origins_no_cors_headers_are_sent(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers


# --- body limits ----------------------------------------------------------------------------


@pytest.fixture
def small_bodies(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_body_bytes": 4096, "max_voice_file_bytes": 600_000})


async def chunked(data: bytes) -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked transfer)."""
    for start in range(0, len(data), 1000):
        yield data[start : start + 1000]


async def test_an_oversize_body_is_413(small_bodies: Settings) -> None:
    big = {"input": "word " * 1000, "response_format": "wav"}  # over 4096 bytes as JSON
    async with running(small_bodies) as http:
        response = await http.post(SPEECH, json=big)
        message = assert_openai_error(response, 413, None)
        assert response.json()["error"]["code"] == "request_too_large"
        assert "4096" in message
        assert (await http.post(SPEECH, json=WAV_REQUEST)).status_code == 200


async def test_an_oversize_chunked_body_is_413(small_bodies: Settings) -> None:
    data = httpx.Request("POST", "/", json={"input": "word " * 1000}).content
    async with running(small_bodies) as http:
        response = await http.post(
            SPEECH, content=chunked(data), headers={"Content-Type": "application/json"}
        )
        assert_openai_error(response, 413, None)
        assert (await http.post(SPEECH, json=WAV_REQUEST)).status_code == 200


async def test_uploads_follow_the_voice_file_limit(small_bodies: Settings) -> None:
    pack = np.random.default_rng(0).normal(0, 0.1, (510, 1, 256)).astype(np.float32)
    voice = pt_bytes(pack)  # 523 kB: over max_body_bytes, under max_voice_file_bytes
    assert small_bodies.max_body_bytes < len(voice) < small_bodies.max_voice_file_bytes
    async with running(small_bodies) as http:
        files = {"file": ("af_test.pt", io.BytesIO(voice))}
        assert (await http.post("/v1/audio/voices", files=files)).status_code == 201
        too_big = {"file": ("af_big.pt", io.BytesIO(voice * 2))}
        response = await http.post("/v1/audio/voices", files=too_big)
        assert_openai_error(response, 413, None)
        assert str(small_bodies.max_voice_file_bytes + 64 * 1024) in response.text


def dependencies(route: RouteContext) -> list[Dependant]:
    dependant = getattr(route, "dependant", None)  # Starlette routes (the docs) have none
    return dependant.dependencies if dependant is not None else []


async def test_only_the_open_paths_lack_the_key_check(keyed: Settings) -> None:
    # The key check is a router dependency: a route added outside those routers
    # (an app.get in create_app) would be open unnoticed.
    app = create_app(keyed, backend=FakeBackend())
    unchecked = {
        route.path
        for route in iter_route_contexts(app.routes)
        if not any(d.call is require_api_key for d in dependencies(route))
    }
    assert unchecked - {UI} - SOCKETS == OPEN_PATHS

"""Every kind of error, one request each: OpenAI's shape, the type its status calls
for, a code. (Every error response any API test gets is checked the same way, by
the clients' hook in tests/appclient.py; these make sure each status is met.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.deps import get_speech_service
from api.settings import Settings
from tests.appclient import CHECKED_ERRORS, check_error, running

pytestmark = pytest.mark.anyio

SPEECH = "/v1/audio/speech"
COMBINE = "/v1/audio/voices/combine"


def expect_error(response: httpx.Response, status: int, error_type: str, code: str) -> None:
    assert response.status_code == status, response.text
    check_error(response)
    error = response.json()["error"]
    assert (error["type"], error["code"]) == (error_type, code)


TOO_LONG = "x" * 100_001  # over the default KOKORO_MAX_INPUT_CHARS


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        pytest.param(
            ("POST", SPEECH, {"content": b"{", "headers": {"content-type": "application/json"}}),
            (400, "invalid_request_error", "invalid_json"),
            id="not-json",
        ),
        pytest.param(
            ("POST", SPEECH, {"json": {"input": "Hi.", "speed": 9}}),
            (400, "invalid_request_error", "invalid_value"),
            id="out-of-range",
        ),
        pytest.param(
            ("POST", SPEECH, {"json": {"input": "   "}}),
            (400, "invalid_request_error", "empty_input"),
            id="empty-input",
        ),
        pytest.param(
            ("DELETE", "/v1/audio/voices/jf_alpha", {}),
            (403, "permission_error", "voice_protected"),
            id="protected-voice",
        ),
        pytest.param(
            ("GET", "/v2/nothing", {}),
            (404, "invalid_request_error", "not_found"),
            id="no-route",
        ),
        pytest.param(
            ("POST", SPEECH, {"json": {"input": "Hi.", "voice": "zz_nobody"}}),
            (404, "invalid_request_error", "voice_not_found"),
            id="unknown-voice",
        ),
        pytest.param(
            ("GET", SPEECH, {}),
            (405, "invalid_request_error", "method_not_allowed"),
            id="get-speech",
        ),
        pytest.param(
            ("POST", SPEECH, {"json": {"input": TOO_LONG}}),
            (413, "invalid_request_error", "input_too_long"),
            id="input-too-long",
        ),
        pytest.param(
            ("POST", "/dev/phonemize", {"json": {"text": TOO_LONG}}),
            (413, "invalid_request_error", "input_too_long"),
            id="phonemize-too-long",
        ),
    ],
)
async def test_each_error_has_its_type_and_code(
    client: httpx.AsyncClient,
    sent: tuple[str, str, dict[str, Any]],
    expected: tuple[int, str, str],
) -> None:
    method, path, request_args = sent
    response = await client.request(method, path, **request_args)
    expect_error(response, *expected)


async def test_a_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/models")
    expect_error(response, 405, "invalid_request_error", "method_not_allowed")
    assert response.headers["allow"] == "GET"
    assert "PUT /v1/models" in response.json()["error"]["message"]


async def test_a_taken_name_is_409_voice_exists(client: httpx.AsyncClient) -> None:
    body = {"voices": "jf_alpha(2)+jm_kumo(1)", "name": "taken"}
    assert (await client.post(COMBINE, json=body)).status_code == 200
    response = await client.post(COMBINE, json=body)
    expect_error(response, 409, "invalid_request_error", "voice_exists")
    assert response.json()["error"]["param"] == "name"


async def test_no_key_is_401_invalid_api_key(settings: Settings) -> None:
    keyed = settings.model_copy(update={"api_keys": [SecretStr("sk-errors")]})
    async with running(keyed) as http:
        response = await http.post(SPEECH, json={"input": "Hi."})
    expect_error(response, 401, "invalid_request_error", "invalid_api_key")


async def test_a_bug_is_500_internal_error(app: FastAPI) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    app.dependency_overrides[get_speech_service] = broken
    # The app re-raises the bug after answering (for the server's log); take the answer.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", event_hooks=CHECKED_ERRORS
    ) as http:
        response = await http.post(SPEECH, json={"input": "Hi."})
    expect_error(response, 500, "server_error", "internal_error")
    assert "a bug" not in response.text

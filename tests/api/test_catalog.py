from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_voices_are_listed_with_what_their_names_tell(client: httpx.AsyncClient) -> None:
    voices = {v["id"]: v for v in (await client.get("/v1/audio/voices")).json()["voices"]}
    assert set(voices) == {"jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"}
    assert voices["jm_kumo"] == {
        "id": "jm_kumo",
        "name": "Kumo",
        "language": "ja",
        "gender": "male",
        "source": "builtin",
        "spec": None,
    }


async def test_models_list_the_accepted_names(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/models")).json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
    assert (await client.get("/v1/models/tts-1")).json()["id"] == "tts-1"
    assert (await client.get("/v1/models/nope")).status_code == 404


async def test_health_reports_backend_and_model(client: httpx.AsyncClient) -> None:
    body = (await client.get("/health")).json()
    assert body["status"] == "ok"
    assert (body["backend"], body["device"]) == ("fake", "cpu")
    assert len(body["model_sha256"]) == 64
    assert body["voices"] == 5


async def test_the_root_leads_to_the_web_ui(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/web/"
    assert (await client.get("/docs")).status_code == 200

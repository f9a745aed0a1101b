from __future__ import annotations

import importlib.util

import httpx
import pytest

from api.voices.official import official_voices

pytestmark = pytest.mark.anyio


async def test_the_official_voices_are_listed_with_their_metadata(
    client: httpx.AsyncClient,
) -> None:
    voices = {v["id"]: v for v in (await client.get("/v1/audio/voices")).json()["voices"]}
    assert set(voices) == set(official_voices())
    assert len(voices) == 54
    assert voices["af_heart"] == {
        "id": "af_heart",
        "name": "Heart",
        "language": "en-us",
        "gender": "female",
        "source": "builtin",
        "spec": None,
        "quality": "A",
        "target_quality": "A",
        "requires": None,
    }
    assert voices["jm_kumo"]["name"] == "Kumo"
    assert (voices["jm_kumo"]["language"], voices["jm_kumo"]["gender"]) == ("ja", "male")
    assert voices["zf_xiaobei"]["language"] == "cmn"
    assert voices["ff_siwis"]["language"] == "fr-fr"
    assert voices["bm_fable"]["quality"] == "C"
    assert all(voice["language"] and voice["gender"] for voice in voices.values())


async def test_japanese_voices_say_when_their_reader_is_missing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the Japanese extra, the list says what Japanese text needs (the web UI
    shows it); the voices are still listed (they read English without it)."""
    find_spec = importlib.util.find_spec

    def without_pyopenjtalk(name: str, package: str | None = None) -> object:
        return None if name == "pyopenjtalk" else find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_pyopenjtalk)
    voices = {v["id"]: v for v in (await client.get("/v1/audio/voices")).json()["voices"]}
    japanese = [voice for voice in voices.values() if voice["language"] == "ja"]
    assert len(japanese) == 5
    assert all("uv sync --extra ja" in voice["requires"] for voice in japanese)
    assert all(voice["requires"] is None for voice in voices.values() if voice["language"] != "ja")


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
    assert body["voices"] == 54


async def test_the_root_leads_to_the_web_ui(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/web/"
    assert (await client.get("/docs")).status_code == 200

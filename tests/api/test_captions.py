from __future__ import annotations

import base64

import httpx
import pytest

from tests.wavcheck import decoded_seconds, read_wav

pytestmark = pytest.mark.anyio


async def test_captioned_speech_gives_audio_and_a_timestamp_per_word(
    client: httpx.AsyncClient,
) -> None:
    body = {"input": "It costs $5, Dr. Smith. [pause:1s] Thanks!", "response_format": "wav"}
    response = await client.post("/dev/captioned_speech", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["audio_format"] == "wav"
    seconds = read_wav(base64.b64decode(result["audio"])).seconds
    words = [t["word"] for t in result["timestamps"]]
    assert words == ["It", "costs", "five", "dollars", "Doctor", "Smith", "Thanks"]
    previous_end = 0.0
    for stamp in result["timestamps"]:
        assert previous_end <= stamp["start_time"] < stamp["end_time"] <= seconds + 1e-6
        previous_end = stamp["end_time"]
    # The one-second pause sits between "Smith" and "Thanks".
    assert result["timestamps"][-1]["start_time"] - result["timestamps"][-2]["end_time"] >= 1.0


async def test_captioned_speech_in_mp3(client: httpx.AsyncClient) -> None:
    body = {"input": "Short and sweet.", "response_format": "mp3"}
    result = (await client.post("/dev/captioned_speech", json=body)).json()
    assert decoded_seconds(base64.b64decode(result["audio"])) > 0.5
    assert len(result["timestamps"]) == 3


async def test_captioned_speech_validates_like_speech(client: httpx.AsyncClient) -> None:
    response = await client.post("/dev/captioned_speech", json={"input": "", "voice": "nope"})
    assert response.status_code == 400
    response = await client.post("/dev/captioned_speech", json={"input": "Hi", "voice": "nope"})
    assert response.status_code == 404

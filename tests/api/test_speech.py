from __future__ import annotations

import httpx
import numpy as np
import pytest

from api.backends.fake import FakeBackend
from api.settings import Settings
from tests.wavcheck import read_wav

pytestmark = pytest.mark.anyio

SPEECH = "/v1/audio/speech"


def assert_openai_error(response: httpx.Response, status: int, param: str | None) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param
    assert error["message"]
    message: str = error["message"]
    return message


async def assert_still_serving(client: httpx.AsyncClient) -> None:
    response = await client.post(SPEECH, json={"input": "Still here.", "response_format": "wav"})
    assert response.status_code == 200
    assert read_wav(response.content).frames > 0


async def test_wav_is_a_complete_24khz_mono_file(client: httpx.AsyncClient) -> None:
    response = await client.post(
        SPEECH, json={"input": "Hello world", "voice": "jf_alpha", "response_format": "wav"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    wav = read_wav(response.content)
    assert (wav.channels, wav.sample_rate, wav.sample_width) == (1, 24_000, 2)
    assert len(response.content) == 44 + wav.frames * 2  # the header carries the true size
    assert 0.2 < wav.seconds < 5


async def test_every_accepted_model_name_is_served(client: httpx.AsyncClient) -> None:
    for model in ("kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"):
        body = {"model": model, "input": "Hi there.", "response_format": "wav"}
        assert (await client.post(SPEECH, json=body)).status_code == 200


async def test_pcm_is_raw_samples_matching_the_wav(client: httpx.AsyncClient) -> None:
    body = {"input": "One sentence. And another one!", "voice": "jm_kumo", "stream": False}
    wav = await client.post(SPEECH, json={**body, "response_format": "wav"})
    pcm = await client.post(SPEECH, json={**body, "response_format": "pcm"})
    assert pcm.headers["content-type"] == "audio/pcm"
    np.testing.assert_array_equal(
        np.frombuffer(pcm.content, dtype="<i2"), read_wav(wav.content).samples
    )


async def test_speed_shortens_the_audio(client: httpx.AsyncClient) -> None:
    body = {"input": "A sentence to speak at two speeds.", "response_format": "wav"}
    slow = read_wav((await client.post(SPEECH, json={**body, "speed": 0.5})).content)
    fast = read_wav((await client.post(SPEECH, json={**body, "speed": 2.0})).content)
    assert slow.seconds == pytest.approx(4 * fast.seconds, rel=0.05)


async def test_voice_object_form_and_default_voice(client: httpx.AsyncClient) -> None:
    by_object = await client.post(
        SPEECH, json={"input": "Hi.", "voice": {"id": "jm_kumo"}, "response_format": "wav"}
    )
    by_name = await client.post(
        SPEECH, json={"input": "Hi.", "voice": "jm_kumo", "response_format": "wav"}
    )
    default = await client.post(SPEECH, json={"input": "Hi.", "response_format": "wav"})
    assert by_object.content == by_name.content
    assert default.content != by_name.content  # the default (jf_alpha) has another pitch


async def test_long_input_is_split_into_model_sized_chunks(
    client: httpx.AsyncClient, fake_backend: FakeBackend
) -> None:
    text = "This sentence is spoken many times over, " * 60 + "and then it ends."
    response = await client.post(SPEECH, json={"input": text, "response_format": "wav"})
    assert response.status_code == 200
    assert fake_backend.calls >= 3  # warm-up plus at least two chunks of <= 510 ids


async def test_unknown_voice_is_404_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.post(SPEECH, json={"input": "Hi.", "voice": "jf_alfa"})
    message = assert_openai_error(response, 404, "voice")
    assert "jf_alfa" in message
    assert "jf_alpha" in message  # the close match is suggested
    await assert_still_serving(client)


@pytest.mark.parametrize("text", ["", "   \n\t "])
async def test_empty_input_is_400(client: httpx.AsyncClient, text: str) -> None:
    assert_openai_error(await client.post(SPEECH, json={"input": text}), 400, "input")
    await assert_still_serving(client)


async def test_input_over_the_limit_is_413_with_the_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    text = "a" * (settings.max_input_chars + 1)
    response = await client.post(SPEECH, json={"input": text, "response_format": "wav"})
    message = assert_openai_error(response, 413, "input")
    assert f"{settings.max_input_chars}" in message
    await assert_still_serving(client)


@pytest.mark.parametrize("speed", [0.0, 0.2, 4.01, -1, "fast"])
async def test_speed_out_of_range_is_400(client: httpx.AsyncClient, speed: object) -> None:
    response = await client.post(SPEECH, json={"input": "Hi.", "speed": speed})
    assert_openai_error(response, 400, "speed")
    await assert_still_serving(client)


async def test_validation_errors_are_openai_shaped(client: httpx.AsyncClient) -> None:
    assert_openai_error(await client.post(SPEECH, json={"voice": "jf_alpha"}), 400, "input")
    bad_format = await client.post(SPEECH, json={"input": "Hi.", "response_format": "ogg"})
    assert_openai_error(bad_format, 400, "response_format")
    not_json = await client.post(
        SPEECH, content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_openai_error(not_json, 400, None)
    await assert_still_serving(client)


async def test_unknown_model_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(SPEECH, json={"input": "Hi.", "model": "whisper-1"})
    assert "whisper-1" in assert_openai_error(response, 404, "model")


async def test_unknown_route_is_openai_shaped(client: httpx.AsyncClient) -> None:
    assert "/v2/nothing" in assert_openai_error(await client.get("/v2/nothing"), 404, None)
    assert_openai_error(await client.get(SPEECH), 405, None)


async def test_unspeakable_input_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(SPEECH, json={"input": "?! ... --- ()", "response_format": "wav"})
    assert_openai_error(response, 400, "input")

"""End to end: the official openai client against ``kokoro-server serve`` on a real socket."""

from __future__ import annotations

import httpx
import numpy as np
import openai
import pytest
from faster_whisper import WhisperModel

from tests.integration.speechcheck import heard_error_rate
from tests.realserver import RunningServer
from tests.wavcheck import decoded_seconds, read_wav

pytestmark = pytest.mark.model


@pytest.fixture
def client(server: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="not-needed")


def test_readme_request_gives_a_24khz_mono_wav(server: RunningServer) -> None:
    response = httpx.post(
        f"{server.base_url}/v1/audio/speech",
        json={"input": "Hello world", "voice": "af_heart", "response_format": "wav"},
        timeout=60,
    )
    assert response.status_code == 200
    wav = read_wav(response.content)
    assert (wav.channels, wav.sample_rate, wav.sample_width) == (1, 24_000, 2)
    # "Hello world" is about a second of speech.
    assert 0.5 < wav.seconds < 3.0
    assert np.abs(wav.samples).max() > 1000  # not silence


@pytest.mark.parametrize("voice", ["alloy", openai.NOT_GIVEN], ids=["alloy", "default-voice"])
def test_an_openai_client_hears_english_from_alloy_and_the_default_voice(
    client: openai.OpenAI, whisper: WhisperModel, voice: str
) -> None:
    """What an OpenAI app gets without choosing a Kokoro voice: English voices.
    (The figures on other sentences, for every OpenAI name: bench/english_wer.py.)"""

    def speak(sentence: str) -> bytes:
        speech = client.audio.speech.create(
            model="tts-1", voice=voice, input=sentence, response_format="wav"
        )
        return speech.content

    error_rate, pairs = heard_error_rate(whisper, speak)
    assert error_rate <= 0.05, pairs


def test_openai_client_speech_create(client: openai.OpenAI) -> None:
    speech = client.audio.speech.create(
        model="tts-1",
        voice="bm_george",  # type: ignore[arg-type]  # our voice names are wider than OpenAI's
        input="The official client works unchanged.",
        response_format="wav",
    )
    wav = read_wav(speech.content)
    assert wav.sample_rate == 24_000
    assert wav.seconds > 1.0


def test_openai_client_streaming_pcm(client: openai.OpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="kokoro",
        voice="alloy",
        input="First sentence. Second sentence, streamed as it is made.",
        response_format="pcm",
    ) as response:
        assert response.headers["content-type"] == "audio/pcm"
        pcm = b"".join(response.iter_bytes())
    assert len(pcm) % 2 == 0
    assert len(pcm) / 2 / 24_000 > 2.0


def test_openai_client_sees_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.audio.speech.create(
            model="tts-1",
            voice="nobody",  # type: ignore[arg-type]
            input="Hi",
            response_format="wav",
        )
    assert "nobody" in str(caught.value)
    with pytest.raises(openai.BadRequestError):
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi", speed=5.0)


@pytest.mark.parametrize("audio_format", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_openai_client_streams_every_format(client: openai.OpenAI, audio_format: str) -> None:
    text = "Streaming works in every format. Even this one."
    with client.audio.speech.with_streaming_response.create(
        model="tts-1",
        voice="jf_alpha",  # type: ignore[arg-type]
        input=text,
        response_format=audio_format,  # type: ignore[arg-type]
        extra_body={"stream": True},  # wav is sent complete unless asked to stream
    ) as response:
        pieces = list(response.iter_bytes())
    data = b"".join(pieces)
    pcm = client.audio.speech.create(
        model="tts-1",
        voice="jf_alpha",  # type: ignore[arg-type]
        input=text,
        response_format="pcm",
    ).content
    expected = len(pcm) / 2 / 24_000
    seconds = expected if audio_format == "pcm" else decoded_seconds(data)
    if audio_format == "pcm":
        assert data == pcm  # the model is deterministic for the same request
    assert seconds == pytest.approx(expected, rel=0.03)

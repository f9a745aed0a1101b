"""Streaming: every format, streamed and not, SSE, fairness and disconnects (fake backend)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.backends.fake import FakeBackend
from api.settings import Settings
from tests.serverthread import ServerThread
from tests.wavcheck import EXPECTED_CONTENT_TYPES, decoded_seconds, read_wav

SPEECH = "/v1/audio/speech"
PARAGRAPH = (
    "The first sentence is short. The second one is a little longer than the first. "
    "A third sentence follows, with a comma in it. And the fourth sentence ends it!"
)
CODEC_FORMATS = ["mp3", "opus", "aac", "flac", "wav"]


async def pcm_seconds(client: httpx.AsyncClient, text: str) -> float:
    response = await client.post(SPEECH, json={"input": text, "response_format": "pcm"})
    return len(response.content) / 2 / 24_000


@pytest.mark.anyio
@pytest.mark.parametrize("audio_format", CODEC_FORMATS)
@pytest.mark.parametrize("stream", [True, False])
async def test_every_format_decodes_to_the_pcm_duration(
    client: httpx.AsyncClient, audio_format: str, stream: bool
) -> None:
    expected = await pcm_seconds(client, PARAGRAPH)
    body = {"input": PARAGRAPH, "response_format": audio_format, "stream": stream}
    response = await client.post(SPEECH, json=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == EXPECTED_CONTENT_TYPES[audio_format]
    assert decoded_seconds(response.content) == pytest.approx(expected, rel=0.03)


@pytest.mark.anyio
async def test_pcm_is_streamed_by_default_and_wav_is_complete(client: httpx.AsyncClient) -> None:
    pcm = await client.post(SPEECH, json={"input": "Hello.", "response_format": "pcm"})
    assert pcm.headers["content-type"] == "audio/pcm"
    assert "content-length" not in pcm.headers  # chunked
    wav = await client.post(SPEECH, json={"input": "Hello.", "response_format": "wav"})
    info = read_wav(wav.content)
    assert len(wav.content) == 44 + info.frames * 2
    assert wav.headers["content-length"] == str(len(wav.content))


@pytest.mark.anyio
async def test_streamed_and_complete_responses_carry_the_same_samples(
    client: httpx.AsyncClient,
) -> None:
    """One chunk plan: the fake model restarts its tone at each call, so a
    different cut of the text between calls would change the samples."""
    body = {"input": PARAGRAPH, "response_format": "pcm"}
    streamed = await client.post(SPEECH, json={**body, "stream": True})
    complete = await client.post(SPEECH, json={**body, "stream": False})
    assert "content-length" not in streamed.headers
    assert complete.headers["content-length"] == str(len(complete.content))
    assert streamed.content == complete.content
    wav = await client.post(SPEECH, json={**body, "response_format": "wav", "stream": False})
    assert read_wav(wav.content).samples.tobytes() == streamed.content


@pytest.mark.anyio
async def test_streamed_wav_has_an_unknown_length_header(client: httpx.AsyncClient) -> None:
    body = {"input": PARAGRAPH, "response_format": "wav", "stream": True}
    wav = await client.post(SPEECH, json=body)
    assert wav.content[4:8] == b"\xff\xff\xff\xff"
    assert decoded_seconds(wav.content) == pytest.approx(
        await pcm_seconds(client, PARAGRAPH), rel=0.01
    )


@pytest.mark.anyio
@pytest.mark.parametrize("audio_format", ["mp3", "pcm"])
async def test_sse_sends_base64_deltas_then_done_with_usage(
    client: httpx.AsyncClient, audio_format: str
) -> None:
    body = {"input": PARAGRAPH, "response_format": audio_format, "stream_format": "sse"}
    response = await client.post(SPEECH, json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [
        json.loads(line.removeprefix("data: "))
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]
    deltas, done = events[:-1], events[-1]
    assert len(deltas) >= 2
    assert {e["type"] for e in deltas} == {"speech.audio.delta"}
    assert done["type"] == "speech.audio.done"
    usage = done["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    audio = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    expected = await pcm_seconds(client, PARAGRAPH)
    seconds = len(audio) / 48_000 if audio_format == "pcm" else decoded_seconds(audio)
    assert seconds == pytest.approx(expected, rel=0.03)


@pytest.mark.anyio
async def test_nothing_to_speak_unstreamed_is_400(client: httpx.AsyncClient) -> None:
    body = {"input": "...", "response_format": "mp3", "stream": False}
    response = await client.post(SPEECH, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input"


@pytest.fixture
def slow_server(
    model_files_dir: Path, tmp_path: Path
) -> Iterator[tuple[ServerThread, FakeBackend]]:
    backend = FakeBackend(delay=0.05)
    settings = Settings(model_dir=model_files_dir, voices_dir=tmp_path / "voices")
    with ServerThread(settings, backend) as server:
        yield server, backend


@pytest.fixture
def model_files_dir(settings: Settings) -> Path:
    return settings.model_dir


def test_client_disconnect_stops_generation(
    slow_server: tuple[ServerThread, FakeBackend],
) -> None:
    server, backend = slow_server
    text = "This is one sentence of a very long text that nobody will hear to the end. " * 200
    with httpx.Client(base_url=server.url, timeout=30) as http:
        with http.stream("POST", SPEECH, json={"input": text, "response_format": "mp3"}) as resp:
            assert resp.status_code == 200
            next(resp.iter_bytes())
            calls_at_disconnect = backend.calls
        # Let the server notice the disconnect and a chunk in flight finish.
        time.sleep(0.5)
        settled = backend.calls
        time.sleep(0.5)
        assert backend.calls == settled, "generation went on after the client left"
        assert settled <= calls_at_disconnect + 3
        # The server still serves.
        ok = http.post(SPEECH, json={"input": "Still here.", "response_format": "wav"})
        assert ok.status_code == 200


def test_short_request_is_not_stuck_behind_a_long_one(
    slow_server: tuple[ServerThread, FakeBackend],
) -> None:
    server, _ = slow_server
    long_text = "A long text that takes many chunks to speak, one after another. " * 60

    async def run() -> tuple[float, float]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            started = time.monotonic()

            async def timed(text: str, delay: float) -> float:
                await asyncio.sleep(delay)
                body = {"input": text, "response_format": "pcm"}
                await http.post(SPEECH, json=body)
                return time.monotonic() - started

            long_done, short_done = await asyncio.gather(
                timed(long_text, 0.0), timed("Just a short one.", 0.2)
            )
            return long_done, short_done

    long_done, short_done = asyncio.run(run())
    assert short_done < long_done / 2, (short_done, long_done)

"""Repeats cost nothing: KOKORO_AUDIO_CACHE_MB keeps finished responses (fake backend)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.audio.cache import AudioCache, CachedResponse
from api.backends.fake import FakeBackend
from api.routes.speech import kept_in_cache
from api.settings import Settings

pytestmark = pytest.mark.anyio

SPEECH = "/v1/audio/speech"
DIALOGUE = "/v1/audio/dialogue"
DOOR = {"input": "The front door is open.", "voice": "af_heart"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings with the cache on (conftest's ``app`` and ``client``
    use these in this module)."""
    return settings.model_copy(update={"audio_cache_mb": 8})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param(SPEECH, {**DOOR, "response_format": "mp3"}, id="mp3-stream"),
        pytest.param(SPEECH, {**DOOR, "response_format": "opus"}, id="opus-stream"),
        pytest.param(SPEECH, {**DOOR, "response_format": "wav"}, id="wav-file"),
        pytest.param(SPEECH, {**DOOR, "response_format": "flac", "stream": False}, id="flac"),
        pytest.param(SPEECH, {**DOOR, "stream_format": "sse"}, id="sse"),
        pytest.param(
            DIALOGUE,
            {
                "speakers": {"a": "af_heart", "b": "am_adam"},
                "turns": [{"speaker": "a", "text": "Hi."}, {"speaker": "b", "text": "Hello."}],
            },
            id="dialogue",
        ),
    ],
)
async def test_a_repeat_is_the_same_bytes_without_any_compute(
    client: httpx.AsyncClient, fake_backend: FakeBackend, path: str, body: dict[str, Any]
) -> None:
    first = await client.post(path, json=body)
    calls = fake_backend.calls
    again = await client.post(path, json=body)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content  # an Ogg stream's random serial number too
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["x-cache"] == "hit"
    assert "x-cache" not in first.headers
    assert fake_backend.calls == calls
    metrics = (await client.get("/metrics")).text
    assert "kokoro_audio_cache_hits_total 1.0" in metrics
    assert "kokoro_audio_cache_misses_total 1.0" in metrics


@pytest.mark.parametrize(
    "change",
    [
        {"speed": 1.5},
        {"voice": "am_adam"},
        {"response_format": "pcm"},
        {"stream": False},
        {"input": "The front door is open!"},
        {"normalization_options": {"normalize": False}},
        {"lang_code": "b"},
    ],
)
async def test_anything_that_changes_the_bytes_is_a_new_request(
    client: httpx.AsyncClient, fake_backend: FakeBackend, change: dict[str, Any]
) -> None:
    await client.post(SPEECH, json=DOOR)
    calls = fake_backend.calls
    other = await client.post(SPEECH, json={**DOOR, **change})
    assert other.status_code == 200
    assert "x-cache" not in other.headers
    assert fake_backend.calls > calls


async def test_a_mix_replaced_under_its_name_is_not_served_from_the_cache(
    client: httpx.AsyncClient, fake_backend: FakeBackend
) -> None:
    mix = {"voices": "af_heart+am_adam", "name": "doorbell"}
    assert (await client.post("/v1/audio/voices/combine", json=mix)).status_code == 200
    body = {**DOOR, "voice": "doorbell", "response_format": "pcm"}
    first = await client.post(SPEECH, json=body)
    replaced = {"voices": "am_adam", "name": "doorbell", "overwrite": True}
    assert (await client.post("/v1/audio/voices/combine", json=replaced)).status_code == 200
    calls = fake_backend.calls
    after = await client.post(SPEECH, json=body)
    assert fake_backend.calls > calls
    assert after.content != first.content  # another voice, another pitch


async def test_a_repeat_is_served_even_when_every_slot_is_taken(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await client.post(SPEECH, json=DOOR)
    admission = app.state.speech.admission
    slots = [admission.admit() for _ in range(admission.limit)]
    try:
        assert (await client.post(SPEECH, json=DOOR)).status_code == 200
        busy = await client.post(SPEECH, json={**DOOR, "input": "Someone is at the door."})
        assert busy.status_code == 429
    finally:
        for slot in slots:
            slot.release()


async def pieces(count: int) -> AsyncIterator[bytes | str]:
    for index in range(count):
        yield bytes([index]) * 100


async def test_only_a_response_that_ran_to_its_end_is_kept() -> None:
    cache = AudioCache(8000)  # at most 1000 bytes a response
    complete = kept_in_cache(pieces(5), cache, "complete", "audio/pcm")
    assert b"".join([p async for p in complete if isinstance(p, bytes)]) == cache_content(
        cache, "complete"
    )
    left = kept_in_cache(pieces(5), cache, "left", "audio/pcm")
    await left.__anext__()
    await left.aclose()  # the client went away after the first piece
    too_large = kept_in_cache(pieces(20), cache, "large", "audio/pcm")
    assert len([p async for p in too_large]) == 20
    assert cache.get("left") is None
    assert cache.get("large") is None


def cache_content(cache: AudioCache, key: str) -> bytes:
    entry = cache.get(key)
    assert entry is not None
    return entry.content


def test_the_least_recently_used_go_first() -> None:
    cache = AudioCache(8 * 300)  # 300 bytes per response at most, 2400 in all
    for name in "abcdefgh":
        cache.put(name, CachedResponse(b"x" * 300, "audio/pcm"))
    assert cache.get("a") is not None  # now the most recently used
    cache.put("i", CachedResponse(b"y" * 300, "audio/pcm"))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.size_bytes <= cache.max_bytes


def test_clear_forgets_everything_and_moves_to_a_new_generation() -> None:
    cache = AudioCache(8000)
    cache.put("k", CachedResponse(b"x" * 100, "audio/wav"))
    generation = cache.generation
    cache.clear()
    assert cache.get("k") is None
    assert cache.size_bytes == 0
    assert cache.generation == generation + 1

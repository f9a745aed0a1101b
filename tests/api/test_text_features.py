"""Pause tags, lang_code and the /dev phoneme endpoints (fake backend)."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from api.audio.silence import SILENCE_THRESHOLD
from api.backends.fake import FakeBackend
from api.settings import Settings
from api.text.split import split_sentences
from bench.texts import long_text
from tests.serverthread import ServerThread
from tests.wavcheck import read_wav

SPEECH = "/v1/audio/speech"


async def pcm(client: httpx.AsyncClient, text: str, **extra: object) -> np.ndarray:
    body = {"input": text, "response_format": "pcm", "stream": False, **extra}
    response = await client.post(SPEECH, json=body)
    assert response.status_code == 200, response.text
    return np.frombuffer(response.content, dtype="<i2")


@pytest.mark.anyio
async def test_a_pause_tag_inserts_exact_silence(client: httpx.AsyncClient) -> None:
    """From the last sound before the tag to the first after it is the pause asked
    for: it replaces the sentence's own pause and takes in the edges' margins."""

    def longest_silence(samples: np.ndarray) -> int:
        loud = np.flatnonzero(np.abs(samples) > SILENCE_THRESHOLD * 32767)
        inner = int(np.diff(loud).max()) - 1 if loud.size > 1 else 0
        return max(inner, len(samples) - 1 - int(loud[-1]))

    between = await pcm(client, "One. [pause:1.5s] Two.")
    # The fake's tone starts at its first sample, so the speech after the pause has
    # no margin of silence before it (the model's always has: its 0.28 s padding);
    # the pause leaves that margin out, so here it is one margin short.
    assert abs(longest_silence(between) - (36_000 - 1200)) <= 24
    after = await pcm(client, "One.[pause:1.5s]")
    assert abs(longest_silence(after) - 36_000) <= 24
    plain = await pcm(client, "One. Two.")
    assert longest_silence(plain) < 12_000


@pytest.mark.anyio
async def test_pause_tags_are_not_scaled_by_speed(client: httpx.AsyncClient) -> None:
    slow = await pcm(client, "[pause:1s]", speed=0.5)
    assert len(slow) == 24_000


@pytest.mark.parametrize("text", ["Hi [pause:2x] there", "Hi [pause:90s]"])
@pytest.mark.anyio
async def test_bad_pause_tags_are_400(client: httpx.AsyncClient, text: str) -> None:
    response = await client.post(SPEECH, json={"input": text})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_pause_tag"


@pytest.mark.anyio
async def test_lang_code_overrides_the_voice_language(client: httpx.AsyncClient) -> None:
    text = "Quiero comer paella con mis amigos mañana por la tarde."
    english = await client.post("/dev/phonemize", json={"text": text, "language": "a"})
    spanish = await client.post("/dev/phonemize", json={"text": text, "language": "e"})
    counts = {len(r.json()["tokens"]) for r in (english, spanish)}
    assert len(counts) == 2  # the fake backend's length follows the token count
    as_voice = await pcm(client, text, voice="jf_alpha")
    as_spanish = await pcm(client, text, voice="jf_alpha", lang_code="e")
    assert len(as_voice) != len(as_spanish)


@pytest.mark.anyio
async def test_an_unknown_lang_code_is_400_listing_the_known(client: httpx.AsyncClient) -> None:
    response = await client.post(SPEECH, json={"input": "Hi.", "lang_code": "tlh"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "lang_code"
    assert "e (es)" in error["message"]


@pytest.mark.anyio
async def test_phonemize_gives_phonemes_and_their_token_ids(client: httpx.AsyncClient) -> None:
    response = await client.post("/dev/phonemize", json={"text": "Hello world.", "language": "a"})
    body = response.json()
    assert body["phonemes"] == "həlˈO wˈɜɹld."
    assert len(body["tokens"]) == len(body["phonemes"])
    spanish = await client.post("/dev/phonemize", json={"text": "Perro.", "language": "es"})
    assert "r" in spanish.json()["phonemes"]


@pytest.mark.anyio
async def test_generate_from_phonemes(client: httpx.AsyncClient) -> None:
    body = {"phonemes": "həlˈO wˈɜɹld.", "voice": "jm_kumo", "response_format": "wav"}
    response = await client.post("/dev/generate_from_phonemes", json=body)
    assert response.status_code == 200
    assert read_wav(response.content).seconds > 0.5
    nothing = await client.post("/dev/generate_from_phonemes", json={**body, "phonemes": "123"})
    assert nothing.status_code == 400
    unknown = await client.post("/dev/generate_from_phonemes", json={**body, "voice": "nope"})
    assert unknown.status_code == 404


def test_long_text_is_phonemized_lazily_and_streams_to_the_end(settings: Settings) -> None:
    """A 20,000-character text over a real socket: the first audio leaves after
    phonemizing only its first sentences, and the stream then runs to the end."""
    text = long_text(20_000)
    with ServerThread(settings, FakeBackend()) as server:
        service = server.app.state.speech
        real_g2p = service.g2p
        calls = 0

        def counting(sentence: str, language: str = "en-us") -> str:
            nonlocal calls
            calls += 1
            return str(real_g2p(sentence, language))

        counting.ensure_available = real_g2p.ensure_available  # type: ignore[attr-defined]
        service.g2p = counting
        body = {"input": text, "response_format": "pcm"}
        with (
            httpx.Client(base_url=server.url, timeout=120) as http,
            http.stream("POST", SPEECH, json=body) as response,
        ):
            pieces = response.iter_bytes()
            first = next(pieces)
            calls_at_first_audio = calls
            size = len(first) + sum(len(piece) for piece in pieces)
    assert calls_at_first_audio <= 3
    assert calls == len(list(split_sentences(text)))
    assert size / 2 / 24_000 > 600  # the fake backend speaks 50 ms per token

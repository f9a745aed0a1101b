"""Voice tags and the dialogue endpoint (fake backend: a tone whose pitch is the voice)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import numpy as np
import pytest

from tests.wavcheck import EXPECTED_CONTENT_TYPES, decoded_seconds

SPEECH = "/v1/audio/speech"
DIALOGUE = "/v1/audio/dialogue"
FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]

SCRIPT: dict[str, Any] = {
    "speakers": {
        "host": "jf_alpha",
        "guest": {"voice": "jm_kumo", "speed": 1.25},
        "third": "jf_nezumi(2)+jm_kumo(1)",
        "fourth": "jf_tebukuro",
    },
    "turns": [
        {"speaker": "host", "text": "Welcome back to the show."},
        {"speaker": "guest", "text": "Thank you. [pause:0.5s] Glad to be here."},
        {"speaker": "third", "text": "Let me add one thing."},
        {"speaker": "fourth", "text": "And I [voice:jf_alpha] will close."},
    ],
}


async def pcm(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> np.ndarray:
    response = await client.post(path, json={**body, "response_format": "pcm", "stream": False})
    assert response.status_code == 200, response.text
    return np.frombuffer(response.content, dtype="<i2")


def pitch(samples: np.ndarray) -> float:
    """The dominant frequency of a stretch of the fake backend's tone."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum[1:]) + 1) * 24_000 / len(samples)


def spoken_spans(audio: np.ndarray) -> list[np.ndarray]:
    """The non-silent stretches of ``audio`` (silence: exact zeros, as pauses are)."""
    loud = np.abs(audio) > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(np.int8), [0]])))
    return [audio[s:e] for s, e in zip(edges[::2], edges[1::2], strict=True) if e - s > 2400]


@pytest.mark.anyio
async def test_a_voice_tag_switches_the_voice_until_the_next_tag(client: httpx.AsyncClient) -> None:
    tagged = await pcm(client, SPEECH, {"input": "[voice:jm_kumo] One. [voice:jf_alpha] Two."})
    kumo = await pcm(client, SPEECH, {"input": "One.", "voice": "jm_kumo"})
    alpha = await pcm(client, SPEECH, {"input": "Two.", "voice": "jf_alpha"})
    assert pitch(kumo) != pitch(alpha)
    first, second = spoken_spans(tagged)
    assert pitch(first) == pytest.approx(pitch(kumo), abs=5)
    assert pitch(second) == pytest.approx(pitch(alpha), abs=5)


@pytest.mark.anyio
async def test_text_before_the_first_tag_uses_the_request_voice(client: httpx.AsyncClient) -> None:
    tagged = await pcm(client, SPEECH, {"input": "One. [voice:jf_alpha] Two.", "voice": "jm_kumo"})
    plain = await pcm(client, SPEECH, {"input": "One.", "voice": "jm_kumo"})
    assert pitch(spoken_spans(tagged)[0]) == pytest.approx(pitch(plain), abs=5)


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.anyio
async def test_an_unknown_voice_in_a_tag_is_a_404_before_any_audio(
    client: httpx.AsyncClient, stream: bool
) -> None:
    body = {"input": "Hello. [voice:zz_nobody] Bye.", "stream": stream}
    response = await client.post(SPEECH, json=body)
    assert response.status_code == 404
    error = response.json()["error"]
    assert "zz_nobody" in error["message"]
    assert error["code"] == "voice_not_found"


@pytest.mark.parametrize("text", ["Hi [voice:] there", "Hi [voice:af_heart there", "[voice:a[b]]"])
@pytest.mark.anyio
async def test_malformed_voice_tags_are_400(client: httpx.AsyncClient, text: str) -> None:
    response = await client.post(SPEECH, json={"input": text})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_voice_tag"


@pytest.mark.anyio
async def test_each_turn_is_spoken_by_its_speaker(client: httpx.AsyncClient) -> None:
    """Turn by turn, the dialogue's audio is what that turn spoken alone gives."""
    dialogue = await pcm(client, DIALOGUE, {**SCRIPT, "gap": 0.3})
    alone = []
    for turn in SCRIPT["turns"]:
        speaker = SCRIPT["speakers"][turn["speaker"]]
        voice, speed = (speaker, 1.0) if isinstance(speaker, str) else (speaker["voice"], 1.25)
        alone.append(
            await pcm(client, SPEECH, {"input": turn["text"], "voice": voice, "speed": speed})
        )
    # With every turn ending in "." a 0.3 s gap is the pause a turn spoken alone ends
    # with (at speed 1), so the dialogue is the turns laid end to end, except that
    # the guest (speed 1.25) ends with 0.24 s: 0.06 s less than the gap.
    guest_shortfall = round(0.3 * 24_000) - round(0.3 / 1.25 * 24_000)
    assert len(dialogue) == sum(len(a) for a in alone) + guest_shortfall
    spans = [span for a in alone for span in spoken_spans(a)]
    dialogue_spans = spoken_spans(dialogue)
    assert len(dialogue_spans) == len(spans)
    for ours, reference in zip(dialogue_spans, spans, strict=True):
        assert np.array_equal(ours, reference)


@pytest.mark.anyio
async def test_the_gap_is_exact(client: httpx.AsyncClient) -> None:
    short = await pcm(client, DIALOGUE, {**SCRIPT, "gap": 0.5})
    long = await pcm(client, DIALOGUE, {**SCRIPT, "gap": 1.5})
    assert len(long) - len(short) == 3 * 24_000  # three gaps between four turns
    # Below the 50 ms tail every chunk keeps after its speech, a gap cannot shrink.
    none = await pcm(client, DIALOGUE, {**SCRIPT, "gap": 0})
    assert len(short) - len(none) == 3 * round(0.45 * 24_000)


@pytest.mark.anyio
async def test_a_speaker_speed_applies_to_that_speaker_only(client: httpx.AsyncClient) -> None:
    body = {"speakers": {"a": "jf_alpha"}, "turns": [{"speaker": "a", "text": "Hello there."}]}
    normal = await pcm(client, DIALOGUE, body)
    fast = await pcm(
        client, DIALOGUE, {**body, "speakers": {"a": {"voice": "jf_alpha", "speed": 2}}}
    )
    default_fast = await pcm(client, DIALOGUE, {**body, "speed": 2})
    assert len(fast) < 0.6 * len(normal)
    assert len(fast) == len(default_fast)


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("audio_format", FORMATS)
@pytest.mark.anyio
async def test_dialogue_and_tags_in_every_format(
    client: httpx.AsyncClient, audio_format: str, stream: bool
) -> None:
    reference = await pcm(client, DIALOGUE, SCRIPT)
    expected = len(reference) / 24_000
    response = await client.post(
        DIALOGUE, json={**SCRIPT, "response_format": audio_format, "stream": stream}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == EXPECTED_CONTENT_TYPES[audio_format]
    if audio_format == "pcm":
        assert len(response.content) / 2 / 24_000 == pytest.approx(expected, abs=0.001)
    else:
        assert decoded_seconds(response.content) == pytest.approx(expected, rel=0.03)


@pytest.mark.anyio
async def test_dialogue_as_server_sent_events(client: httpx.AsyncClient) -> None:
    response = await client.post(
        DIALOGUE, json={**SCRIPT, "response_format": "pcm", "stream_format": "sse"}
    )
    assert response.status_code == 200
    events = [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")
    ]
    audio = b"".join(
        base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta"
    )
    assert events[-1]["type"] == "speech.audio.done"
    assert len(audio) == len(await pcm(client, DIALOGUE, SCRIPT)) * 2


@pytest.mark.parametrize(
    ("change", "status", "param", "code"),
    [
        (
            {"turns": [{"speaker": "nobody", "text": "Hi."}]},
            400,
            "turns[0].speaker",
            "unknown_speaker",
        ),
        (
            {"speakers": {"host": "zz_none"}, "turns": [{"speaker": "host", "text": "Hi."}]},
            404,
            "speakers.host",
            "voice_not_found",
        ),
        ({"turns": [{"speaker": "host", "text": "  "}]}, 400, "turns[0].text", "empty_input"),
        (
            {"turns": [{"speaker": "host", "text": "Hi [pause:x]"}]},
            400,
            "turns[0].text",
            "invalid_pause_tag",
        ),
        (
            {"turns": [{"speaker": "host", "text": "Hi [voice:zz_x]"}]},
            404,
            "turns[0].text",
            "voice_not_found",
        ),
        ({"turns": [{"speaker": "host", "text": "x" * 100_001}]}, 413, "turns", "input_too_long"),
        ({"model": "nope"}, 404, "model", "model_not_found"),
    ],
)
@pytest.mark.anyio
async def test_a_bad_script_is_refused_naming_the_culprit(
    client: httpx.AsyncClient, change: dict[str, Any], status: int, param: str, code: str
) -> None:
    response = await client.post(DIALOGUE, json={**SCRIPT, **change})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param
    assert error["code"] == code


@pytest.mark.parametrize(
    "change",
    [
        {"turns": []},
        {"speakers": {}},
        {"gap": -1},
        {"gap": 11},
        {"speakers": {"a": {"voice": "x", "speed": 9}}},
    ],
)
@pytest.mark.anyio
async def test_invalid_fields_are_400_in_openai_shape(
    client: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    response = await client.post(DIALOGUE, json={**SCRIPT, **change})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"

"""SSML, markdown and pauses with the real model, listened to by Whisper (issue 18)."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from faster_whisper import WhisperModel

from tests.integration.speechcheck import normalized
from tests.realserver import RunningServer
from tests.wavcheck import read_wav

pytestmark = pytest.mark.model


def speak(server: RunningServer, text: str, **extra: object) -> bytes:
    body = {"input": text, "voice": "af_heart", "response_format": "wav", **extra}
    response = httpx.post(f"{server.base_url}/v1/audio/speech", json=body, timeout=120)
    assert response.status_code == 200, response.text
    return response.content


def seconds(wav: bytes) -> float:
    return read_wav(wav).seconds


def longest_silence_s(wav: bytes) -> float:
    samples = read_wav(wav).samples
    loud = np.flatnonzero(np.abs(samples) > 0.01 * 32767)
    return float(np.diff(loud).max()) / 24_000


def transcript(whisper: WhisperModel, wav: bytes) -> str:
    segments, _ = whisper.transcribe(io.BytesIO(wav), language="en", beam_size=1)
    return normalized(" ".join(s.text for s in segments))


@pytest.mark.parametrize(
    "with_pause",
    [
        '<speak>Hello there. <break time="2s"/> How are you?</speak>',
        "Hello there. [pause:2s] How are you?",
    ],
    ids=["ssml-break", "pause-tag"],
)
def test_a_two_second_pause_adds_two_seconds(server: RunningServer, with_pause: str) -> None:
    plain = speak(server, "Hello there. How are you?")
    paused = speak(server, with_pause)
    assert seconds(paused) - seconds(plain) == pytest.approx(2.0, abs=0.1)
    assert longest_silence_s(paused) == pytest.approx(2.0, abs=0.02)


def test_say_as_characters_spells(server: RunningServer, whisper: WhisperModel) -> None:
    wav = speak(server, '<speak>Spell <say-as interpret-as="characters">KDE</say-as>.</speak>')
    heard = transcript(whisper, wav).replace(" ", "").replace(".", "")
    assert "kde" in heard, heard


def test_sub_is_read_as_its_alias(server: RunningServer, whisper: WhisperModel) -> None:
    wav = speak(
        server, '<speak>I work at the <sub alias="World Health Organization">WHO</sub>.</speak>'
    )
    assert "world health organization" in transcript(whisper, wav)


def test_a_slow_span_lengthens_that_span_only(server: RunningServer) -> None:
    span = "Four five six seven."
    plain = speak(server, f"<speak>One two three. {span} Eight nine ten.</speak>")
    slow = speak(
        server,
        f'<speak>One two three. <prosody rate="x-slow">{span}</prosody> Eight nine ten.</speak>',
    )
    span_s = seconds(speak(server, span))
    # x-slow is half the speed: the span lasts about twice as long, the rest as before.
    added = seconds(slow) - seconds(plain)
    assert 0.6 * span_s < added < 1.4 * span_s, (added, span_s)


def test_a_voice_span_switches_the_voice(server: RunningServer, whisper: WhisperModel) -> None:
    text = "This part is mine. {} And this is mine again."
    middle = "Now another voice speaks."
    switched = speak(
        server, "<speak>" + text.format(f'<voice name="am_adam">{middle}</voice>') + "</speak>"
    )
    same = speak(server, text.format(middle))
    assert switched != same
    heard = transcript(whisper, switched)
    assert "another voice speaks" in heard, heard
    # The same words, so about the same length: only the voice changed.
    assert abs(seconds(switched) - seconds(same)) < 1.5


LLM_ANSWER = """# Planning your trip 🧳

Here is **what** to pack, from [the travel guide](https://example.com/guide?x=1):

- A *warm* jacket
- Comfortable shoes 👟

```bash
pack --all
```

Have a great time! 🎉
"""


def test_an_llm_answer_is_read_without_its_markup(
    server: RunningServer, whisper: WhisperModel
) -> None:
    heard = transcript(whisper, speak(server, LLM_ANSWER))
    for word in ("planning your trip", "warm jacket", "comfortable shoes", "great time"):
        assert word in heard, heard
    # Nothing of the markup, the URL, the code or the emoji (luggage, athletic shoe,
    # party popper) is read out.
    for markup in ("asterisk", "hash", "http", "example", "dot com", "pack all", "bash"):
        assert markup not in heard, (markup, heard)
    for emoji_name in ("luggage", "athletic", "party popper", "popper"):
        assert emoji_name not in heard, (emoji_name, heard)


def test_a_lexicon_entry_changes_that_word_only(
    server: RunningServer, whisper: WhisperModel
) -> None:
    lexicon = f"{server.base_url}/v1/audio/lexicon/en-us"
    text = "My friend Zorblat likes apples."
    before = httpx.post(f"{server.base_url}/dev/phonemize", json={"text": text}, timeout=60).json()
    response = httpx.put(lexicon, json={"entries": {"Zorblat": {"respell": "Banana"}}}, timeout=60)
    assert response.status_code == 200, response.text
    try:
        after = httpx.post(f"{server.base_url}/dev/phonemize", json={"text": text}, timeout=60)
        heard = transcript(whisper, speak(server, text))
    finally:
        httpx.delete(f"{lexicon}/Zorblat", timeout=60)
    changed = [
        (a, b)
        for a, b in zip(before["phonemes"].split(), after.json()["phonemes"].split(), strict=True)
        if a != b
    ]
    assert len(changed) == 1, changed  # that word, and no other
    assert "banana" in heard, heard
    assert "apples" in heard, heard

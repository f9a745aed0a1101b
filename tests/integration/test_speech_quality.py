"""Speech is right: Whisper tiny.en transcribes what the real model says."""

from __future__ import annotations

import io

import numpy as np
import pytest
from faster_whisper import WhisperModel

from api.audio.wav import wav_file
from api.speech import SpeechJob, SpeechService
from api.text.chunks import PLAN
from tests.integration.speechcheck import word_error_rate

pytestmark = pytest.mark.model


@pytest.mark.parametrize(
    ("voice", "limit"),
    [
        pytest.param("af_heart", 0.05, id="af_heart"),
        # A Japanese voice reads English text as English (accented: a looser bound).
        pytest.param("jf_alpha", 0.10, id="jf_alpha"),
    ],
)
def test_whisper_understands_the_speech(
    real_service: SpeechService,
    whisper: WhisperModel,
    voice: str,
    limit: float,
) -> None:
    """The chunk plan of every request (a short first chunk cut between words, then
    growing) keeps the words."""
    error_rate, pairs = word_error_rate(real_service, whisper, real_service.voices.get(voice))
    assert error_rate <= limit, pairs


def test_streamed_chunks_join_without_holes(real_service: SpeechService) -> None:
    """Chunk edges carry the pause their punctuation calls for, not the model's
    one-second padding, and no chunk starts or ends with a jump (a click)."""
    text = (
        "The lighthouse keeper climbed the narrow stairs every evening, long before the "
        "sun touched the sea. He trimmed the wick, polished the great lens, and wrote the "
        "weather in a worn leather book."
    )
    chunks = list(
        real_service.synthesize(SpeechJob(text, real_service.voices.get("af_heart")), PLAN)
    )
    assert len(chunks) >= 3
    for chunk in chunks:
        assert abs(chunk[0]) < 0.01
        assert abs(chunk[-1]) < 0.01
    joined = np.concatenate(chunks)
    quiet = np.abs(joined) < 0.01
    # Longest run of silence anywhere in the joined audio.
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    longest = max(end - start for start, end in zip(edges[::2], edges[1::2], strict=True))
    assert longest / 24_000 < 0.6


@pytest.mark.parametrize("voice", ["af_heart", "jf_alpha"])
def test_a_leading_i_is_heard(
    real_service: SpeechService, whisper: WhisperModel, voice: str
) -> None:
    """espeak leaves the pronoun unstressed and the model used to swallow it."""
    for sentence in ("I would rather go home early.", "I love it."):
        audio = real_service.synthesize_all(SpeechJob(sentence, real_service.voices.get(voice)))
        segments, _ = whisper.transcribe(io.BytesIO(wav_file(audio)), language="en", beam_size=1)
        heard = " ".join(s.text for s in segments).strip().lower()
        assert heard.startswith("i "), heard

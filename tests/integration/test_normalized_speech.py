"""Normalized text is spoken right: Whisper tiny.en hears the numbers, money and dates."""

from __future__ import annotations

import io
import re

import jiwer
import numpy as np
import pytest
from faster_whisper import WhisperModel

from api.audio.wav import wav_file
from api.speech import SpeechJob, SpeechService
from api.text.normalize import normalize_text

pytestmark = pytest.mark.model

SENTENCES = [
    "The invoice of $1,250.75 is due on March 3rd, 2025.",
    "The train leaves at 3:45 pm and arrives at 9:05 pm.",
    "Prices rose by 12.5% in 1999, to about $3.50 a cup.",
    "She ran 10 km in 48 minutes on 2024-03-15.",
    "Dr. Smith moved here in the 1990s with 2 dogs and 3 cats.",
    "Our 22nd meeting costs €20 and lasts 90 minutes.",
]


def comparable(text: str) -> str:
    """Normalized, lowercased, hyphens as spaces, no punctuation."""
    words = normalize_text(text).lower().replace("-", " ")
    return " ".join(re.sub(r"[^a-z' ]+", " ", words).split())


def test_whisper_hears_normalized_numbers(
    real_service: SpeechService, whisper: WhisperModel
) -> None:
    """Each sentence is normalized, spoken and transcribed; the word error rate
    against the normalized sentence is at most 10 %.

    Whisper writes some numbers as digits ("$1,250.75"), so its transcript goes
    through ``normalize_text`` too before both sides are lowercased, stripped of
    punctuation and have their hyphens turned into spaces.
    """
    voice = real_service.voices.get("af_heart")
    references, hypotheses = [], []
    for sentence in SENTENCES:
        # English G2P on purpose, read by the default English voice.
        job = SpeechJob(text=normalize_text(sentence), voice=voice, language="en-us")
        audio = np.concatenate(list(real_service.synthesize(job)))
        segments, _ = whisper.transcribe(io.BytesIO(wav_file(audio)), language="en", beam_size=1)
        references.append(comparable(sentence))
        hypotheses.append(comparable(" ".join(segment.text for segment in segments)))
    error_rate = jiwer.wer(references, hypotheses)
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        print(f"said:  {reference}\nheard: {hypothesis}")
    print(f"normalized speech WER: {error_rate:.3f}")
    assert error_rate <= 0.10, list(zip(references, hypotheses, strict=True))

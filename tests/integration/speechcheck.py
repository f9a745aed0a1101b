"""Listening to the model: Whisper tiny.en word error rates on test sentences."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import jiwer
import numpy as np
from faster_whisper import WhisperModel

from api.audio.wav import wav_file
from api.speech import SpeechJob, SpeechService
from api.text.chunks import PLAN, ChunkSchedule
from api.voices.store import Voice

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "She sells fresh bread at the corner market.",
    "Please call me back when you have a moment.",
    "The weather today is sunny with a light breeze.",
    "Reading books is a wonderful way to learn new things.",
    "We will meet at the station in the morning.",
]


def normalized(text: str) -> str:
    return re.sub(r"[^a-z' ]+", " ", text.lower()).strip()


def heard_error_rate(
    whisper: WhisperModel, speak: Callable[[str], bytes]
) -> tuple[float, list[tuple[str, str]]]:
    """Whisper's word error rate on SENTENCES, each turned into audio (a WAV or any
    file PyAV decodes) by ``speak``, and what it heard."""
    references, hypotheses = [], []
    for sentence in SENTENCES:
        # Whisper decodes and resamples the file itself (through PyAV).
        segments, _ = whisper.transcribe(io.BytesIO(speak(sentence)), language="en", beam_size=1)
        references.append(normalized(sentence))
        hypotheses.append(normalized(" ".join(s.text for s in segments)))
    return jiwer.wer(references, hypotheses), list(zip(references, hypotheses, strict=True))


def word_error_rate(
    service: SpeechService, whisper: WhisperModel, voice: Voice, schedule: ChunkSchedule = PLAN
) -> tuple[float, list[tuple[str, str]]]:
    """Whisper's word error rate on SENTENCES spoken by ``voice``, and what it heard."""

    def speak(sentence: str) -> bytes:
        audio = np.concatenate(
            list(service.synthesize(SpeechJob(text=sentence, voice=voice), schedule))
        )
        assert 0.5 < len(audio) / 24_000 < 10
        return wav_file(audio)

    return heard_error_rate(whisper, speak)

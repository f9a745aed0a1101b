"""Listening to the model: Whisper tiny.en word error rates on test sentences."""

from __future__ import annotations

import io
import re

import jiwer
import numpy as np
from faster_whisper import WhisperModel

from api.audio.wav import wav_file
from api.speech import SpeechJob, SpeechService
from api.text.chunks import WHOLE, ChunkSchedule
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


def word_error_rate(
    service: SpeechService, whisper: WhisperModel, voice: Voice, schedule: ChunkSchedule = WHOLE
) -> tuple[float, list[tuple[str, str]]]:
    """Whisper's word error rate on SENTENCES spoken by ``voice``, and what it heard."""
    references, hypotheses = [], []
    for sentence in SENTENCES:
        job = SpeechJob(text=sentence, voice=voice)
        audio = np.concatenate(list(service.synthesize(job, schedule)))
        assert 0.5 < len(audio) / 24_000 < 10
        # Whisper decodes and resamples the WAV itself (through PyAV).
        segments, _ = whisper.transcribe(io.BytesIO(wav_file(audio)), language="en", beam_size=1)
        references.append(normalized(sentence))
        hypotheses.append(normalized(" ".join(s.text for s in segments)))
    return jiwer.wer(references, hypotheses), list(zip(references, hypotheses, strict=True))

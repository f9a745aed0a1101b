"""Captioned speech: audio plus word timestamps from the model's own durations.

Each chunk is synthesized with the timed model (per-token durations in
samples), shaped like streamed chunks (edge silence cut to a natural pause),
and its token positions are moved onto the shaped audio. The chunks' phoneme
strings and durations are then joined into one timeline, with the pauses
between chunks as silent "space" symbols, and the request's words (normalized
as the G2P saw them) are matched to it in one pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from api.audio.silence import shape_silence, silence, speech_bounds
from api.backends.base import Audio, supports_timing
from api.speech import SpeechJob, SpeechService, Utterance
from api.text.chunks import WHOLE, pause_after
from api.text.split import Pause
from api.text.timestamps import WordTimestamp, word_timestamps

_EDGE_PUNCTUATION = "\"'“”‘’()[]{}«»,.;:!?¡¿…—-"


class CaptionsUnavailableError(RuntimeError):
    """The backend cannot report durations."""


@dataclass(frozen=True)
class CaptionedAudio:
    audio: Audio
    timestamps: list[WordTimestamp]


def _spoken_words(job: SpeechJob, utterance: Utterance) -> Iterator[str]:
    """The words of ``utterance`` as the G2P reads them (normalized where it is English)."""
    for spoken, _ in SpeechService.read_sentences(
        utterance.text, utterance.language, job.normalization
    ):
        for word in spoken.split():
            bare = word.strip(_EDGE_PUNCTUATION)
            if bare:
                yield bare


def captioned_speech(service: SpeechService, job: SpeechJob) -> CaptionedAudio:
    """Blocking: the whole utterance and a timestamp for each of its words."""
    backend = service.backend
    if not supports_timing(backend):
        raise CaptionsUnavailableError(
            f"The {backend.name} backend cannot report word timings for this model"
        )
    audio_parts: list[Audio] = []
    symbols: list[str] = []
    durations: list[np.ndarray] = []
    words: list[str] = []
    for piece in job.pieces():
        if isinstance(piece, Pause):
            pause = silence(piece.seconds)
            audio_parts.append(pause)
            symbols.append(" ")
            durations.append(np.array([len(pause)], dtype=np.int64))
            continue
        words.extend(_spoken_words(job, piece))
        for phonemes in service.phoneme_chunks(
            piece.text, piece.language, WHOLE, job.normalization
        ):
            tokens = service.vocabulary.encode(phonemes)
            raw, token_samples = backend.synthesize_timed(
                tokens, piece.voice.style_for(len(tokens)), job.speed
            )
            start, end = speech_bounds(raw)
            shaped = shape_silence(raw, pause_seconds=pause_after(phonemes) / job.speed)
            # Token end positions, moved onto the shaped chunk and kept inside its speech.
            ends = np.clip(np.cumsum(token_samples) - start, 0, max(end - start, 1))
            ends[-1] = max(end - start, 1)
            audio_parts.append(shaped)
            symbols.append(phonemes + " ")
            durations.append(np.diff(ends, prepend=0).astype(np.int64))
            durations.append(np.array([max(len(shaped) - int(ends[-1]), 0)], dtype=np.int64))
    audio = np.concatenate(audio_parts) if audio_parts else np.zeros(0, dtype=np.float32)
    if not words or not symbols:
        return CaptionedAudio(audio, [])
    timeline = np.concatenate(durations)
    stamps = word_timestamps(words, "".join(symbols), timeline, offset_samples=0)
    return CaptionedAudio(audio, stamps)

"""Captioned speech: audio plus word timestamps from the model's own durations.

Each chunk is synthesized with the timed model (per-token durations in
samples), shaped like streamed chunks (edge silence cut to a natural pause),
and its token positions are moved onto the shaped audio. The chunks' phoneme
strings and durations are then joined into one timeline, with the pauses
between chunks as silent "space" symbols, and the request's words (normalized
as the G2P saw them) are matched to it in one pass.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import numpy as np

from api.audio.silence import shape_silence, silence_pieces, speech_bounds
from api.backends.base import Audio, supports_timing
from api.speech import Final, SpeechJob, SpeechService, Utterance, with_last
from api.text import inline
from api.text.chunks import PLAN, ChunkSchedule, pause_after
from api.text.split import Pause
from api.text.timestamps import WordTimestamp, word_timestamps

_EDGE_PUNCTUATION = "\"'“”‘’()[]{}«»,.;:!?¡¿…—-"


class CaptionsUnavailableError(RuntimeError):
    """The backend cannot report durations."""


@dataclass(frozen=True)
class CaptionedAudio:
    audio: Audio
    timestamps: list[WordTimestamp]


def _spoken_words(service: SpeechService, job: SpeechJob, utterance: Utterance) -> Iterator[str]:
    """The words of ``utterance`` as the G2P reads them (normalized where it is
    English; an inline pronunciation as its word)."""
    for spoken, _ in service.read_sentences(utterance.text, utterance.language, job.normalization):
        for word in inline.displayed(spoken).split():
            bare = word.strip(_EDGE_PUNCTUATION)
            if bare:
                yield bare


@dataclass(frozen=True)
class CaptionedChunk:
    """One chunk's audio with its symbols and their durations in samples."""

    audio: Audio
    symbols: str
    durations: list[np.ndarray]


def captioned_chunks(
    service: SpeechService,
    job: SpeechJob,
    schedule: ChunkSchedule = PLAN,
    final: Final | None = None,
) -> Generator[CaptionedChunk, None, None]:
    """Blocking: the utterance chunk by chunk, each with its symbols' durations,
    cut along ``schedule``; ``final`` is called just before the last chunk is
    yielded (as ``SpeechService.synthesize`` does).

    Raises ``CaptionsUnavailableError`` at once when the backend has no timings.
    """
    backend = service.backend
    if not supports_timing(backend):
        raise CaptionsUnavailableError(
            f"The {backend.name} backend cannot report word timings for this model"
        )

    def plan() -> Iterator[Audio | tuple[str, Utterance, bool]]:
        """Silences and (phonemes, utterance, last of it) chunks: G2P only, cheap to
        read ahead."""
        for piece in job.pieces():
            if isinstance(piece, Pause):
                yield from silence_pieces(piece.seconds)
                continue
            chunks = service.phoneme_chunks(piece.text, piece.language, schedule, job.normalization)
            for phonemes, last in with_last(chunks, look_ahead=piece.end_pause is not None):
                yield phonemes, piece, last

    def chunks() -> Generator[CaptionedChunk, None, None]:
        for item, last in with_last(plan(), look_ahead=final is not None):
            chunk = _pause(item) if isinstance(item, np.ndarray) else _spoken(*item)
            if last and final is not None:
                final()
            yield chunk

    def _pause(pause: Audio) -> CaptionedChunk:
        return CaptionedChunk(pause, " ", [np.array([len(pause)], dtype=np.int64)])

    def _spoken(phonemes: str, piece: Utterance, last: bool) -> CaptionedChunk:
        tokens = service.vocabulary.encode(phonemes)
        speed = job.speed * piece.speed
        started = time.perf_counter()
        raw, token_samples = backend.synthesize_timed(
            tokens, piece.voice.style_for(len(tokens)), speed
        )
        seconds = time.perf_counter() - started
        start, end = speech_bounds(raw)
        pause = piece.end_pause if last and piece.end_pause is not None else None
        shaped = shape_silence(
            raw, pause_seconds=pause_after(phonemes) / speed if pause is None else pause
        )
        service.count_compute(seconds, shaped)
        # Token end positions, moved onto the shaped chunk and kept inside its speech.
        ends = np.clip(np.cumsum(token_samples) - start, 0, max(end - start, 1))
        ends[-1] = max(end - start, 1)
        durations = [
            np.diff(ends, prepend=0).astype(np.int64),
            np.array([max(len(shaped) - int(ends[-1]), 0)], dtype=np.int64),
        ]
        return CaptionedChunk(shaped, phonemes + " ", durations)

    return chunks()


def caption_timestamps(
    service: SpeechService, job: SpeechJob, chunks: list[CaptionedChunk]
) -> list[WordTimestamp]:
    """A timestamp for each word of ``job``, from its chunks' symbols and durations
    (their audio is not needed: a caller may have encoded and dropped it)."""
    words = [
        word
        for piece in job.pieces()
        if not isinstance(piece, Pause)
        for word in _spoken_words(service, job, piece)
    ]
    if not words or not chunks:
        return []
    timeline = np.concatenate([d for chunk in chunks for d in chunk.durations])
    symbols = "".join(chunk.symbols for chunk in chunks)
    return word_timestamps(words, symbols, timeline, offset_samples=0)


def join_captioned(
    service: SpeechService, job: SpeechJob, chunks: list[CaptionedChunk]
) -> CaptionedAudio:
    """The whole utterance and a timestamp for each of its words."""
    parts = [chunk.audio for chunk in chunks]
    audio = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    return CaptionedAudio(audio, caption_timestamps(service, job, chunks))


def captioned_speech(service: SpeechService, job: SpeechJob) -> CaptionedAudio:
    """Blocking: the whole utterance and a timestamp for each of its words."""
    return join_captioned(service, job, list(captioned_chunks(service, job)))

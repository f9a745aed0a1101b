"""Silence at chunk edges: trimmed to a natural pause when chunks are joined.

Kokoro pads every call with about 0.28 s of silence before the speech and
0.7 s after it. Joined as they come, chunks would leave a one-second hole at
every chunk boundary, mid-sentence included. Each chunk is cut to its speech
plus a short margin and followed by the pause its last punctuation calls for.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from api.backends.base import SAMPLE_RATE, Audio

SILENCE_THRESHOLD = 0.01
"""Samples below this amplitude (-40 dBFS) count as silence."""
MARGIN_SECONDS = 0.05
"""Silence kept on each side of the speech, so soft onsets and releases survive."""
FADE_SECONDS = 0.005
"""Fade at each cut, so a cut never makes a click."""


SILENCE_PIECE_SECONDS = 10.0
"""Longest piece a long pause is handed out in, so that memory never holds more."""


def silence(seconds: float, *, sample_rate: int = SAMPLE_RATE) -> Audio:
    """Exactly ``seconds`` of silence."""
    return np.zeros(round(seconds * sample_rate), dtype=np.float32)


def silence_pieces(seconds: float, *, sample_rate: int = SAMPLE_RATE) -> Iterator[Audio]:
    """Exactly ``seconds`` of silence, in pieces of at most ``SILENCE_PIECE_SECONDS``."""
    remaining = round(seconds * sample_rate)
    piece = round(SILENCE_PIECE_SECONDS * sample_rate)
    while remaining > 0:
        yield np.zeros(min(piece, remaining), dtype=np.float32)
        remaining -= piece


def _loud_edges(audio: Audio) -> tuple[int, int] | None:
    """Indices of the first and the last sample above the threshold; None if none is."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_THRESHOLD)
    if loud.size == 0:
        return None
    return int(loud[0]), int(loud[-1])


def _with_margin(edges: tuple[int, int], length: int, sample_rate: int) -> tuple[int, int]:
    margin = round(MARGIN_SECONDS * sample_rate)
    first, last = edges
    return max(0, first - margin), min(length, last + 1 + margin)


def speech_bounds(audio: Audio, *, sample_rate: int = SAMPLE_RATE) -> tuple[int, int]:
    """The span ``[start, end)`` of ``audio`` that ``shape_silence`` keeps: from the
    first to the last sample above ``SILENCE_THRESHOLD``, widened by the margin on
    each side and clipped to the audio. ``(0, 0)`` for all-silent audio.

    ``start`` is how many samples the shaping cuts from the front, so a position
    ``p`` in the model's audio is ``p - start`` in the shaped chunk.
    """
    edges = _loud_edges(audio)
    return (0, 0) if edges is None else _with_margin(edges, len(audio), sample_rate)


def shape_silence(audio: Audio, *, pause_seconds: float, sample_rate: int = SAMPLE_RATE) -> Audio:
    """Keep the speech with a small margin, then exactly ``pause_seconds`` of silence
    after it (margin included). All-silent audio becomes just the pause."""
    margin = round(MARGIN_SECONDS * sample_rate)
    pause = max(round(pause_seconds * sample_rate), margin)
    edges = _loud_edges(audio)
    if edges is None:
        return np.zeros(pause, dtype=np.float32)
    start, end = _with_margin(edges, len(audio), sample_rate)
    speech = np.array(audio[start:end], dtype=np.float32)
    fade = min(round(FADE_SECONDS * sample_rate), len(speech) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        if start > 0:
            speech[:fade] *= ramp
        if end < len(audio):
            speech[-fade:] *= ramp[::-1]
    kept_tail = end - 1 - edges[1]
    return np.concatenate([speech, np.zeros(max(0, pause - kept_tail), dtype=np.float32)])

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from api.audio.silence import MARGIN_SECONDS, SILENCE_THRESHOLD, shape_silence, speech_bounds
from api.text.chunks import (
    CLAUSE_PAUSE_SECONDS,
    SENTENCE_PAUSE_SECONDS,
    WORD_PAUSE_SECONDS,
    pause_after,
)

RATE = 24_000


def padded_speech(lead: float, speech: float, tail: float) -> npt.NDArray[np.float32]:
    t = np.arange(round(speech * RATE)) / RATE
    voiced = (0.5 * np.sin(2 * np.pi * 200 * t) + 0.2).astype(np.float32)  # never near zero
    return np.concatenate(
        [np.zeros(round(lead * RATE), np.float32), voiced, np.zeros(round(tail * RATE), np.float32)]
    )


def silent_edges(audio: npt.NDArray[np.float32]) -> tuple[float, float]:
    loud = np.flatnonzero(np.abs(audio) > SILENCE_THRESHOLD)
    return loud[0] / RATE, (len(audio) - 1 - loud[-1]) / RATE


def test_model_padding_is_cut_to_a_margin_and_the_pause() -> None:
    shaped = shape_silence(padded_speech(0.28, 1.0, 0.7), pause_seconds=0.3)
    lead, tail = silent_edges(shaped)
    assert lead == pytest.approx(0.05, abs=0.002)
    assert tail == pytest.approx(0.3, abs=0.002)
    assert len(shaped) / RATE == pytest.approx(0.05 + 1.0 + 0.3, abs=0.005)


def test_short_model_padding_is_extended_to_the_pause() -> None:
    shaped = shape_silence(padded_speech(0.0, 1.0, 0.01), pause_seconds=0.3)
    assert silent_edges(shaped)[1] == pytest.approx(0.3, abs=0.002)


def test_cuts_are_faded_so_they_do_not_click() -> None:
    audio = padded_speech(0.2, 1.0, 0.5)
    audio[: round(0.2 * RATE)] = 0.005  # a quiet hum under the threshold
    shaped = shape_silence(audio, pause_seconds=0.1)
    assert abs(shaped[0]) < 1e-3


def test_all_silent_audio_becomes_the_pause() -> None:
    shaped = shape_silence(np.zeros(RATE, np.float32), pause_seconds=0.15)
    assert len(shaped) == round(0.15 * RATE)
    assert not shaped.any()


def test_speech_bounds_are_the_loud_span_with_a_margin() -> None:
    audio = padded_speech(0.28, 1.0, 0.7)
    start, end = speech_bounds(audio)
    margin = round(MARGIN_SECONDS * RATE)
    assert start == round(0.28 * RATE) - margin
    assert end == round(1.28 * RATE) + margin


def test_speech_bounds_clip_to_the_audio() -> None:
    audio = padded_speech(0.0, 1.0, 0.01)
    assert speech_bounds(audio) == (0, len(audio))


def test_speech_bounds_of_silence_are_empty() -> None:
    assert speech_bounds(np.zeros(RATE, np.float32)) == (0, 0)


def test_shaped_audio_starts_where_speech_bounds_start() -> None:
    # What a caller shifting timestamps relies on: position p becomes p - start.
    audio = padded_speech(0.28, 1.0, 0.7)
    start, end = speech_bounds(audio)
    shaped = shape_silence(audio, pause_seconds=0.3)
    kept = end - start
    np.testing.assert_array_equal(shaped[200 : kept - 200], audio[start + 200 : end - 200])


@pytest.mark.parametrize(
    ("phonemes", "pause"),
    [
        ("hˈɛloʊ.", SENTENCE_PAUSE_SECONDS),
        ("wˈʌt?", SENTENCE_PAUSE_SECONDS),
        ("ðɛɹ!”", SENTENCE_PAUSE_SECONDS),
        ("ɪvnɪŋ,", CLAUSE_PAUSE_SECONDS),
        ("ðˈʌs;", CLAUSE_PAUSE_SECONDS),
        ("ænd ðə", WORD_PAUSE_SECONDS),
    ],
)
def test_pause_follows_the_chunk_ending(phonemes: str, pause: float) -> None:
    assert pause_after(phonemes) == pause

"""Word timing from the real model's predicted durations."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest

from api.audio.silence import speech_bounds
from api.backends.base import FRAME_SAMPLES, SAMPLE_RATE
from api.backends.graph import DURATIONS_OUTPUT
from api.backends.onnx import OnnxBackend, TimingUnavailableError
from api.text.chunks import Vocabulary
from api.text.g2p import EspeakG2P
from api.text.timestamps import word_timestamps
from api.voices.official import official_voices
from api.weights import ModelFiles

pytestmark = pytest.mark.model

SENTENCE = "The quick brown fox jumps over the lazy dog near our house."
TEXTS = [
    "Hello, world!",
    "She sells sea shells by the sea shore, every single day.",
]


@pytest.fixture(scope="module")
def vocabulary(model_files: ModelFiles) -> Vocabulary:
    return Vocabulary.load(model_files.vocab)


@pytest.fixture(scope="module")
def pack() -> npt.NDArray[np.float32]:
    return np.asarray(official_voices()["jf_alpha"].open(), dtype=np.float32)


@pytest.fixture(scope="module")
def timed(model_files: ModelFiles) -> OnnxBackend:
    return OnnxBackend(model_files.model, timed_model=model_files.timed_model)


@pytest.fixture(scope="module")
def plain(model_files: ModelFiles) -> OnnxBackend:
    return OnnxBackend(model_files.model)


SpeakInput = Callable[[str], tuple[list[int], npt.NDArray[np.float32]]]


@pytest.fixture(scope="module")
def speak(vocabulary: Vocabulary, pack: npt.NDArray[np.float32]) -> SpeakInput:
    """Text -> (token ids, style row), as the service prepares a chunk."""

    def prepare(text: str) -> tuple[list[int], npt.NDArray[np.float32]]:
        tokens = vocabulary.encode(phonemize(text, vocabulary))
        return tokens, pack[len(tokens) - 1]

    return prepare


def phonemize(text: str, vocabulary: Vocabulary) -> str:
    return vocabulary.clean(EspeakG2P()(text, "en-us"))


def test_the_timed_model_is_loaded_when_it_exists(timed: OnnxBackend, plain: OnnxBackend) -> None:
    assert timed.timed
    assert not plain.timed
    with pytest.raises(TimingUnavailableError):
        plain.synthesize_timed([50, 51], np.zeros((1, 256), np.float32), 1.0)


@pytest.mark.parametrize("speed", [1.0, 1.4])
@pytest.mark.parametrize("text", [SENTENCE, *TEXTS])
def test_timed_audio_equals_the_plain_model_audio(
    timed: OnnxBackend, plain: OnnxBackend, speak: SpeakInput, text: str, speed: float
) -> None:
    tokens, style = speak(text)
    expected = plain.synthesize(tokens, style, speed)
    audio, durations = timed.synthesize_timed(tokens, style, speed)

    np.testing.assert_allclose(audio, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(timed.synthesize(tokens, style, speed), expected, rtol=0, atol=1e-6)
    assert durations.dtype == np.int64
    assert len(durations) == len(tokens)
    assert (durations >= FRAME_SAMPLES).all()
    assert abs(int(durations.sum()) - len(audio)) <= FRAME_SAMPLES


def test_the_graph_frames_are_600_samples(
    model_files: ModelFiles, vocabulary: Vocabulary, pack: npt.NDArray[np.float32]
) -> None:
    session = ort.InferenceSession(str(model_files.timed_model), providers=["CPUExecutionProvider"])
    for text in [SENTENCE, *TEXTS]:
        tokens = vocabulary.encode(phonemize(text, vocabulary))
        audio, frames = session.run(
            ["audio", DURATIONS_OUTPUT],
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": pack[len(tokens) - 1].reshape(1, 256),
                "speed": np.array([1.0], dtype=np.float32),
            },
        )
        assert frames.shape == (1, len(tokens) + 2)
        assert int(frames.sum()) * FRAME_SAMPLES == audio.size


def rms(audio: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def test_word_timestamps_follow_the_speech(
    timed: OnnxBackend, vocabulary: Vocabulary, pack: npt.NDArray[np.float32]
) -> None:
    phonemes = phonemize(SENTENCE, vocabulary)
    tokens = vocabulary.encode(phonemes)
    assert len(tokens) == len(phonemes)
    audio, durations = timed.synthesize_timed(tokens, pack[len(tokens) - 1], 1.0)
    words = SENTENCE.split()
    offset = 5 * SAMPLE_RATE

    stamps = word_timestamps(words, phonemes, durations, offset_samples=offset)

    assert [s.word for s in stamps] == words
    previous_end = offset / SAMPLE_RATE
    for stamp in stamps:
        assert previous_end <= stamp.start_time < stamp.end_time
        previous_end = stamp.end_time
    assert previous_end <= (offset + len(audio)) / SAMPLE_RATE

    onset, _ = speech_bounds(audio)
    lead_rms = rms(audio[: max(1, onset)])
    for stamp in stamps:
        start = round(stamp.start_time * SAMPLE_RATE) - offset
        end = round(stamp.end_time * SAMPLE_RATE) - offset
        word_rms = rms(audio[start:end])
        assert word_rms > max(10 * lead_rms, 0.01), (stamp, word_rms, lead_rms)


def test_speech_starts_inside_the_first_word(
    timed: OnnxBackend, vocabulary: Vocabulary, pack: npt.NDArray[np.float32]
) -> None:
    phonemes = phonemize(SENTENCE, vocabulary)
    tokens = vocabulary.encode(phonemes)
    audio, durations = timed.synthesize_timed(tokens, pack[len(tokens) - 1], 1.0)
    first, *_, last = word_timestamps(SENTENCE.split(), phonemes, durations, offset_samples=0)
    onset, end = speech_bounds(audio)
    # The first token carries the model's lead silence, so the first word opens at 0.
    assert first.start_time * SAMPLE_RATE <= onset < first.end_time * SAMPLE_RATE
    assert last.start_time * SAMPLE_RATE < end

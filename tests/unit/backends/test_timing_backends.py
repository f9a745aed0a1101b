"""The optional timing capability of backends, and the fake backend's durations."""

from __future__ import annotations

import numpy as np
import pytest

from api.backends.base import supports_timing, token_samples
from api.backends.fake import FakeBackend

STYLE = np.full((1, 256), 0.01, dtype=np.float32)


class PlainBackend:
    name = "plain"
    device = "cpu"

    def synthesize(self, tokens: object, style: object, speed: float) -> np.ndarray:
        return np.zeros(10, dtype=np.float32)


class SwitchedOff(FakeBackend):
    timed = False


def test_supports_timing() -> None:
    assert supports_timing(FakeBackend())
    assert not supports_timing(PlainBackend())  # type: ignore[arg-type]
    assert not supports_timing(SwitchedOff())


@pytest.mark.parametrize(("count", "speed"), [(1, 1.0), (7, 1.0), (50, 1.3), (123, 0.7)])
def test_fake_durations_cover_its_audio(count: int, speed: float) -> None:
    backend = FakeBackend()
    tokens = list(range(1, count + 1))
    audio, durations = backend.synthesize_timed(tokens, STYLE, speed)
    np.testing.assert_array_equal(audio, backend.synthesize(tokens, STYLE, speed))
    assert durations.dtype == np.int64
    assert len(durations) == count
    assert int(durations.sum()) == len(audio)
    assert durations.max() - durations.min() <= 1


def test_token_samples_fold_the_pads_into_their_neighbours() -> None:
    frames = np.array([[12, 2, 3, 4, 1]], dtype=np.int64)
    samples = token_samples(frames, 22 * 600)
    np.testing.assert_array_equal(samples, [14 * 600, 3 * 600, 5 * 600])


def test_token_samples_absorb_a_length_difference_in_the_last_token() -> None:
    frames = np.array([12, 2, 3, 4, 1], dtype=np.int64)
    samples = token_samples(frames, 22 * 600 - 5)
    assert int(samples.sum()) == 22 * 600 - 5
    assert samples[-1] == 5 * 600 - 5


def test_token_samples_need_a_token() -> None:
    with pytest.raises(ValueError, match="at least one token"):
        token_samples(np.array([12, 1], dtype=np.int64), 13 * 600)

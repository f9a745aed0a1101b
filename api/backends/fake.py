"""A deterministic stand-in for the model, so the HTTP API can be tested in milliseconds."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from api.backends.base import (
    SAMPLE_RATE,
    Audio,
    Durations,
    InferenceStoppedError,
    current_stop_signal,
)

SECONDS_PER_TOKEN = 0.05


class FakeBackend:
    """Speaks a tone: 50 ms per token at speed 1, pitch set by the style vector.

    The same tokens, style and speed always give the same samples; a different
    voice gives a different pitch, so tests can tell voices apart.
    """

    name = "fake"
    device = "cpu"
    timed = True

    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.stopped = 0
        """Calls cut short by their request's stop signal."""
        self.delay = delay
        """Seconds each call takes, to imitate inference time in concurrency tests."""

    def synthesize(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> Audio:
        self.calls += 1
        if self.delay:
            self._wait(self.delay)
        samples = max(1, round(len(tokens) * SECONDS_PER_TOKEN / speed * SAMPLE_RATE))
        pitch = 200.0 + 100.0 * float(np.tanh(np.asarray(style, dtype=np.float64).mean() * 10.0))
        t = np.arange(samples, dtype=np.float64) / SAMPLE_RATE
        return (0.3 * np.sin(2 * np.pi * pitch * t)).astype(np.float32)

    def _wait(self, seconds: float) -> None:
        """Sleep like an inference would run: stopped at once by the request's signal."""
        signal = current_stop_signal()
        if signal is None:
            threading.Event().wait(seconds)
            return
        woken = threading.Event()
        with signal.stoppable(woken.set):
            if woken.wait(seconds):
                self.stopped += 1
                raise InferenceStoppedError("the request was abandoned")

    def synthesize_timed(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> tuple[Audio, Durations]:
        """The same tone, cut evenly among the tokens (the remainder to the first ones):
        one entry per token, summing to the audio length."""
        audio = self.synthesize(tokens, style, speed)
        count = max(1, len(tokens))
        base, extra = divmod(audio.size, count)
        durations = np.full(count, base, dtype=np.int64)
        durations[:extra] += 1
        return audio, durations[: len(tokens)]

"""The contract every inference backend meets."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, TypeGuard

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 24_000
"""Kokoro speaks at 24 kHz, mono."""

FRAME_SAMPLES = 600
"""Audio samples per duration frame at 24 kHz (the vocoder's source runs at twice the
duration frame rate, 300 samples per step). Checked on the ONNX graph: the
durations' sum times 600 equals the audio length exactly."""

Audio = npt.NDArray[np.float32]
"""Mono float32 samples in [-1, 1] at ``SAMPLE_RATE``."""


class BackendUnavailableError(RuntimeError):
    """The requested backend, device or weights cannot be used; the message says what to do."""


class Backend(Protocol):
    """Turns one chunk of token ids into audio.

    ``synthesize`` is blocking and may be called from several worker threads;
    it is never called on the event loop.
    """

    name: str
    """Short backend name, e.g. ``onnx``."""
    device: str
    """Where inference runs, e.g. ``cpu`` or ``cuda``."""

    def synthesize(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> Audio:
        """Speak ``tokens`` (at most 510 ids, no padding) with a (1, 256) style row."""
        ...


Durations = npt.NDArray[np.int64]
"""Samples each token lasts, one entry per token id of the chunk."""


class TimedBackend(Backend, Protocol):
    """A backend that also reports how long the model spoke each token.

    Optional: word timestamps need it, plain speech does not.
    """

    def synthesize_timed(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> tuple[Audio, Durations]:
        """The audio of ``synthesize`` (same samples) and the samples each token lasts.

        ``durations`` has ``len(tokens)`` entries (the padding ids around the chunk
        have none of their own) and sums to ``len(audio)``: the model's leading
        silence (the first padding id) is folded into the first token and its
        trailing padding into the last token. So ``cumsum(durations)`` is where
        each token ends in ``audio``, and the first token's span starts with the
        model's lead silence; clip it to the speech onset where that matters.
        """
        ...


def token_samples(frames: npt.NDArray[np.int64], audio_samples: int) -> Durations:
    """Per-token durations in samples from the graph's per-position frames.

    ``frames`` covers the padded chunk (pad, ids..., pad). The pads' spans are
    folded into their neighbours (lead pad into the first token, end pad into
    the last), so the result has one entry per id and sums to the audio length.
    """
    samples = np.asarray(frames, dtype=np.int64).reshape(-1) * FRAME_SAMPLES
    if samples.size < 3:
        raise ValueError("durations must cover at least one token and the two pads")
    durations = samples[1:-1].copy()
    durations[0] += samples[0]
    durations[-1] += samples[-1]
    # The vocoder's length is exactly frames x 600 on this graph; should another
    # export differ by a few samples, the last token absorbs it so positions stay
    # inside the audio.
    durations[-1] = max(1, durations[-1] + audio_samples - int(samples.sum()))
    return durations


def supports_timing(backend: Backend) -> TypeGuard[TimedBackend]:
    """True when ``backend`` can report per-token durations right now.

    A backend may have the method yet lack the capability at run time (the ONNX
    backend on a model directory without the timed model): it says so with a
    ``timed`` attribute set to False.
    """
    return callable(getattr(backend, "synthesize_timed", None)) and bool(
        getattr(backend, "timed", True)
    )


class StopSignal:
    """Set when the request a computation serves is abandoned (its client left, its
    time ran out): a backend that can stop a running inference registers how."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        self._stoppers: list[Callable[[], None]] = []

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Stop every registered computation now, and any registered later."""
        with self._lock:
            self._stopped = True
            stoppers = list(self._stoppers)
        for stopper in stoppers:
            stopper()

    @contextmanager
    def stoppable(self, stopper: Callable[[], None]) -> Iterator[None]:
        """While inside, ``stop`` calls ``stopper`` (at once if already stopped)."""
        with self._lock:
            self._stoppers.append(stopper)
            stopped = self._stopped
        if stopped:
            stopper()
        try:
            yield
        finally:
            with self._lock:
                self._stoppers.remove(stopper)


class InferenceStoppedError(RuntimeError):
    """An inference was stopped through its ``StopSignal``."""


_current = threading.local()


@contextmanager
def serving(signal: StopSignal) -> Iterator[None]:
    """Inferences run on this thread while inside serve the request ``signal`` stops."""
    previous = getattr(_current, "signal", None)
    _current.signal = signal
    try:
        yield
    finally:
        _current.signal = previous


def current_stop_signal() -> StopSignal | None:
    """The signal of the request this thread is computing for, if one was set."""
    return getattr(_current, "signal", None)

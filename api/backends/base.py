"""The contract every inference backend meets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeGuard

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 24_000
"""Kokoro speaks at 24 kHz, mono."""

Audio = npt.NDArray[np.float32]
"""Mono float32 samples in [-1, 1] at ``SAMPLE_RATE``."""


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


def supports_timing(backend: Backend) -> TypeGuard[TimedBackend]:
    """True when ``backend`` can report per-token durations right now.

    A backend may have the method yet lack the capability at run time (the ONNX
    backend on a model directory without the timed model): it says so with a
    ``timed`` attribute set to False.
    """
    return callable(getattr(backend, "synthesize_timed", None)) and bool(
        getattr(backend, "timed", True)
    )

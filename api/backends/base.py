"""The contract every inference backend meets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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

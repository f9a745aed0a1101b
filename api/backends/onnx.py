"""ONNX Runtime backend: the bundled int8 model on the CPU (or a CUDA GPU)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from api.backends.base import (
    Audio,
    BackendUnavailableError,
    Durations,
    InferenceStoppedError,
    current_stop_signal,
    token_samples,
)
from api.backends.graph import DURATIONS_OUTPUT

logger = logging.getLogger(__name__)


ONNX_OUTPUT_GAIN = 2 / 3
"""Brings the graph's output to the trained model's loudness.

The export replaced ``torch.istft`` with an overlap-add convolution that does
not divide by the window's squared sum: its audio is exactly 1.5 times (3.5 dB)
louder than the PyTorch model's, and loud voices clip (jm_kumo peaked at 1.08).
Both backends speak at the PyTorch model's level."""

PROVIDERS = {
    "cpu": ["CPUExecutionProvider"],
    "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
}
"""Execution providers per device, best first."""


def _at_trained_level(audio: npt.ArrayLike) -> Audio:
    """The graph's audio output, flattened and scaled by ``ONNX_OUTPUT_GAIN``."""
    return np.asarray(audio, dtype=np.float32).reshape(-1) * np.float32(ONNX_OUTPUT_GAIN)


class TimingUnavailableError(RuntimeError):
    """The loaded model has no ``durations`` output."""


class ProviderUnavailableError(BackendUnavailableError):
    """ONNX Runtime could not run on the requested device."""


class OnnxBackend:
    """Kokoro-82M through an ``onnxruntime.InferenceSession``.

    ``InferenceSession.run`` is thread-safe, so one session serves every worker.
    Given a ``timed_model`` that exists (the same graph with a ``durations``
    output, see ``api.backends.graph``), that one is loaded and
    ``synthesize_timed`` works; otherwise the plain model is loaded and
    ``timed`` is False.
    """

    name = "onnx"

    def __init__(
        self,
        model_path: Path,
        threads: int = 0,
        *,
        timed_model: Path | None = None,
        device: str = "cpu",
    ) -> None:
        import onnxruntime as ort  # noqa: PLC0415 - heavy, only when this backend is chosen

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # One inference uses every core; running chunks side by side on a small
        # machine only makes them fight over the same cores.
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Every call has a new input length, so a memory pattern planned for one
        # shape is never reused; without it the peak RSS is about 30% lower
        # (measured 415 vs 599 MiB on 150-token chunks) at the same speed.
        options.enable_mem_pattern = False
        started = time.perf_counter()
        self._session: Any = None
        loaded = model_path
        if timed_model is not None and timed_model.exists():
            try:
                self._session = ort.InferenceSession(
                    str(timed_model), sess_options=options, providers=PROVIDERS[device]
                )
                loaded = timed_model
            except Exception:
                logger.exception("cannot load %s; using %s", timed_model, model_path.name)
        if self._session is None:
            self._session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=PROVIDERS[device]
            )
        # A CUDA provider that cannot start (no GPU, missing CUDA libraries) is
        # dropped by ONNX Runtime with only a warning; asking for CUDA and
        # getting the CPU must be an error instead.
        if PROVIDERS[device][0] not in self._session.get_providers():
            raise ProviderUnavailableError(
                f"ONNX Runtime could not start {PROVIDERS[device][0]} "
                f"(running: {', '.join(self._session.get_providers())}); "
                "check the GPU driver and that onnxruntime-gpu's CUDA libraries are installed"
            )
        self.device = device
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.timed = DURATIONS_OUTPUT in {o.name for o in self._session.get_outputs()}
        """Whether ``synthesize_timed`` is available (the timed model is loaded)."""
        logger.info(
            "loaded %s on %s in %.2f s (%d threads)",
            loaded.name,
            self.device,
            time.perf_counter() - started,
            options.intra_op_num_threads,
        )

    def _feeds(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> dict[str, npt.NDArray[Any]]:
        feeds: dict[str, npt.NDArray[Any]] = {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(style, dtype=np.float32).reshape(1, 256),
            "speed": np.array([speed], dtype=np.float32),
        }
        return {k: v for k, v in feeds.items() if k in self._inputs}

    def _run(self, outputs: list[str], feeds: dict[str, npt.NDArray[Any]]) -> list[Any]:
        """``session.run``, stopped part-way when the request it serves is abandoned
        (ONNX Runtime checks its terminate flag between the graph's nodes)."""
        signal = current_stop_signal()
        if signal is None:
            return list(self._session.run(outputs, feeds))
        import onnxruntime as ort  # noqa: PLC0415 - loaded already by __init__

        options = ort.RunOptions()

        def terminate() -> None:
            options.terminate = True

        with signal.stoppable(terminate):
            try:
                return list(self._session.run(outputs, feeds, run_options=options))
            except Exception as e:
                if signal.stopped:
                    raise InferenceStoppedError("the request was abandoned") from e
                raise

    def synthesize(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> Audio:
        (audio,) = self._run(["audio"], self._feeds(tokens, style, speed))
        return _at_trained_level(audio)

    def synthesize_timed(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> tuple[Audio, Durations]:
        """Audio and samples per token; see ``api.backends.base.TimedBackend``."""
        if not self.timed:
            raise TimingUnavailableError(
                "the loaded model has no durations output; the model directory lacks "
                "its timed model (run `kokoro-server bake` or make the directory writable)"
            )
        audio, frames = self._run(["audio", DURATIONS_OUTPUT], self._feeds(tokens, style, speed))
        samples = _at_trained_level(audio)
        return samples, token_samples(frames, samples.size)

"""PyTorch backend: Kokoro-82M in float32 on the CPU or a CUDA GPU.

Its weights are either an official ``kokoro-v1_0.pth`` (``KOKORO_TORCH_WEIGHTS``)
or, by default, the bundled int8 model's weights converted once by
``kokoro-server convert-weights`` (``api.backends.convert``) and kept in the
model directory.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from api.backends.base import Audio, BackendUnavailableError, Durations, token_samples
from api.backends.network import KokoroNetwork, flatten_official

logger = logging.getLogger(__name__)


class WeightsError(BackendUnavailableError):
    """A weights file that does not hold this network."""


def load_network(weights: Path, device: str = "cpu") -> KokoroNetwork:
    """The network with the weights of ``weights`` (converted or official), in eval mode.

    ``torch.load`` runs with ``weights_only=True``: a weights file cannot run code.
    """
    try:
        raw = torch.load(weights, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as e:
        raise WeightsError(f"cannot read {weights}: {e}") from e
    if not isinstance(raw, dict):
        raise WeightsError(f"{weights} holds a {type(raw).__name__}, not a state dict")
    network = KokoroNetwork()
    state = {k: v.float() for k, v in flatten_official(raw).items()}
    result = network.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise WeightsError(
            f"{weights} does not fit Kokoro-82M: {len(result.missing_keys)} weights missing "
            f"(e.g. {result.missing_keys[:3]}), {len(result.unexpected_keys)} unexpected "
            f"(e.g. {result.unexpected_keys[:3]})"
        )
    return network.to(device).eval()


class TorchBackend:
    """Kokoro-82M through ``api.backends.network`` on ``device``.

    The network holds no state between calls, so worker threads share it.
    ``synthesize_timed`` returns the model's own durations (no second model
    needed, unlike the ONNX backend).
    """

    name = "torch"
    timed = True

    def __init__(self, weights: Path, device: str = "cpu", threads: int = 0) -> None:
        started = time.perf_counter()
        if device == "cpu" and threads:
            torch.set_num_threads(threads)
        self.device = device
        self.weights = weights
        self._network = load_network(weights, device)
        logger.info(
            "loaded %s on %s in %.2f s (torch %s, %d threads)",
            weights.name,
            device,
            time.perf_counter() - started,
            torch.__version__,
            torch.get_num_threads(),
        )

    def _run(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> tuple[Audio, npt.NDArray[np.int64]]:
        ids = torch.tensor([[0, *tokens, 0]], dtype=torch.long, device=self.device)
        # A copy: the style row may be a view of a read-only memory-mapped voice pack.
        ref = torch.from_numpy(np.array(style, dtype=np.float32).reshape(1, 256)).to(self.device)
        with torch.inference_mode():
            audio, frames = self._network(ids, ref, speed)
        return audio.float().cpu().numpy(), frames.cpu().numpy()

    def synthesize(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> Audio:
        return self._run(tokens, style, speed)[0]

    def synthesize_timed(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> tuple[Audio, Durations]:
        """Audio and samples per token; see ``api.backends.base.TimedBackend``."""
        audio, frames = self._run(tokens, style, speed)
        return audio, token_samples(frames, audio.size)

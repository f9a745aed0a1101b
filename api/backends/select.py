"""Pick and load the inference backend: ``KOKORO_BACKEND`` x ``KOKORO_DEVICE``.

``auto`` picks the best that is installed and usable here:

* a CUDA GPU with PyTorch: ``torch`` on ``cuda`` (float32 throughout; the
  int8 graph is made of integer convolutions and dynamically quantized LSTMs,
  operators built for CPUs);
* a CUDA GPU with ``onnxruntime-gpu`` only: ``onnx`` on ``cuda``;
* otherwise ``onnx`` on ``cpu``: on this project's 2-core machines the int8
  graph is faster than float32 PyTorch and slows far less when the cores are
  busy (measured in docs/benchmarks.md).

What the user names explicitly is never replaced by something else: a missing
library or device is a ``BackendUnavailableError`` that says what to install.
Libraries are imported only when their backend is chosen, and PyTorch is not
even imported to look for a GPU unless an NVIDIA device node exists.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from api.backends.base import Backend, BackendUnavailableError
from api.settings import Settings
from api.weights import ModelFiles

logger = logging.getLogger(__name__)

BackendName = Literal["auto", "onnx", "torch"]
DeviceName = Literal["auto", "cpu", "cuda"]

TORCH_INSTALL = "uv sync --extra torch"
ONNX_GPU_INSTALL = "uv sync --extra gpu --no-install-package onnxruntime"


@dataclass(frozen=True)
class Probe:
    """What this machine offers, found without loading more than needed."""

    torch_installed: bool
    torch_cuda: bool
    onnx_cuda: bool

    @classmethod
    def detect(cls) -> Probe:
        torch_installed = importlib.util.find_spec("torch") is not None
        gpu = nvidia_device_present()
        return cls(
            torch_installed=torch_installed,
            torch_cuda=torch_installed and gpu and _torch_sees_cuda(),
            onnx_cuda=gpu and _onnx_has_cuda(),
        )


def nvidia_device_present() -> bool:
    """True when the kernel exposes an NVIDIA GPU (as the container toolkit does)."""
    return any(Path("/dev").glob("nvidia[0-9]*"))


def _torch_sees_cuda() -> bool:
    import torch  # noqa: PLC0415 - only when a GPU exists and torch is installed

    return bool(torch.cuda.is_available())


def _onnx_has_cuda() -> bool:
    import onnxruntime as ort  # noqa: PLC0415

    return "CUDAExecutionProvider" in ort.get_available_providers()


@dataclass(frozen=True)
class Choice:
    backend: Literal["onnx", "torch"]
    device: Literal["cpu", "cuda"]
    reason: str


def choose(backend: BackendName, device: DeviceName, probe: Probe) -> Choice:
    """Decide what runs, or raise ``BackendUnavailableError``. Pure: ``probe`` holds the facts."""
    if backend == "torch":
        return _choose_torch(device, probe)
    if backend == "onnx":
        return _choose_onnx(device, probe)
    if device != "cpu" and probe.torch_cuda:
        return Choice("torch", "cuda", "auto: CUDA GPU and PyTorch present")
    if device != "cpu" and probe.onnx_cuda:
        return Choice("onnx", "cuda", "auto: CUDA GPU and onnxruntime-gpu present")
    if device == "cuda":
        raise BackendUnavailableError(
            "KOKORO_DEVICE=cuda, but no backend can use a CUDA GPU here: install one with "
            f"`{TORCH_INSTALL}` or `{ONNX_GPU_INSTALL}`, and check the driver and GPU reservation"
        )
    return Choice("onnx", "cpu", "auto: no usable CUDA GPU; the int8 model is fastest on CPUs")


def _choose_torch(device: DeviceName, probe: Probe) -> Choice:
    if not probe.torch_installed:
        raise BackendUnavailableError(
            f"KOKORO_BACKEND=torch needs PyTorch, which is not installed: run `{TORCH_INSTALL}`"
        )
    if device == "cuda" and not probe.torch_cuda:
        raise BackendUnavailableError(
            "KOKORO_DEVICE=cuda, but PyTorch sees no CUDA GPU (check the driver, "
            "the container's GPU reservation, and that torch is a CUDA build)"
        )
    if device != "cpu" and probe.torch_cuda:
        return Choice("torch", "cuda", "asked for torch; a CUDA GPU is present")
    return Choice("torch", "cpu", "asked for torch" + ("; no CUDA GPU" if device == "auto" else ""))


def _choose_onnx(device: DeviceName, probe: Probe) -> Choice:
    if device == "cuda" and not probe.onnx_cuda:
        raise BackendUnavailableError(
            "KOKORO_DEVICE=cuda with KOKORO_BACKEND=onnx needs onnxruntime-gpu and a GPU: "
            f"run `{ONNX_GPU_INSTALL}`, and check the driver and GPU reservation"
        )
    if device != "cpu" and probe.onnx_cuda:
        return Choice("onnx", "cuda", "asked for onnx; CUDA provider and GPU present")
    return Choice("onnx", "cpu", "asked for onnx")


def cpu_cores(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """CPUs this process may use: its affinity, capped by a cgroup v2 CPU quota.

    ``os.cpu_count()`` reports the host's CPUs; in a container limited to two
    of sixty-four, sixty-four inference threads would mostly wait.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return cores


def load_backend(
    files: ModelFiles, settings: Settings, probe: Callable[[], Probe] = Probe.detect
) -> Backend:
    """Choose, then load the backend (converting weights for PyTorch on first use)."""
    choice = choose(settings.backend, settings.device, probe())
    threads = settings.onnx_threads or cpu_cores()
    logger.info("backend %s on %s (%s)", choice.backend, choice.device, choice.reason)
    if choice.backend == "onnx":
        from api.backends.onnx import OnnxBackend  # noqa: PLC0415 - loads onnxruntime

        try:
            return OnnxBackend(
                files.model, threads=threads, timed_model=files.timed_model, device=choice.device
            )
        except BackendUnavailableError:
            # ONNX Runtime lists its CUDA provider whenever onnxruntime-gpu is
            # installed; only starting it proves the GPU usable. What auto chose
            # may fall back to the CPU, what the user named may not.
            if choice.device == "cpu" or settings.device == "cuda":
                raise
            logger.warning("CUDA could not start for ONNX Runtime; using the CPU", exc_info=True)
            return OnnxBackend(files.model, threads=threads, timed_model=files.timed_model)
    from api.backends.pytorch import TorchBackend  # noqa: PLC0415 - loads torch

    return TorchBackend(torch_weights(files, settings.torch_weights), choice.device, threads)


def torch_weights(files: ModelFiles, official: Path | None) -> Path:
    """The PyTorch weights to load: the user's file, else the converted model (made once)."""
    if official is not None:
        if not official.is_file():
            raise BackendUnavailableError(f"KOKORO_TORCH_WEIGHTS: {official} is not a file")
        return official
    if not files.torch_weights.exists():
        from api.backends.convert import convert_weights  # noqa: PLC0415

        logger.info("converting %s for PyTorch (once)", files.model.name)
        try:
            for check in convert_weights(files):
                logger.info("conversion check: %s", check)
        except OSError as e:
            raise BackendUnavailableError(
                f"cannot write the converted weights into {files.directory} ({e}); run "
                "`kokoro-server convert-weights` where it is writable (or at image build)"
            ) from e
    return files.torch_weights

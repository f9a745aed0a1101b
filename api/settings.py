"""Service settings, read from the environment (prefix ``KOKORO_``) or a ``.env`` file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


def user_data_dir() -> Path:
    """Per-user directory for the assembled model and user voices (XDG layout)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kokoro-server"


class Settings(BaseSettings):
    """Everything an operator can set; each field maps to ``KOKORO_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="KOKORO_", env_file=".env", extra="ignore", protected_namespaces=()
    )

    host: str = "127.0.0.1"
    """Interface to listen on; use 0.0.0.0 to accept connections from other machines."""

    port: int = Field(default=8880, ge=1, le=65535)
    """TCP port of the HTTP server."""

    model_dir: Path = Field(default_factory=lambda: user_data_dir() / "model")
    """Directory holding the model, vocabulary and built-in voices (assembled on first start)."""

    voices_dir: Path = Field(default_factory=lambda: user_data_dir() / "voices")
    """Directory of user voice packs (``.npy``, one (510, 1, 256) float32 array per file)."""

    default_voice: str = Field(default="jf_alpha", pattern=r"^[a-z0-9_\-]+$")
    """Voice used when a request names none (the CLI's ``say`` default too)."""

    openai_voices: dict[str, str] = Field(default_factory=dict)
    """OpenAI voice name -> voice or blend, as JSON (e.g. ``{"alloy": "af_heart"}``);
    merged over the defaults, which map every OpenAI name to the built-in voices."""

    voice_cache_size: int = Field(default=32, ge=0, le=4096)
    """Blends kept in memory (least recently used dropped first); 0 blends every time."""

    max_voice_file_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, le=1024**3)
    """Largest voice file accepted by upload or import, in bytes."""

    max_input_chars: int = Field(default=100_000, ge=1, le=1_000_000)
    """Longest accepted ``input``, in characters; longer requests get HTTP 413."""

    backend: Literal["auto", "onnx", "torch"] = "auto"
    """Inference backend: ``onnx`` (ONNX Runtime, the int8 model), ``torch`` (PyTorch,
    needs ``uv sync --extra torch``) or ``auto`` (PyTorch on a CUDA GPU, else ONNX)."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Where inference runs; ``auto`` uses a CUDA GPU when the backend can, else the CPU."""

    torch_weights: Path | None = None
    """An official Kokoro-82M ``.pth`` for the torch backend; unset, it uses the bundled
    model's weights, converted once into the model directory."""

    onnx_threads: int = Field(default=0, ge=0, le=256)
    """Threads per inference on the CPU (ONNX Runtime or PyTorch); 0 means one per CPU
    core this process may use (its affinity and cgroup quota)."""

    inference_workers: int = Field(default=1, ge=1, le=64)
    """Chunks synthesized at the same time, across all requests (each uses
    ``onnx_threads`` threads); requests take turns chunk by chunk."""

    log_level: LogLevel = "info"
    """Logging level of the server and its libraries."""

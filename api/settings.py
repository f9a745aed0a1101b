"""Service settings, read from the environment (prefix ``KOKORO_``) or a ``.env`` file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.text.checks import TextLimits

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


def split_list(value: object) -> object:
    """A list setting from the environment: a JSON array, or items separated by commas.

    Blank items are dropped, so ``KOKORO_API_KEYS=""`` means no keys.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        items: list[object] = json.loads(text)  # "[" starts a list, or fails to parse
        return [item for item in items if not (isinstance(item, str) and not item.strip())]
    return [item.strip() for item in text.split(",") if item.strip()]


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

    wyoming_port: int | None = Field(default=None, ge=1, le=65535)
    """TCP port of the Wyoming server for Home Assistant (10200 by convention; off
    when unset, empty or ``off``). It listens on ``host`` too."""

    ws_inactivity_timeout_s: float = Field(default=20.0, gt=0, le=180)
    """Seconds a text-streaming WebSocket may go without a message before the server
    closes it (a client's ``inactivity_timeout`` query parameter may ask for up to 180)."""

    model_dir: Path = Field(default_factory=lambda: user_data_dir() / "model")
    """Directory holding the model, vocabulary and built-in voices (assembled on first start)."""

    voices_dir: Path = Field(default_factory=lambda: user_data_dir() / "voices")
    """Directory of user voice packs (``.npy``, one (510, 1, 256) float32 array per file)."""

    default_voice: str = Field(default="af_heart", max_length=1000, pattern=r"^[a-z0-9_\-+()., ]+$")
    """Voice used when a request names none (the CLI's ``say`` default too): a voice, an
    OpenAI name or a blend, checked at start."""

    openai_voices: dict[str, str] = Field(default_factory=dict)
    """OpenAI voice name -> voice or blend, as JSON (e.g. ``{"alloy": "af_heart"}``);
    merged over the defaults, which map every OpenAI name to the built-in voices."""

    voice_cache_size: int = Field(default=32, ge=0, le=4096)
    """Blends kept in memory (least recently used dropped first); 0 blends every time."""

    max_voice_file_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, le=1024**3)
    """Largest voice file accepted by upload or import, in bytes."""

    max_input_chars: int = Field(default=100_000, ge=1, le=1_000_000)
    """Longest accepted ``input``, in characters; longer requests get HTTP 413."""

    max_pause_s: float = Field(default=60.0, gt=0, le=999)
    """Longest single ``[pause:Ns]`` tag, in seconds; longer ones get HTTP 400."""

    max_total_pause_s: float = Field(default=3600.0, ge=0, le=86_400)
    """Most silence one request may ask for, in seconds: its pause tags and a dialogue's
    gaps together (HTTP 400 beyond), so a few bytes of tags cannot ask for days of audio."""

    max_file_audio_s: float = Field(default=4 * 3600.0, gt=0, le=24 * 3600)
    """Most audio a complete-file response (``stream: false``) may hold, in seconds;
    longer ones stop with HTTP 413 that suggests ``stream: true``. The file is built in a
    temporary file (in ``TMPDIR``) past a few MB, never in memory."""

    audio_cache_mb: int = Field(default=0, ge=0, le=65_536)
    """Memory for finished responses, in MB, so that a repeated request (same text,
    voice, speed, format ...) is answered at once with the same bytes; 0: off."""

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

    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list, max_length=1000)
    """Keys a client must send as ``Authorization: Bearer KEY`` (comma-separated or a JSON
    array); empty, the server is open."""

    public_metrics: bool = False
    """Serve ``/metrics`` without an API key (for a scraper on a private network)."""

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, max_length=1000)
    """Web origins allowed to call the API from a browser (comma-separated, ``*`` for any);
    empty, no CORS headers are sent."""

    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=1024**3)
    """Largest request body, in bytes (HTTP 413 beyond); voice uploads have their own limit."""

    max_queued_requests: int = Field(default=7, ge=0, le=10_000)
    """Synthesis requests admitted beyond ``inference_workers``: with them, the cap on
    requests in progress at once; more get HTTP 429 with Retry-After."""

    capacity_headroom: float = Field(default=0.9, ge=0, le=1)
    """Share of the measured capacity (real-time streams the inference pool can serve,
    from the compute rate learned at run time) that admitted requests may use; beyond
    it a request gets HTTP 429 unless it is short enough to be made from the audio the
    streams in progress hold in hand. 0: admission by the cap alone."""

    request_timeout_s: float = Field(default=8 * 3600.0, ge=0, le=7 * 24 * 3600)
    """Longest a synthesis request may run, in seconds (HTTP 504, or a cut stream); 0: no
    limit. The default outlasts the longest legitimate request (the largest input, read
    slowly, streamed to a player that reads in real time) and still ends a runaway one."""

    shutdown_grace_s: int = Field(default=25, ge=0, le=24 * 3600)
    """On SIGTERM, how long in-flight requests may take to finish before they are cut."""

    @property
    def text_limits(self) -> TextLimits:
        """What one request's text may ask for."""
        return TextLimits(self.max_input_chars, self.max_pause_s, self.max_total_pause_s)

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        return split_list(value)

    @field_validator("wyoming_port", mode="before")
    @classmethod
    def _port_or_off(cls, value: object) -> object:
        """``KOKORO_WYOMING_PORT=""`` (or ``off``) turns off what an image turned on."""
        if isinstance(value, str) and value.strip().lower() in ("", "off", "none"):
            return None
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for key in keys:
            secret = key.get_secret_value()
            # A key travels in an HTTP header: printable ASCII, no spaces.
            if not secret or not all("!" <= char <= "~" for char in secret):
                raise ValueError("an API key must be printable ASCII without spaces")
        return keys

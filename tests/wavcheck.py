"""Helpers for tests that read audio back."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# What each response_format must be served as (OpenAI's and the web's types).
EXPECTED_CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


@dataclass
class WavInfo:
    channels: int
    sample_rate: int
    sample_width: int
    frames: int
    samples: npt.NDArray[np.int16]

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def read_wav(data: bytes) -> WavInfo:
    with wave.open(io.BytesIO(data), "rb") as reader:
        frames = reader.getnframes()
        raw = reader.readframes(frames)
        return WavInfo(
            channels=reader.getnchannels(),
            sample_rate=reader.getframerate(),
            sample_width=reader.getsampwidth(),
            frames=frames,
            samples=np.frombuffer(raw, dtype="<i2"),
        )


def decode(data: bytes) -> tuple[npt.NDArray[np.float32], int]:
    """Decode any container PyAV knows; return mono float32 samples and the rate."""
    import av  # noqa: PLC0415

    chunks = []
    rate = 0
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(audio=0):
            rate = frame.sample_rate
            chunks.append(
                frame.to_ndarray().astype(np.float32).reshape(frame.samples, -1)[:, 0]
                if frame.format.is_packed
                else frame.to_ndarray()[0].astype(np.float32)
            )
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return samples, rate


def decoded_seconds(data: bytes) -> float:
    samples, rate = decode(data)
    return len(samples) / rate

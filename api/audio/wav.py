"""PCM and WAV: the two formats that need no codec."""

from __future__ import annotations

import struct

import numpy as np

from api.backends.base import SAMPLE_RATE, Audio

_UNKNOWN_SIZE = 0xFFFFFFFF


def to_pcm16(audio: Audio) -> bytes:
    """float32 [-1, 1] -> signed 16-bit little-endian samples."""
    clipped = np.clip(audio, -1.0, 1.0)
    return (clipped * 32767.0).round().astype("<i2").tobytes()


def wav_header(data_bytes: int | None, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A 44-byte RIFF/WAVE header for mono 16-bit PCM.

    ``data_bytes=None`` writes the "unknown length" sizes that streaming
    players accept; a complete file carries its true sizes.
    """
    data_size = _UNKNOWN_SIZE if data_bytes is None else data_bytes
    riff_size = _UNKNOWN_SIZE if data_bytes is None else 36 + data_bytes
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        riff_size,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        1,  # mono
        sample_rate,
        sample_rate * 2,
        2,
        16,
        b"data",
        data_size,
    )


def wav_file(audio: Audio, sample_rate: int = SAMPLE_RATE) -> bytes:
    pcm = to_pcm16(audio)
    return wav_header(len(pcm), sample_rate) + pcm

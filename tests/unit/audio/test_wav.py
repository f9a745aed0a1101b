"""16-bit PCM and WAV encoding."""

from __future__ import annotations

import io
import struct
import wave

import numpy as np
import pytest

from api.audio.wav import to_pcm16, wav_file, wav_header
from api.backends.base import SAMPLE_RATE, Audio


def _audio(*samples: float) -> Audio:
    return np.array(samples, dtype=np.float32)


def _samples(pcm: bytes) -> list[int]:
    return [int(sample) for sample in np.frombuffer(pcm, dtype="<i2")]


# --- to_pcm16 -----------------------------------------------------------------------------


def test_pcm16_is_little_endian_two_bytes_per_sample() -> None:
    assert to_pcm16(_audio(1.0, -1.0, 0.0)) == b"\xff\x7f\x01\x80\x00\x00"


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (0.0, 0),
        (1.0, 32767),
        (-1.0, -32767),
        (0.25, 8192),  # 8191.75 rounds up
        (-0.25, -8192),
        (0.7 / 32767, 1),  # rounded to nearest, not truncated toward zero
        (-0.7 / 32767, -1),
        (0.3 / 32767, 0),
    ],
)
def test_pcm16_scales_and_rounds(sample: float, expected: int) -> None:
    assert _samples(to_pcm16(_audio(sample))) == [expected]


@pytest.mark.parametrize(
    ("sample", "expected"),
    [(1.5, 32767), (100.0, 32767), (-1.0001, -32767), (-7.0, -32767)],
)
def test_pcm16_clips_out_of_range_samples(sample: float, expected: int) -> None:
    assert _samples(to_pcm16(_audio(sample))) == [expected]


def test_pcm16_of_no_audio_is_empty() -> None:
    assert to_pcm16(_audio()) == b""


# --- headers ------------------------------------------------------------------------------


def test_header_is_44_bytes_with_true_sizes() -> None:
    header = wav_header(1000)
    assert len(header) == 44
    riff, riff_size, wave_tag = struct.unpack_from("<4sI4s", header, 0)
    data_tag, data_size = struct.unpack_from("<4sI", header, 36)
    assert (riff, wave_tag, data_tag) == (b"RIFF", b"WAVE", b"data")
    assert riff_size == 36 + 1000
    assert data_size == 1000


def test_header_describes_mono_16_bit_pcm() -> None:
    fmt = struct.unpack_from("<4sIHHIIHH", wav_header(0), 12)
    assert fmt == (b"fmt ", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)


def test_streaming_header_has_unknown_sizes() -> None:
    header = wav_header(None)
    assert len(header) == 44
    assert header[4:8] == b"\xff\xff\xff\xff"
    assert header[40:44] == b"\xff\xff\xff\xff"


def test_streaming_header_differs_from_a_sized_one_only_in_sizes() -> None:
    streaming, sized = wav_header(None), wav_header(2)
    assert streaming[:4] + streaming[8:40] == sized[:4] + sized[8:40]


# --- whole files, read back with the standard library -------------------------------------


def test_wav_file_parses_with_the_wave_module() -> None:
    audio = np.linspace(-1.0, 1.0, 2401, dtype=np.float32)
    data = wav_file(audio)

    with wave.open(io.BytesIO(data), "rb") as reader:
        assert reader.getnchannels() == 1
        assert reader.getsampwidth() == 2
        assert reader.getframerate() == SAMPLE_RATE
        assert reader.getcomptype() == "NONE"
        assert reader.getnframes() == 2401
        assert reader.readframes(reader.getnframes()) == to_pcm16(audio)


def test_wav_file_sizes_match_its_length() -> None:
    data = wav_file(np.zeros(10, dtype=np.float32))
    riff_size, data_size = (
        struct.unpack_from("<I", data, 4)[0],
        struct.unpack_from("<I", data, 40)[0],
    )
    assert len(data) == 44 + 20
    assert riff_size == len(data) - 8
    assert data_size == 20


def test_wav_file_honours_a_custom_sample_rate() -> None:
    with wave.open(io.BytesIO(wav_file(_audio(0.1, 0.2), sample_rate=16_000)), "rb") as reader:
        assert reader.getframerate() == 16_000
        assert reader.getnframes() == 2


def test_empty_wav_file_is_a_valid_header() -> None:
    with wave.open(io.BytesIO(wav_file(_audio())), "rb") as reader:
        assert reader.getnframes() == 0

"""StreamingEncoder: bytes as soon as the codec yields them, tails flushed, exact files."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from api.audio.encoder import FORMATS, StreamingEncoder
from api.audio.spool import spooled_file
from tests.wavcheck import EXPECTED_CONTENT_TYPES, decode, read_wav

RATE = 24_000
CODECS = ["mp3", "opus", "aac", "flac"]


def tone(seconds: float, pitch: float = 440.0) -> npt.NDArray[np.float32]:
    t = np.arange(round(seconds * RATE)) / RATE
    return (0.4 * np.sin(2 * np.pi * pitch * t)).astype(np.float32)


def encode_all(
    audio_format: str, chunks: list[npt.NDArray[np.float32]], *, streaming: bool
) -> tuple[list[bytes], bytes]:
    encoder = StreamingEncoder(audio_format, streaming=streaming)
    pieces = [encoder.encode(chunk) for chunk in chunks]
    return pieces, encoder.finalize()


@pytest.mark.parametrize("audio_format", CODECS)
def test_streamed_codec_bytes_leave_with_each_chunk(audio_format: str) -> None:
    pieces, tail = encode_all(audio_format, [tone(1.0)] * 3, streaming=True)
    assert all(pieces), "every one-second chunk should produce bytes at once"
    samples, rate = decode(b"".join(pieces) + tail)
    assert len(samples) / rate == pytest.approx(3.0, rel=0.03)


@pytest.mark.parametrize("audio_format", CODECS)
def test_tail_is_not_lost(audio_format: str) -> None:
    """The last, short chunk must come out whole after finalize (no truncated end)."""
    chunks = [tone(1.0), tone(0.37, pitch=880.0)]
    pieces, tail = encode_all(audio_format, chunks, streaming=True)
    samples, rate = decode(b"".join(pieces) + tail)
    # Codecs may add priming and padding (up to a frame or two), never drop audio.
    assert 1.36 <= len(samples) / rate <= 1.37 + 0.1
    # The end still carries the 880 Hz tone, not silence.
    assert np.abs(samples[-int(0.3 * rate) :]).max() > 0.1


@pytest.mark.parametrize("audio_format", CODECS)
def test_complete_file_is_returned_by_finalize(audio_format: str) -> None:
    pieces, whole = encode_all(audio_format, [tone(0.5)] * 4, streaming=False)
    assert not any(pieces)
    samples, rate = decode(whole)
    assert 1.99 <= len(samples) / rate <= 2.0 + 0.1


@pytest.mark.parametrize("audio_format", [*CODECS, "wav", "pcm"])
def test_complete_file_can_be_written_to_a_temporary_file(audio_format: str) -> None:
    """Server responses are built in a spooled temporary file, not in memory: the file
    holds exactly what ``finalize`` would have returned."""
    _, expected = encode_all(audio_format, [tone(0.5)] * 4, streaming=False)
    file = spooled_file()
    encoder = StreamingEncoder(audio_format, streaming=False, file=file)
    assert not any(encoder.encode(chunk) for chunk in [tone(0.5)] * 4)
    assert encoder.finalize() == b""
    file.seek(0)
    written = file.read()
    if audio_format in CODECS:  # an Ogg stream's serial number is random: compare audio
        assert len(decode(written)[0]) == len(decode(expected)[0])
    else:
        assert written == expected
    if audio_format == "wav":
        assert read_wav(written).frames == 4 * round(0.5 * RATE)


def test_a_file_is_only_for_complete_output() -> None:
    with pytest.raises(ValueError, match="only for a complete"):
        StreamingEncoder("mp3", streaming=True, file=spooled_file())


def test_complete_mp3_has_a_length_header_and_streamed_mp3_has_none() -> None:
    _, whole = encode_all("mp3", [tone(1.0)], streaming=False)
    pieces, tail = encode_all("mp3", [tone(1.0)], streaming=True)
    assert b"Info" in whole[:2000] or b"Xing" in whole[:2000]
    streamed = b"".join(pieces) + tail
    assert b"Info" not in streamed[:2000]
    assert b"Xing" not in streamed[:2000]


def test_wav_streamed_and_complete() -> None:
    pieces, tail = encode_all("wav", [tone(0.5), tone(0.5)], streaming=True)
    streamed = b"".join(pieces) + tail
    assert streamed[4:8] == b"\xff\xff\xff\xff"
    _, whole = encode_all("wav", [tone(0.5), tone(0.5)], streaming=False)
    info = read_wav(whole)
    assert info.frames == RATE
    assert streamed[44:] == whole[44:]


def test_pcm_is_raw_s16le() -> None:
    pieces, tail = encode_all("pcm", [tone(0.25)], streaming=True)
    assert tail == b""
    assert len(pieces[0]) == 0.25 * RATE * 2


def test_empty_stream_still_gives_a_valid_wav_header() -> None:
    encoder = StreamingEncoder("wav", streaming=True)
    assert encoder.finalize()[:4] == b"RIFF"


def test_content_types_and_errors() -> None:
    assert {name: spec.content_type for name, spec in FORMATS.items()} == EXPECTED_CONTENT_TYPES
    with pytest.raises(ValueError, match="unknown audio format"):
        StreamingEncoder("ogg")
    encoder = StreamingEncoder("mp3")
    encoder.finalize()
    with pytest.raises(RuntimeError, match="finalized"):
        encoder.encode(tone(0.1))


def test_close_releases_an_abandoned_stream() -> None:
    encoder = StreamingEncoder("opus")
    encoder.encode(tone(0.5))
    encoder.close()
    assert encoder.finalize() == b""

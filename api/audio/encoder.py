"""Streaming audio encoder: float32 chunks in, container bytes out as soon as they exist.

mp3, opus (in Ogg), aac (ADTS) and flac go through PyAV (FFmpeg in-process,
no binary, no temp files); wav and pcm need no codec.

Two modes:

- ``streaming=True``: bytes are returned from every ``encode`` call as the
  muxer produces them. The sink cannot seek, so no muxer tries to go back and
  patch a header that has already left (mp3's Xing header is switched off;
  FLAC leaves its total-samples field 0, which decoders accept; WAV carries
  "unknown length" sizes).
- ``streaming=False``: everything is written to a seekable file, so headers
  hold their true values (WAV sizes, the FLAC STREAMINFO, an mp3 Xing/Info
  header with the exact length). Given ``file`` (a temporary file that spills
  to disk, for a server's complete responses), the output stays there;
  without it, an in-memory buffer is returned by ``finalize``.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import IO, Any, Literal

import numpy as np

from api.audio.wav import to_pcm16, wav_header
from api.backends.base import SAMPLE_RATE, Audio

logger = logging.getLogger(__name__)

AudioFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]


@dataclass(frozen=True)
class FormatSpec:
    content_type: str
    container: str | None = None
    codec: str | None = None
    bit_rate: int | None = None
    container_options: tuple[tuple[str, str], ...] = ()


FORMATS: dict[str, FormatSpec] = {
    # 64 kbit/s mono is transparent for 24 kHz speech with LAME.
    "mp3": FormatSpec("audio/mpeg", "mp3", "libmp3lame", 64_000),
    # Ogg pages are cut every 100 ms instead of every second, so opus bytes
    # leave as soon as a little audio exists.
    "opus": FormatSpec("audio/ogg", "ogg", "libopus", 32_000, (("page_duration", "100000"),)),
    "aac": FormatSpec("audio/aac", "adts", "aac", 64_000),
    "flac": FormatSpec("audio/flac", "flac", "flac"),
    "wav": FormatSpec("audio/wav"),
    "pcm": FormatSpec("audio/pcm"),
}


class _StreamSink:
    """A write-only, non-seekable file for PyAV: bytes collect until taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class StreamingEncoder:
    """Encode one response: call ``encode`` per chunk, then ``finalize`` once.

    Thread-safe: a response encodes on worker threads, and a client that goes
    away closes the encoder from the event loop, possibly while a chunk is
    still being encoded. Closing FFmpeg's muxer under a running encode crashed
    the process (a segfault, seen in the disconnect test on a loaded machine),
    so every call holds one lock and ``close`` waits for the chunk in progress.
    """

    def __init__(
        self,
        audio_format: str,
        *,
        streaming: bool = True,
        sample_rate: int = SAMPLE_RATE,
        file: IO[bytes] | None = None,
        bit_rate: int | None = None,
    ) -> None:
        if file is not None and streaming:
            raise ValueError("a file is only for a complete (streaming=False) output")
        if audio_format not in FORMATS:
            raise ValueError(f"unknown audio format {audio_format!r}")
        self.audio_format = audio_format
        self.content_type = FORMATS[audio_format].content_type
        self.streaming = streaming
        self.sample_rate = sample_rate
        self._samples = 0
        self._finished = False
        self._lock = threading.Lock()
        self._pcm_parts: list[bytes] = []  # non-streamed wav/pcm without a file
        self._file = file
        self._bit_rate = bit_rate or FORMATS[audio_format].bit_rate
        self._header_sent = False
        self._container: Any = None
        self._stream: Any = None
        self._sink: _StreamSink | IO[bytes] | None = None
        if FORMATS[audio_format].codec is not None:
            self._open_container(FORMATS[audio_format])

    def _open_container(self, spec: FormatSpec) -> None:
        import av  # noqa: PLC0415 - FFmpeg loads only when a codec format is used

        options = dict(spec.container_options)
        if self.streaming:
            options["flush_packets"] = "1"  # hand every packet over at once
            if spec.container == "mp3":
                # The Xing header is written at close by seeking back to the
                # start, which has already been sent: a streamed mp3 goes without.
                options["write_xing"] = "0"
            self._sink = _StreamSink()
        else:
            self._sink = io.BytesIO() if self._file is None else self._file
        self._container = av.open(
            self._sink, mode="w", format=spec.container, options=options, buffer_size=4096
        )
        self._stream = self._container.add_stream(spec.codec, rate=self.sample_rate, layout="mono")
        if self._bit_rate:
            self._stream.bit_rate = self._bit_rate
        self._time_base = Fraction(1, self.sample_rate)

    def _take(self) -> bytes:
        return self._sink.take() if isinstance(self._sink, _StreamSink) else b""

    def _write_pcm(self, pcm: bytes) -> None:
        """Non-streamed wav/pcm samples: to the file (after a WAV header whose sizes
        ``finalize`` fills in), or kept for ``finalize``."""
        if self._file is None:
            self._pcm_parts.append(pcm)
            return
        if self.audio_format == "wav" and not self._header_sent:
            self._header_sent = True
            self._file.write(wav_header(0, self.sample_rate))
        self._file.write(pcm)

    def _encode_frame(self, audio: Audio | None) -> None:
        import av  # noqa: PLC0415

        frame = None
        if audio is not None:
            samples = np.ascontiguousarray(np.clip(audio, -1.0, 1.0), dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
            frame.sample_rate = self.sample_rate
            frame.time_base = self._time_base
            frame.pts = self._samples
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def encode(self, audio: Audio) -> bytes:
        """Add a chunk of float32 samples; return the bytes that are ready now."""
        with self._lock:
            return self._encode(audio)

    def _encode(self, audio: Audio) -> bytes:
        if self._finished:
            raise RuntimeError("encoder already finalized")
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            return b""
        if self._container is not None:
            self._encode_frame(audio)
            self._samples += audio.size
            return self._take()
        self._samples += audio.size
        pcm = to_pcm16(audio)
        if not self.streaming:
            self._write_pcm(pcm)
            return b""
        if self.audio_format == "wav" and not self._header_sent:
            self._header_sent = True
            return wav_header(None, self.sample_rate) + pcm
        return pcm

    def finalize(self) -> bytes:
        """Flush every codec and muxer tail; return the last bytes (the whole file
        when not streaming)."""
        with self._lock:
            return self._finalize()

    def _finalize(self) -> bytes:
        if self._finished:
            return b""
        self._finished = True
        if self._container is not None:
            self._encode_frame(None)
            self._container.close()
            if isinstance(self._sink, io.BytesIO):
                return self._sink.getvalue()
            return self._take()
        return self._finalize_pcm()

    def _finalize_pcm(self) -> bytes:
        if self._file is not None:
            if self.audio_format == "wav":
                self._file.seek(0)
                self._file.write(wav_header(self._samples * 2, self.sample_rate))
                self._file.seek(0, io.SEEK_END)
            return b""
        if self.streaming:
            if self.audio_format == "wav" and not self._header_sent:
                return wav_header(None, self.sample_rate)  # an empty stream is still a WAV
            return b""
        pcm = b"".join(self._pcm_parts)
        self._pcm_parts.clear()
        return wav_header(len(pcm), self.sample_rate) + pcm if self.audio_format == "wav" else pcm

    @property
    def seconds(self) -> float:
        """Audio encoded so far, in seconds."""
        return self._samples / self.sample_rate

    def close(self) -> None:
        """Release FFmpeg resources without producing output (an abandoned stream)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._container is not None and not self._finished:
            self._finished = True
            try:
                self._container.close()
            except Exception:
                logger.debug(
                    "closing an abandoned %s encoder failed", self.audio_format, exc_info=True
                )

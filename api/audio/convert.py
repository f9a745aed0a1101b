"""Audio at another sample rate or in telephony's 8-bit codecs, streamed.

The model speaks 24 kHz float samples; the text-streaming socket offers what
voice-agent and telephony stacks ask for: 16-bit PCM at 8 to 48 kHz, G.711
mu-law and A-law at 8 kHz, and mp3 at its usual rates and bitrates. PyAV
(FFmpeg's resampler and codecs, in process) does the work; one
``ConvertingEncoder`` per stream keeps the resampler's state, so chunk edges
leave no clicks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from api.audio.encoder import StreamingEncoder
from api.audio.wav import to_pcm16
from api.backends.base import SAMPLE_RATE, Audio

Codec = Literal["pcm", "ulaw", "alaw", "mp3"]

_G711 = {"ulaw": "pcm_mulaw", "alaw": "pcm_alaw"}


@dataclass(frozen=True)
class Conversion:
    codec: Codec
    sample_rate: int
    bit_rate: int | None = None
    """For mp3, bits per second."""


class ConvertingEncoder:
    """``encode`` each 24 kHz chunk, then ``finalize``: bytes in ``conversion``'s form
    (raw samples for pcm, ulaw and alaw; an mp3 stream for mp3)."""

    def __init__(self, conversion: Conversion) -> None:
        import av  # noqa: PLC0415 - FFmpeg loads only when a conversion is asked for

        self.conversion = conversion
        self._av = av
        rate = conversion.sample_rate
        self._resampler: Any = None
        if rate != SAMPLE_RATE:
            out_format = "flt" if conversion.codec == "mp3" else "s16"
            self._resampler = av.AudioResampler(format=out_format, layout="mono", rate=rate)
        self._mp3: StreamingEncoder | None = None
        self._g711: Any = None
        if conversion.codec == "mp3":
            self._mp3 = StreamingEncoder(
                "mp3", sample_rate=rate, bit_rate=conversion.bit_rate or None
            )
        elif conversion.codec in _G711:
            self._g711 = av.CodecContext.create(_G711[conversion.codec], "w")
            self._g711.sample_rate = rate
            self._g711.layout = "mono"
            self._g711.format = "s16"
            self._g711.open()
        self._pts = 0

    def _resampled(self, audio: Audio | None) -> list[Any]:
        """Frames at the output rate (``None`` flushes the resampler's tail)."""
        frame = None
        if audio is not None:
            samples = np.ascontiguousarray(np.clip(audio, -1.0, 1.0), dtype=np.float32)
            frame = self._av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = self._pts
            self._pts += samples.size
        return list(self._resampler.resample(frame))

    def _pcm_of(self, frames: list[Any]) -> bytes:
        return b"".join(frame.to_ndarray().astype(np.int16).tobytes() for frame in frames)

    def _coded(self, pcm: bytes) -> bytes:
        if self._g711 is None or not pcm:
            return pcm
        samples = np.frombuffer(pcm, dtype=np.int16)
        frame = self._av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.sample_rate = self.conversion.sample_rate
        return b"".join(bytes(packet) for packet in self._g711.encode(frame))

    def encode(self, audio: Audio) -> bytes:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            return b""
        if self._mp3 is not None:
            if self._resampler is None:
                return self._mp3.encode(audio)
            frames = self._resampled(audio)
            return b"".join(self._mp3.encode(frame.to_ndarray().reshape(-1)) for frame in frames)
        if self._resampler is None:
            return self._coded(to_pcm16(audio))
        return self._coded(self._pcm_of(self._resampled(audio)))

    def finalize(self) -> bytes:
        """The tail: the resampler's last samples, the mp3 encoder's last frames."""
        tail = self._resampled(None) if self._resampler is not None else []
        if self._mp3 is not None:
            out = b"".join(self._mp3.encode(frame.to_ndarray().reshape(-1)) for frame in tail)
            return out + self._mp3.finalize()
        return self._coded(self._pcm_of(tail))

    def close(self) -> None:
        if self._mp3 is not None:
            self._mp3.close()

"""Check that a file is decodable speech audio: ``python docker/check_audio.py FILE FORMAT``.

Run from the repository root in the project's environment (it decodes with
the tests' PyAV helper): ``PYTHONPATH=. uv run python docker/check_audio.py``.
FORMAT (mp3 or wav) must match the file's signature, and the whole file must
decode to at least half a second of 24 kHz audio that is not all silence.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tests.wavcheck import decode

SAMPLE_RATE = 24_000
MIN_SECONDS = 0.5


def has_signature(data: bytes, audio_format: str) -> bool:
    if audio_format == "wav":
        return data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    # mp3: an ID3 tag or an MPEG audio frame header (11 sync bits) first.
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def main(argv: list[str]) -> int:
    path, audio_format = Path(argv[0]), argv[1]
    data = path.read_bytes()
    if not has_signature(data, audio_format):
        print(f"{path}: not a {audio_format} file (starts {data[:12]!r})", file=sys.stderr)
        return 1
    samples, rate = decode(data)
    seconds = len(samples) / rate if rate else 0.0
    if rate != SAMPLE_RATE or seconds < MIN_SECONDS or not np.abs(samples).max(initial=0) > 0:
        print(f"{path}: {seconds:.2f} s at {rate} Hz, or silent: not speech", file=sys.stderr)
        return 1
    print(f"{path}: {audio_format}, {seconds:.2f} s of {rate} Hz audio")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Repeats with the audio cache on: the first request against the same request again.

Run against a server started with the cache on::

    KOKORO_AUDIO_CACHE_MB=64 uv run kokoro-server serve &
    uv run --group dev python -m bench.repeats --url http://127.0.0.1:8880

Each request is sent three times; the first is computed, the others should be
answered from the cache (``X-Cache: hit``) with the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import time

import httpx

from bench.latency import machine
from bench.texts import PARAGRAPH

CASES = [
    ("one line, mp3 stream", "The front door is open.", "mp3", True),
    ("one line, complete wav", "The front door is open.", "wav", False),
    ("paragraph, mp3 stream", PARAGRAPH, "mp3", True),
]


def timed(
    http: httpx.Client, text: str, audio_format: str, stream: bool
) -> tuple[float, float, str, str]:
    """First byte and whole response in seconds, the X-Cache header, the body's digest."""
    body = {"input": text, "voice": "af_heart", "response_format": audio_format, "stream": stream}
    started = time.perf_counter()
    first: float | None = None
    digest = hashlib.sha256()
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            first = first if first is not None else time.perf_counter() - started
            digest.update(chunk)
    total = time.perf_counter() - started
    return first or total, total, response.headers.get("x-cache", "-"), digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8880")
    args = parser.parse_args()
    print(f"{machine()}; {args.url}")
    print("| request | first: first byte / whole | repeats: first byte / whole | same bytes |")
    print("| --- | ---: | ---: | --- |")
    with httpx.Client(base_url=args.url, timeout=300) as http:
        for label, text, audio_format, stream in CASES:
            runs = [timed(http, text, audio_format, stream) for _ in range(3)]
            first, repeats = runs[0], runs[1:]
            cached = all(run[2] == "hit" for run in repeats)
            repeat = " ".join(f"{r[0]:.3f} / {r[1]:.3f} s" for r in repeats)
            same = len({run[3] for run in runs}) == 1
            print(
                f"| {label} | {first[0]:.3f} / {first[1]:.3f} s | {repeat}"
                f"{'' if cached else ' (not from the cache)'} | {'yes' if same else 'NO'} |"
            )


if __name__ == "__main__":
    main()

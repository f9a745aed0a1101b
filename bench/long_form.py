"""Long form: a 20,000-character text starts as fast as a short one, and finishes.

Run against a running server (``uv run kokoro-server serve``)::

    uv run python -m bench.long_form --url http://127.0.0.1:8880

Streams the short paragraph and then the long text (mp3), printing time to
first byte for each and, for the long text, the total time, audio length and
real-time factor.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.texts import PARAGRAPH, long_text


async def stream(url: str, text: str) -> tuple[float, float, int]:
    body = {"input": text, "voice": "jf_alpha", "response_format": "pcm", "stream": True}
    started = time.perf_counter()
    first = None
    size = 0
    async with (
        httpx.AsyncClient(base_url=url, timeout=3600) as http,
        http.stream("POST", "/v1/audio/speech", json=body) as response,
    ):
        response.raise_for_status()
        async for piece in response.aiter_raw():
            if piece and first is None:
                first = time.perf_counter() - started
            size += len(piece)
    return first or 0.0, time.perf_counter() - started, size


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8880")
    parser.add_argument("--characters", type=int, default=20_000)
    args = parser.parse_args()
    text = long_text(args.characters)
    short_first, short_total, _ = await stream(args.url, PARAGRAPH)
    long_first, long_total, size = await stream(args.url, text)
    seconds = size / 2 / 24_000
    print(
        f"short ({len(PARAGRAPH)} chars): first byte {short_first:.2f} s, total {short_total:.2f} s"
    )
    print(
        f"long ({len(text)} chars): first byte {long_first:.2f} s, total {long_total:.1f} s, "
        f"{seconds:.0f} s of audio, real-time factor {long_total / seconds:.3f}"
    )


if __name__ == "__main__":
    asyncio.run(main())

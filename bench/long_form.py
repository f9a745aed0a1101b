"""Long form: a long text starts as fast as a short one, streams to the end in
constant memory, and finishes.

Run against a running server (``uv run kokoro-server serve``)::

    uv run --group dev python -m bench.long_form --url http://127.0.0.1:8880
    uv run --group dev python -m bench.long_form --minutes 90 --server-pid PID  # 90 min of speech

Streams the short paragraph and then the long text (raw pcm, so the audio is
counted exactly), printing time to first byte for each and, for the long text,
the total time, audio length and real-time factor. With ``--server-pid`` it
also reads the server's resident memory (current and peak, from /proc) each
time the received audio passes a milestone (10, 45 and 90 minutes by default).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import httpx

from bench.texts import PARAGRAPH, long_text

BYTES_PER_SECOND = 2 * 24_000
# This text speaks at about 1,045 characters a minute (20,055 characters gave
# 1151 s); ask for a little more so that the last milestone is reached.
CHARACTERS_PER_MINUTE = 1_100


def memory_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of ``pid`` in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def stream(
    url: str, text: str, pid: int | None = None, milestones: tuple[float, ...] = ()
) -> tuple[float, float, int]:
    body = {"input": text, "voice": "af_heart", "response_format": "pcm", "stream": True}
    started = time.perf_counter()
    first = None
    size = 0
    pending = sorted(milestones)
    async with (
        httpx.AsyncClient(base_url=url, timeout=7200) as http,
        http.stream("POST", "/v1/audio/speech", json=body) as response,
    ):
        response.raise_for_status()
        async for piece in response.aiter_raw():
            if piece and first is None:
                first = time.perf_counter() - started
            size += len(piece)
            minutes = size / BYTES_PER_SECOND / 60
            while pending and minutes >= pending[0]:
                mark = pending.pop(0)
                elapsed = time.perf_counter() - started
                line = f"  {mark:g} min of audio after {elapsed:.0f} s"
                if pid is not None:
                    rss, peak = memory_mib(pid)
                    line += f": server RSS {rss:.0f} MiB, peak {peak:.0f} MiB"
                print(line, flush=True)
    return first or 0.0, time.perf_counter() - started, size


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8880")
    parser.add_argument("--characters", type=int, default=20_000)
    parser.add_argument(
        "--minutes", type=float, help="aim for this much speech instead of --characters"
    )
    parser.add_argument("--server-pid", type=int, help="report this process's memory")
    parser.add_argument("--milestones", default="10,45,90", help="minutes of audio")
    args = parser.parse_args()
    characters = int(args.minutes * CHARACTERS_PER_MINUTE) if args.minutes else args.characters
    text = long_text(characters)
    milestones = tuple(float(m) for m in args.milestones.split(","))
    short_first, short_total, _ = await stream(args.url, PARAGRAPH)
    short = f"short ({len(PARAGRAPH)} chars): first byte {short_first:.2f} s"
    print(f"{short}, total {short_total:.2f} s", flush=True)
    if args.server_pid:
        rss, peak = memory_mib(args.server_pid)
        print(f"  server RSS {rss:.0f} MiB, peak {peak:.0f} MiB after the short text", flush=True)
    long_first, long_total, size = await stream(args.url, text, args.server_pid, milestones)
    seconds = size / BYTES_PER_SECOND
    print(
        f"long ({len(text)} chars): first byte {long_first:.2f} s, total {long_total:.1f} s, "
        f"{seconds:.0f} s of audio, real-time factor {long_total / seconds:.3f}"
    )


if __name__ == "__main__":
    asyncio.run(main())

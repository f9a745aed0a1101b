"""Time to first byte and total time per format, for 1, 2 and 4 concurrent clients.

Run against a running server (``uv run kokoro-server serve``)::

    uv run --group dev python -m bench.latency --url http://127.0.0.1:8880 --markdown out.md

Each client streams the 4-sentence paragraph in ``bench/texts.py``; with N
clients, N identical requests start together. Figures are medians over
``--rounds`` rounds (each round: every client once).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.texts import PARAGRAPH

FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]


@dataclass
class Sample:
    first_byte: float
    total: float
    size: int


async def one_request(http: httpx.AsyncClient, audio_format: str, voice: str) -> Sample:
    body = {
        "model": "kokoro",
        "input": PARAGRAPH,
        "voice": voice,
        "response_format": audio_format,
        "stream": True,
    }
    started = time.perf_counter()
    first_byte = None
    size = 0
    async with http.stream("POST", "/v1/audio/speech", json=body) as response:
        response.raise_for_status()
        async for piece in response.aiter_raw():
            if piece and first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(piece)
    total = time.perf_counter() - started
    return Sample(first_byte if first_byte is not None else total, total, size)


async def measure(
    url: str, audio_format: str, clients: int, rounds: int, voice: str
) -> list[Sample]:
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as http:
        await one_request(http, audio_format, voice)  # warm the format's codec
        for _ in range(rounds):
            samples += await asyncio.gather(
                *(one_request(http, audio_format, voice) for _ in range(clients))
            )
    return samples


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process and all its threads, from /proc."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int | None, field: str = "VmHWM") -> float:
    """A process's memory from /proc: its peak RSS (VmHWM) or its RSS now (VmRSS)."""
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def audio_seconds(url: str, voice: str) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        body = {"input": PARAGRAPH, "voice": voice, "response_format": "pcm"}
        response = await http.post("/v1/audio/speech", json=body)
        response.raise_for_status()
        return len(response.content) / 2 / 24_000


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8880")
    parser.add_argument("--formats", nargs="+", default=FORMATS, choices=FORMATS)
    parser.add_argument("--clients", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--voice", default="af_heart")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--server-pid", type=int, help="server process id: adds its CPU use and peak RSS"
    )
    args = parser.parse_args()

    seconds = await audio_seconds(args.url, args.voice)
    lines = [
        f"Paragraph: {len(PARAGRAPH)} characters, {seconds:.1f} s of audio; "
        f"{args.rounds} rounds; medians. Machine: {machine()}.",
        "",
        "| format | clients | first byte (s) | total (s) | first byte / total "
        "| real-time factor | server CPU (cores busy) | server peak RSS (MiB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    print("\n".join(lines), flush=True)
    for audio_format in args.formats:
        for clients in args.clients:
            cpu_before, wall_before = cpu_seconds(args.server_pid), time.perf_counter()
            samples = await measure(args.url, audio_format, clients, args.rounds, args.voice)
            busy = (cpu_seconds(args.server_pid) - cpu_before) / (time.perf_counter() - wall_before)
            first = statistics.median(s.first_byte for s in samples)
            total = statistics.median(s.total for s in samples)
            row = (
                f"| {audio_format} | {clients} | {first:.2f} | {total:.2f} | "
                f"{first / total:.0%} | {total / seconds:.3f} | {busy:.2f} | "
                f"{rss_mib(args.server_pid):.0f} |"
            )
            lines.append(row)
            print(row, flush=True)
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    asyncio.run(main())

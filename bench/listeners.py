"""Listeners: clients that play each stream in real time from its first byte.

Run against a running server::

    uv run --group dev python -m bench.listeners --url http://127.0.0.1:8880 --markdown l.md

Each client streams the paragraph of bench/texts.py (about 18.6 s of speech) as pcm and plays it
as a player would: playback starts with the first byte and runs at real time;
when the audio received so far runs out, the listener hears nothing (an
underrun) until more arrives, and playback resumes from there. Scenarios: 1
client; 4 clients at once; a short request sent while 3 long streams play (3 s
after they started); 8 clients at once, where each one refused waits as its
``Retry-After`` says and tries once more. Per scenario: first audio (median and
worst), underruns (how many, and their total length on the worst stream),
429s, and with ``--server-pid`` the server's peak RSS so far (VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.latency import machine
from bench.report import publish
from bench.texts import PARAGRAPH

BYTES_PER_SECOND = 24_000 * 2
SHORT = "Turn left at the next corner."


@dataclass
class Listening:
    status: int = 0
    first_audio_s: float | None = None
    underruns: int = 0
    silent_s: float = 0.0
    audio_s: float = 0.0
    done_s: float = 0.0
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    retry_after_s: int | None = None
    retried: Listening | None = None
    """The second try of a refused request, made after its Retry-After."""

    def play(self) -> None:
        """Replay the arrivals as a player would, counting the moments it runs dry."""
        if not self.arrivals:
            return
        self.first_audio_s = self.arrivals[0][0]
        runs_out = self.first_audio_s  # when the audio received so far has been played
        for at, size in self.arrivals:
            if at > runs_out + 0.001:  # a gap a listener hears (1 ms of slack for timing)
                self.underruns += 1
                self.silent_s += at - runs_out
                runs_out = at
            runs_out += size / BYTES_PER_SECOND
            self.audio_s += size / BYTES_PER_SECOND


async def listen(
    http: httpx.AsyncClient, text: str, started: float, *, retry: bool = False
) -> Listening:
    listening = Listening()
    body = {"input": text, "voice": "af_heart", "response_format": "pcm", "stream": True}
    async with http.stream("POST", "/v1/audio/speech", json=body) as response:
        listening.status = response.status_code
        if response.status_code == 429:
            listening.retry_after_s = int(response.headers["retry-after"])
        async for piece in response.aiter_raw():
            if response.status_code == 200 and piece:
                listening.arrivals.append((time.perf_counter() - started, len(piece)))
    listening.done_s = time.perf_counter() - started
    listening.play()
    if retry and listening.retry_after_s is not None:
        await asyncio.sleep(listening.retry_after_s)
        listening.retried = await listen(http, text, time.perf_counter())
    return listening


async def scenario(
    url: str, texts: list[tuple[float, str]], *, retry: bool = False
) -> list[Listening]:
    """Each (delay, text) listened to from ``delay`` seconds after the start."""
    async with httpx.AsyncClient(
        base_url=url, timeout=300, limits=httpx.Limits(max_connections=16)
    ) as http:

        async def later(delay: float, text: str) -> Listening:
            await asyncio.sleep(delay)
            return await listen(http, text, time.perf_counter(), retry=retry)

        return list(await asyncio.gather(*(later(d, t) for d, t in texts)))


def peak_rss_mib(pid: int | None) -> str:
    if pid is None:
        return "-"
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return f"{int(line.split()[1]) / 1024:.0f}"
    return "?"


def _median_and_worst(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.2f} / {max(seconds):.2f} s" if seconds else "-"


def row(name: str, results: list[Listening], pid: int | None) -> str:
    served = [r for r in results if r.status == 200]
    refused = [r for r in results if r.status == 429]
    retried = [r.retried for r in refused if r.retried is not None]
    retry_note = (
        f"; after Retry-After ({', '.join(str(r.retry_after_s) for r in refused)} s) "
        f"{sum(r.status == 200 for r in retried)} of {len(retried)} served"
        if retried
        else ""
    )
    firsts = [r.first_audio_s for r in served if r.first_audio_s is not None]
    worst = max(served, key=lambda r: r.silent_s, default=None)
    return (
        f"| {name} | {len(served)} of {len(results)} ({len(refused)} got 429{retry_note}) | "
        f"{_median_and_worst(firsts)} | "
        f"{sum(r.underruns for r in served)} | "
        f"{worst.silent_s if worst else 0:.2f} s | "
        f"{max((r.done_s for r in served), default=0):.2f} s | {peak_rss_mib(pid)} |"
    )


async def run(url: str, pid: int | None) -> list[str]:
    await scenario(url, [(0.0, SHORT)])  # warm-up
    await asyncio.sleep(1)
    short = await scenario(url, [(0.0, SHORT)])
    one = await scenario(url, [(0.0, PARAGRAPH)])
    rows = [row("1 client, one line", short, pid), row("1 client, paragraph", one, pid)]
    four = await scenario(url, [(0.0, PARAGRAPH)] * 4)
    rows.append(row("4 clients at once, paragraph", four, pid))
    mixed = await scenario(url, [(0.0, PARAGRAPH)] * 3 + [(3.0, SHORT)])
    rows.append(row("3 paragraphs + a short request 3 s later (all)", mixed, pid))
    rows.append(row("... the short request alone", mixed[3:], pid))
    eight = await scenario(url, [(0.0, PARAGRAPH)] * 8, retry=True)
    rows.append(row("8 clients at once, paragraph (first tries)", eight, pid))
    again = [r.retried for r in eight if r.retried is not None]
    if again:
        rows.append(row("... the second tries of those refused", again, pid))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8880")
    parser.add_argument("--label", default="", help="a name for this run in the table's title")
    parser.add_argument("--markdown", type=Path, help="append the table to this file")
    parser.add_argument("--server-pid", type=int, help="the server's process, for its peak RSS")
    args = parser.parse_args()
    rows = asyncio.run(run(args.url, args.server_pid))
    lines = [
        f"### Listeners {args.label}(bench/listeners.py)",
        "",
        f"{machine()}; {args.url}; pcm streams of the paragraph of bench/texts.py "
        "(about 18.6 s) with af_heart.",
        "",
        "| scenario | served | first audio median / worst | underruns | silent on the worst "
        "stream | last stream done | server peak RSS (MiB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
    ]
    publish(lines, args.markdown)


if __name__ == "__main__":
    main()

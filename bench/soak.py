"""Soak: N clients for M minutes against a running server, then what broke and what leaked.

Run against a running server (``uv run kokoro-server serve``)::

    uv run --group dev python -m bench.soak --url http://127.0.0.1:8880 --clients 8 --minutes 10 \\
        --server-pid "$(pgrep -f 'bin/kokoro-server serve')" --markdown soak.md

Each client loops: a text (a sentence, the paragraph or two paragraphs), a
format, streamed or complete (a few as SSE), and for a fraction of the
streams it hangs up after the first audio. A 429 is the server shedding load
on purpose: the client waits for its ``Retry-After`` and goes on. Every few
seconds the server's RSS (from /proc, given ``--server-pid``) and its
in-flight requests and queue depth (from /metrics) are sampled. At the end,
after the clients stop, in-flight must fall back to 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.latency import machine, rss_mib
from bench.texts import PARAGRAPH

FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
TEXTS = ["Thank you, that is all for today.", PARAGRAPH, f"{PARAGRAPH} {PARAGRAPH}"]


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    first_byte: list[float] = field(default_factory=list)
    stream_total: list[float] = field(default_factory=list)
    complete_total: list[float] = field(default_factory=list)


@dataclass
class Sample:
    at: float
    rss_mib: float
    in_flight: float
    queue_depth: float
    load: float


@dataclass
class Plan:
    body: dict[str, object]
    kind: str
    """stream, complete, sse or hang-up."""


def plan(rng: random.Random, hang_up: float) -> Plan:
    body: dict[str, object] = {
        "model": "tts-1",
        "input": rng.choice(TEXTS),
        "voice": rng.choice(["af_heart", "am_michael", "alloy"]),
        "response_format": rng.choice(FORMATS),
    }
    roll = rng.random()
    if roll < 0.1:
        return Plan({**body, "stream_format": "sse"}, "sse")
    if roll < 0.45:
        return Plan({**body, "stream": False}, "complete")
    return Plan({**body, "stream": True}, "hang-up" if rng.random() < hang_up else "stream")


async def one_request(http: httpx.AsyncClient, job: Plan, tally: Tally) -> float:
    """Run one request; return how long to wait before the next (a 429's Retry-After)."""
    started = time.perf_counter()
    first: float | None = None
    size = 0
    async with http.stream("POST", "/v1/audio/speech", json=job.body) as response:
        if response.status_code == 429:
            await response.aread()
            tally.outcomes["429 (shed on purpose)"] += 1
            return float(response.headers.get("retry-after", "1"))
        if response.status_code != 200:
            await response.aread()
            tally.errors[f"HTTP {response.status_code}"] += 1
            return 0.0
        async for piece in response.aiter_raw():
            if piece and first is None:
                first = time.perf_counter() - started
                if job.kind == "hang-up":
                    break  # leaving the block closes the connection mid-stream
            size += len(piece)
    total = time.perf_counter() - started
    if job.kind == "hang-up":
        tally.outcomes["hung up after the first audio"] += 1
        return 0.0
    if size == 0:
        tally.errors["empty response"] += 1
        return 0.0
    tally.outcomes[f"{job.kind}: complete audio"] += 1
    if job.kind == "complete":
        tally.complete_total.append(total)
    elif first is not None:
        tally.first_byte.append(first)
        tally.stream_total.append(total)
    return 0.0


async def client(
    http: httpx.AsyncClient, seed: int, deadline: float, hang_up: float, tally: Tally
) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        try:
            wait = await one_request(http, plan(rng, hang_up), tally)
        except httpx.HTTPError as e:
            tally.errors[type(e).__name__] += 1
            wait = 1.0
        await asyncio.sleep(wait + rng.uniform(0, 0.5))


async def scrape(http: httpx.AsyncClient) -> dict[str, float]:
    response = await http.get("/metrics")
    response.raise_for_status()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if not sample.labels
    }


async def sample(http: httpx.AsyncClient, pid: int | None, started: float) -> Sample:
    metrics = await scrape(http)
    return Sample(
        at=time.monotonic() - started,
        rss_mib=rss_mib(pid, "VmRSS"),
        in_flight=metrics.get("kokoro_requests_in_flight", float("nan")),
        queue_depth=metrics.get("kokoro_queue_depth", float("nan")),
        load=os.getloadavg()[0],
    )


async def sampler(
    http: httpx.AsyncClient, pid: int | None, started: float, every: float, into: list[Sample]
) -> None:
    while True:
        into.append(await sample(http, pid, started))
        await asyncio.sleep(every)


def percentiles(values: list[float]) -> str:
    if not values:
        return "- | - | -"
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return f"{at(0.5):.2f} | {at(0.9):.2f} | {at(0.99):.2f}"


def report(
    args: argparse.Namespace,
    *,
    tally: Tally,
    samples: list[Sample],
    final: Sample,
    audio_s: float,
    load_before: tuple[float, float, float],
) -> list[str]:
    warm = next((s for s in samples if s.at >= args.warmup_s), samples[-1])
    change = (final.rss_mib - warm.rss_mib) / warm.rss_mib if warm.rss_mib else float("nan")
    requests = sum(tally.outcomes.values()) + sum(tally.errors.values())
    lines = [
        f"{args.clients} clients for {args.minutes:g} min against {args.url}; {machine()}; "
        f"load average before: {' / '.join(f'{x:.2f}' for x in load_before)} (1/5/15 min), "
        f"during: {statistics.mean(s.load for s in samples):.2f} (mean of 1-min samples).",
        "",
        "| outcome | requests |",
        "| --- | ---: |",
        *(f"| {name} | {count} |" for name, count in sorted(tally.outcomes.items())),
        *(f"| error: {name} | {count} |" for name, count in sorted(tally.errors.items())),
        f"| **all** | {requests} |",
        "",
        "| seconds | p50 | p90 | p99 |",
        "| --- | ---: | ---: | ---: |",
        f"| stream: first audio | {percentiles(tally.first_byte)} |",
        f"| stream: whole response | {percentiles(tally.stream_total)} |",
        f"| complete file | {percentiles(tally.complete_total)} |",
        "",
        f"Audio produced: {audio_s:.0f} s in {args.minutes * 60:.0f} s. "
        f"In flight: at most {max(s.in_flight for s in samples):.0f}, "
        f"{final.in_flight:.0f} after the clients stopped (queue depth {final.queue_depth:.0f}). "
        f"Server RSS: {warm.rss_mib:.0f} MiB after warm-up ({args.warmup_s:.0f} s), "
        f"{max(s.rss_mib for s in samples):.0f} MiB at most, {final.rss_mib:.0f} MiB at the end "
        f"({change:+.1%}).",
        "",
        "| minute | RSS (MiB) | in flight | queue depth | load |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for minute in range(int(args.minutes) + 1):
        near = min(samples, key=lambda s: abs(s.at - minute * 60))
        lines.append(
            f"| {minute} | {near.rss_mib:.0f} | {near.in_flight:.0f} | "
            f"{near.queue_depth:.0f} | {near.load:.2f} |"
        )
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8880")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--hang-up", type=float, default=0.2, help="share of streams cut short")
    parser.add_argument("--warmup-s", type=float, default=60, help="RSS baseline after this")
    parser.add_argument("--sample-s", type=float, default=5)
    parser.add_argument("--server-pid", type=int, help="server process id, for its RSS")
    parser.add_argument("--api-key", help="sent as Authorization: Bearer")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--markdown", type=Path, help="also write the summary to this file")
    args = parser.parse_args()

    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    limits = httpx.Limits(max_connections=args.clients + 2)
    timeout = httpx.Timeout(600, connect=10)
    tally = Tally()
    samples: list[Sample] = []
    load_before = os.getloadavg()
    async with httpx.AsyncClient(
        base_url=args.url, headers=headers, limits=limits, timeout=timeout
    ) as http:
        audio_before = (await scrape(http)).get("kokoro_audio_seconds_total", 0.0)
        started = time.monotonic()
        watcher = asyncio.create_task(
            sampler(http, args.server_pid, started, args.sample_s, samples)
        )
        deadline = started + args.minutes * 60
        await asyncio.gather(
            *(
                client(http, args.seed + i, deadline, args.hang_up, tally)
                for i in range(args.clients)
            )
        )
        watcher.cancel()
        # Streams cut short must give their slots back: wait for in-flight to settle.
        for _ in range(60):
            final = await sample(http, args.server_pid, started)
            if final.in_flight == 0:
                break
            await asyncio.sleep(0.5)
        audio_s = (await scrape(http)).get("kokoro_audio_seconds_total", 0.0) - audio_before
    lines = report(
        args, tally=tally, samples=samples, final=final, audio_s=audio_s, load_before=load_before
    )
    print("\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    asyncio.run(main())

"""Hostile requests: four worst-case complete files at once, then an abandoned one.

Run against a running server with its default settings, except a queue that
admits all four requests (the default admits three: one would get 429 at once)::

    KOKORO_MAX_QUEUED_REQUESTS=3 uv run kokoro-server serve &
    uv run --group dev python -m bench.hostile --url http://127.0.0.1:8880 \\
        --server-pid "$(pgrep -f 'bin/kokoro-server serve')" --markdown hostile.md

Part 1 sends four requests together, all ``stream: false`` WAV with voice
``af_heart``, each at a limit of the default settings: 60 pauses of 60 s
(3600 s of silence), a 90,000-letter word, 30,000 emoji and a dialogue of
20,000 turns with 0.18 s gaps (3599.8 s of gaps). For ``--seconds`` the
server's RSS (itself and its child processes, from /proc) and ``GET /health``
(5 s timeout) are sampled every 0.5 s; then the client hangs up on all four
and ``/metrics`` is polled every 0.1 s until ``kokoro_requests_in_flight`` is
0. Targets: peak RSS under 1024 MiB, /health answering throughout, in-flight
back to 0 within 2 s of the hang-up.

Part 2 sends one complete file of the 90,000-letter word and hangs up after
5 s, times the fall of in-flight to 0, then times a short request and
compares it with the same request timed before anything else ran.

Part 3 sends the pause flood alone and reads it to its end (a 173 MB WAV),
sampling RSS: the file is built in a temporary file, so RSS stays flat
(target: under 64 MiB above where it started).

The exit status is non-zero only when the bench itself breaks (the server
unreachable, /metrics unreadable); a missed target is printed as MISS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.latency import machine
from bench.report import publish

VOICE = "af_heart"
SHORT_TEXT = "Thank you, that is all for today."
DIALOGUE_TURNS = 20_000
DIALOGUE_GAP_S = 0.18
RSS_TARGET_MIB = 1024.0
DRAIN_TARGET_S = 2.0
HEALTH_TIMEOUT_S = 5.0
SAMPLE_EVERY_S = 0.5
POLL_EVERY_S = 0.1
SPEECH = "/v1/audio/speech"
DIALOGUE = "/v1/audio/dialogue"


class BenchError(Exception):
    """The bench cannot measure (server unreachable, /metrics unreadable)."""


@dataclass
class Hostile:
    name: str
    path: str
    body: dict[str, object]


def hostile_requests() -> list[Hostile]:
    def speech(text: str) -> dict[str, object]:
        return {
            "model": "tts-1",
            "input": text,
            "voice": VOICE,
            "response_format": "wav",
            "stream": False,
        }

    dialogue: dict[str, object] = {
        "speakers": {"a": VOICE, "b": "am_michael"},
        "turns": [{"speaker": "ab"[i % 2], "text": "Hi."} for i in range(DIALOGUE_TURNS)],
        "gap": DIALOGUE_GAP_S,
        "stream": False,
        "response_format": "wav",
    }
    return [
        Hostile("pause flood: 60 x [pause:60s]", SPEECH, speech("[pause:60s]" * 60)),
        Hostile("90,000-letter word", SPEECH, speech("a" * 90_000)),
        Hostile("30,000 emoji", SPEECH, speech("😀" * 30_000)),
        Hostile(f"dialogue: {DIALOGUE_TURNS:,} turns, gap {DIALOGUE_GAP_S} s", DIALOGUE, dialogue),
    ]


@dataclass
class Outcome:
    """What one hostile request got before the client hung up (or it finished)."""

    status: int | None = None
    headers_s: float | None = None
    body_bytes: int = 0
    finished_s: float | None = None
    error: str | None = None
    detail: str = ""

    def describe(self) -> str:
        if self.error is not None:
            return f"error: {self.error}"
        if self.status is None:
            return "no response yet (cancelled)"
        text = f"HTTP {self.status} after {self.headers_s:.1f} s"
        if self.finished_s is not None:
            text += f", complete after {self.finished_s:.1f} s ({self.body_bytes:,} bytes)"
        else:
            text += f", {self.body_bytes:,} bytes read, cancelled"
        if self.detail:
            text += f": {self.detail}"
        return text


async def send(http: httpx.AsyncClient, job: Hostile, outcome: Outcome) -> None:
    """Send a request and read its body into nothing (a 3600 s WAV is 173 MB)."""
    started = time.perf_counter()
    try:
        async with http.stream("POST", job.path, json=job.body) as response:
            outcome.status = response.status_code
            outcome.headers_s = time.perf_counter() - started
            if response.status_code != 200:
                body = (await response.aread()).decode(errors="replace")
                outcome.detail = body[:200]
            else:
                async for piece in response.aiter_raw():
                    outcome.body_bytes += len(piece)
            outcome.finished_s = time.perf_counter() - started
    except httpx.HTTPError as e:
        outcome.error = f"{type(e).__name__}: {e}"


def rss_tree_mib(pid: int | None) -> float:
    """VmRSS of a process and all its descendants, from /proc (0 when gone)."""
    if pid is None:
        return 0.0
    total = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
                    break
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


async def scrape(http: httpx.AsyncClient) -> list[tuple[str, dict[str, str], float]]:
    try:
        response = await http.get("/metrics")
        response.raise_for_status()
    except httpx.HTTPError as e:
        raise BenchError(f"GET /metrics failed: {type(e).__name__}: {e}") from e
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    ]


async def in_flight(http: httpx.AsyncClient) -> float:
    for name, labels, value in await scrape(http):
        if name == "kokoro_requests_in_flight" and not labels:
            return value
    raise BenchError("/metrics has no kokoro_requests_in_flight")


async def responses_by_status(http: httpx.AsyncClient) -> Counter[str]:
    """kokoro_http_requests_total of the synthesis routes, by route and status."""
    counts: Counter[str] = Counter()
    for name, labels, value in await scrape(http):
        if name == "kokoro_http_requests_total" and labels.get("route") in (SPEECH, DIALOGUE):
            counts[f"{labels['route']} {labels.get('status', '?')}"] += int(value)
    return counts


async def wait_idle(http: httpx.AsyncClient, since: float, limit_s: float) -> float | None:
    """Seconds from ``since`` until in-flight is 0 (polled every 0.1 s); None past limit_s."""
    while True:
        if await in_flight(http) == 0:
            return time.perf_counter() - since
        if time.perf_counter() - since > limit_s:
            return None
        await asyncio.sleep(POLL_EVERY_S)


async def short_request(http: httpx.AsyncClient) -> float:
    body = {"input": SHORT_TEXT, "voice": VOICE, "response_format": "wav", "stream": False}
    started = time.perf_counter()
    response = await http.post(SPEECH, json=body)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchError(f"the short request got HTTP {response.status_code}: {response.text}")
    return elapsed


async def short_timings(http: httpx.AsyncClient, runs: int) -> list[float]:
    return [await short_request(http) for _ in range(runs)]


@dataclass
class Watch:
    rss_mib: list[float] = field(default_factory=list)
    health_s: list[float] = field(default_factory=list)
    health_failures: Counter[str] = field(default_factory=Counter)

    @property
    def health_tries(self) -> int:
        return len(self.health_s) + sum(self.health_failures.values())


async def every(period: float, action: Callable[[], object]) -> None:
    """Call ``action`` every ``period`` seconds on a fixed schedule. A coroutine it returns
    runs as a task of its own, so that a slow one (a /health that takes its 5 s) does not
    delay the next; cancelling this cancels those still running."""
    running: set[asyncio.Task[object]] = set()
    next_at = time.perf_counter()
    try:
        while True:
            result = action()
            if asyncio.iscoroutine(result):
                task = asyncio.create_task(result)
                running.add(task)
                task.add_done_callback(running.discard)
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    finally:
        for task in running:
            task.cancel()


async def probe_health(http: httpx.AsyncClient, watch: Watch) -> None:
    started = time.perf_counter()
    try:
        response = await http.get("/health", timeout=HEALTH_TIMEOUT_S)
    except httpx.HTTPError as e:
        watch.health_failures[type(e).__name__] += 1
        return
    if response.status_code == 200:
        watch.health_s.append(time.perf_counter() - started)
    else:
        watch.health_failures[f"HTTP {response.status_code}"] += 1


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


@dataclass
class Figures:
    slots: float = float("nan")
    short_idle_s: list[float] = field(default_factory=list)
    rss_before_mib: float = 0.0
    rss_end_mib: float = 0.0
    rss_drained_mib: float = 0.0
    watch: Watch = field(default_factory=Watch)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    in_flight_at_hang_up: float = float("nan")
    drain_s: float | None = None
    abandoned: Outcome = field(default_factory=Outcome)
    abandoned_drain_s: float | None = None
    short_after_s: list[float] = field(default_factory=list)
    rss_final_mib: float = 0.0
    rss_after_mib: list[float] = field(default_factory=list)
    """Sampled from the end of part 1 (in-flight 0) to the end of part 2."""
    statuses: Counter[str] = field(default_factory=Counter)
    flood: Outcome = field(default_factory=Outcome)
    flood_rss_before_mib: float = 0.0
    flood_rss_mib: list[float] = field(default_factory=list)
    """Sampled while the pause flood alone is made and sent (part 3)."""


def sample_rss(
    pid: int | None, into: list[float], period: float = SAMPLE_EVERY_S
) -> asyncio.Task[None]:
    """A task that appends the server's RSS to ``into`` every ``period`` until cancelled."""
    return asyncio.create_task(every(period, lambda: into.append(rss_tree_mib(pid))))


async def worst_four(
    args: argparse.Namespace, figures: Figures, control: httpx.AsyncClient
) -> None:
    jobs = hostile_requests()
    figures.outcomes = {job.name: Outcome() for job in jobs}
    watch = figures.watch
    figures.rss_before_mib = rss_tree_mib(args.server_pid)
    watchers = [
        sample_rss(args.server_pid, watch.rss_mib),
        asyncio.create_task(every(SAMPLE_EVERY_S, lambda: probe_health(control, watch))),
    ]
    http = httpx.AsyncClient(
        base_url=args.url,
        timeout=httpx.Timeout(None, connect=10),
        limits=httpx.Limits(max_connections=len(jobs)),
    )
    tasks = [asyncio.create_task(send(http, job, figures.outcomes[job.name])) for job in jobs]
    print(f"part 1: four requests sent; watching for {args.seconds:g} s", flush=True)
    await asyncio.wait(tasks, timeout=args.seconds)
    for watcher in watchers:
        watcher.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    figures.rss_end_mib = rss_tree_mib(args.server_pid)
    figures.in_flight_at_hang_up = await in_flight(control)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await http.aclose()  # cancelled reads close their connections; this closes the rest
    hung_up = time.perf_counter()
    print("part 1: hung up; waiting for in-flight 0", flush=True)
    figures.drain_s = await wait_idle(control, hung_up, args.drain_limit_s)
    figures.rss_drained_mib = rss_tree_mib(args.server_pid)


async def abandoned_file(
    args: argparse.Namespace, figures: Figures, control: httpx.AsyncClient
) -> None:
    if await in_flight(control) != 0:
        print("part 2: in-flight is not 0 yet; waiting for it first", flush=True)
        await wait_idle(control, time.perf_counter(), args.drain_limit_s)
    job = hostile_requests()[1]
    async with httpx.AsyncClient(
        base_url=args.url, timeout=httpx.Timeout(None, connect=10)
    ) as http:
        task = asyncio.create_task(send(http, job, figures.abandoned))
        print(f"part 2: {job.name} as a complete file, hanging up after 5 s", flush=True)
        await asyncio.wait([task], timeout=5.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    hung_up = time.perf_counter()
    figures.abandoned_drain_s = await wait_idle(control, hung_up, args.drain_limit_s)
    figures.short_after_s = await short_timings(control, args.short_runs)
    figures.rss_final_mib = rss_tree_mib(args.server_pid)


async def pause_flood_alone(
    args: argparse.Namespace, figures: Figures, control: httpx.AsyncClient
) -> None:
    """The pause flood alone, made and read to its end: 3600 s of WAV (173 MB) pass
    through a temporary file, not through the server's memory."""
    await wait_idle(control, time.perf_counter(), args.drain_limit_s)
    job = hostile_requests()[0]
    figures.flood_rss_before_mib = rss_tree_mib(args.server_pid)
    # Every 10 ms: the file is made and sent in well under a second.
    sampler = sample_rss(args.server_pid, figures.flood_rss_mib, period=0.01)
    print(f"part 3: {job.name} alone, to its end", flush=True)
    try:
        async with httpx.AsyncClient(
            base_url=args.url, timeout=httpx.Timeout(None, connect=10)
        ) as http:
            await send(http, job, figures.flood)
    finally:
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)


def seconds(value: float | None, limit_s: float) -> str:
    return f"{value:.2f} s" if value is not None else f"not within {limit_s:g} s"


def report(args: argparse.Namespace, figures: Figures) -> list[str]:
    watch = figures.watch
    peak = max(watch.rss_mib, default=0.0)
    health_ok = not watch.health_failures and watch.health_tries > 0
    drained = figures.drain_s is not None and figures.drain_s <= DRAIN_TARGET_S
    abandoned_ok = (
        figures.abandoned_drain_s is not None and figures.abandoned_drain_s <= DRAIN_TARGET_S
    )
    idle = statistics.median(figures.short_idle_s)
    after = statistics.median(figures.short_after_s)
    failures = ", ".join(f"{n} {name}" for name, n in sorted(watch.health_failures.items()))
    flood_peak = max(figures.flood_rss_mib, default=0.0)
    pid_note = "" if args.server_pid else " (no --server-pid: RSS not measured)"
    return [
        "### Hostile requests (bench/hostile.py)",
        "",
        f"Against {args.url}; {machine()}. Request slots: {figures.slots:.0f} "
        "(the bench expects KOKORO_MAX_QUEUED_REQUESTS=3, so that all four are admitted). "
        f"Four worst-case complete WAV files at once for {args.seconds:g} s, then hung up; "
        f"then one abandoned after 5 s. RSS is the server and its child processes{pid_note}.",
        "",
        "| request | what it got before the hang-up |",
        "| --- | --- |",
        *(f"| {name} | {outcome.describe()} |" for name, outcome in figures.outcomes.items()),
        f"| abandoned: 90,000-letter word | {figures.abandoned.describe()} |",
        "",
        "| figure | value | target |",
        "| --- | ---: | --- |",
        f"| RSS before | {figures.rss_before_mib:.0f} MiB | |",
        f"| RSS peak during the four | {peak:.0f} MiB | < {RSS_TARGET_MIB:.0f} MiB: "
        f"{verdict(0 < peak < RSS_TARGET_MIB)} |",
        f"| RSS at the hang-up | {figures.rss_end_mib:.0f} MiB | |",
        f"| RSS once in-flight is 0 | {figures.rss_drained_mib:.0f} MiB | |",
        f"| RSS peak during part 2 | {max(figures.rss_after_mib, default=0.0):.0f} MiB | |",
        f"| /health answered during the four | {len(watch.health_s)} of {watch.health_tries}"
        f"{f' ({failures})' if failures else ''} | all: {verdict(health_ok)} |",
        f"| /health latency max / p95 | {max(watch.health_s, default=float('nan')):.3f} / "
        f"{p95(watch.health_s):.3f} s | |",
        f"| in flight at the hang-up | {figures.in_flight_at_hang_up:.0f} | |",
        f"| hang-up of the four to in-flight 0 | {seconds(figures.drain_s, args.drain_limit_s)} "
        f"| <= {DRAIN_TARGET_S:g} s: {verdict(drained)} |",
        f"| abandoned file: hang-up to in-flight 0 | "
        f"{seconds(figures.abandoned_drain_s, args.drain_limit_s)} "
        f"| <= {DRAIN_TARGET_S:g} s: {verdict(abandoned_ok)} |",
        f"| short request, idle (median of {len(figures.short_idle_s)}) | {idle:.2f} s | |",
        f"| short request, after it all (median of {len(figures.short_after_s)}) | {after:.2f} s "
        f"| about idle: {verdict(after <= 1.5 * idle + 0.2)} |",
        f"| RSS at the end of part 2 | {figures.rss_final_mib:.0f} MiB | |",
        f"| part 3, the pause flood alone: {figures.flood.describe()} | | |",
        f"| RSS before part 3 / peak while it is made and sent "
        f"({len(figures.flood_rss_mib)} samples) | "
        f"{figures.flood_rss_before_mib:.0f} / {flood_peak:.0f} MiB"
        f" | within 64 MiB: {verdict(flood_peak < figures.flood_rss_before_mib + 64)} |",
        "",
        "Synthesis responses counted by /metrics during the bench: "
        + (", ".join(f"{k}: {v}" for k, v in sorted(figures.statuses.items())) or "none")
        + ".",
    ]


async def run(args: argparse.Namespace) -> Figures:
    figures = Figures()
    async with httpx.AsyncClient(
        base_url=args.url, timeout=httpx.Timeout(120, connect=10)
    ) as control:
        try:
            (await control.get("/health")).raise_for_status()
        except httpx.HTTPError as e:
            raise BenchError(f"{args.url}/health: {type(e).__name__}: {e}") from e
        for name, labels, value in await scrape(control):
            if name == "kokoro_request_slots" and not labels:
                figures.slots = value
        if figures.slots < 4:
            print(
                f"warning: {figures.slots:.0f} request slots; one of the four will get 429 "
                "(start the server with KOKORO_MAX_QUEUED_REQUESTS=3)",
                flush=True,
            )
        before = await responses_by_status(control)
        await short_request(control)  # warm up: the first request of a server costs more
        figures.short_idle_s = await short_timings(control, args.short_runs)
        print(f"idle short request: {statistics.median(figures.short_idle_s):.2f} s", flush=True)
        await worst_four(args, figures, control)
        after = sample_rss(args.server_pid, figures.rss_after_mib)
        try:
            await abandoned_file(args, figures, control)
        finally:
            after.cancel()
        await pause_flood_alone(args, figures, control)
        figures.statuses = await responses_by_status(control) - before
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8880")
    parser.add_argument("--server-pid", type=int, help="server process id, for its RSS")
    parser.add_argument("--seconds", type=float, default=90, help="how long the four run")
    parser.add_argument("--short-runs", type=int, default=3, help="short requests per timing")
    parser.add_argument(
        "--drain-limit-s", type=float, default=120, help="give up waiting for in-flight 0"
    )
    parser.add_argument("--markdown", type=Path, help="append the section to this file")
    args = parser.parse_args()
    try:
        figures = asyncio.run(run(args))
    except BenchError as e:
        sys.exit(f"bench broken: {e}")
    lines = report(args, figures)
    publish(lines, args.markdown)


if __name__ == "__main__":
    main()

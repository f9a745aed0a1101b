"""Live text: how soon the stream-input WebSocket speaks text fed at an LLM's pace.

Run against a running server (``uv run kokoro-server serve``)::

    uv run --group dev python -m bench.stream_input --url http://127.0.0.1:8880

Each round opens ``/v1/text-to-speech/{voice}/stream-input``, sends the
paragraph in ``bench/texts.py`` 20 characters every 100 ms (about 200
characters a second, a fast LLM), then ends the stream. Measured per round:

- first audio: from the moment the message holding the first sentence's last
  character is sent to the first audio message (the issue's target: 0.6 s);
- gaps: whether the audio ran out while playing, for a listener who starts
  playing at the first audio message (each message's audio queued after the
  last): the longest wait, in seconds, for audio not yet there;
- total: from the first text message to ``isFinal``.

Figures are medians over ``--rounds`` rounds, after one round to warm up.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import connect

from bench.report import publish
from bench.texts import PARAGRAPH

PIECE_CHARS = 20
PIECE_EVERY_S = 0.1
BYTES_PER_SECOND = 24_000 * 2


@dataclass
class Round:
    first_audio_s: float
    longest_gap_s: float
    total_s: float
    audio_s: float


async def one_round(url: str, text: str) -> Round:
    first_end = next(i for i, c in enumerate(text) if c in ".!?") + 1
    sent_first_sentence = 0.0
    async with connect(url, max_size=None) as ws:
        started = time.monotonic()
        await ws.send(json.dumps({"text": " "}))

        async def feed() -> None:
            nonlocal sent_first_sentence
            for i in range(0, len(text), PIECE_CHARS):
                await ws.send(json.dumps({"text": text[i : i + PIECE_CHARS]}))
                if i < first_end <= i + PIECE_CHARS:
                    sent_first_sentence = time.monotonic()
                await asyncio.sleep(PIECE_EVERY_S)
            await ws.send(json.dumps({"text": ""}))

        feeding = asyncio.create_task(feed())
        first_audio = None
        play_until = 0.0  # when the audio received so far runs out, for the listener
        longest_gap = 0.0
        audio_s = 0.0
        async for raw in ws:
            message = json.loads(raw)
            if "error" in message:
                raise RuntimeError(f"the server refused: {message}")
            if message.get("audio"):
                now = time.monotonic()
                seconds = len(base64.b64decode(message["audio"])) / BYTES_PER_SECOND
                if first_audio is None:
                    first_audio = play_until = now
                longest_gap = max(longest_gap, now - play_until)
                play_until = max(play_until, now) + seconds
                audio_s += seconds
            if message.get("isFinal"):
                break
        await feeding
        total = time.monotonic() - started
    assert first_audio is not None, "no audio came back"
    return Round(first_audio - sent_first_sentence, longest_gap, total, audio_s)


async def measure(url: str, rounds: int, voice: str) -> list[Round]:
    socket = url.replace("http://", "ws://").replace("https://", "wss://")
    socket += f"/v1/text-to-speech/{voice}/stream-input"
    await one_round(socket, PARAGRAPH)  # warm up
    return [await one_round(socket, PARAGRAPH) for _ in range(rounds)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8880")
    parser.add_argument("--voice", default="af_heart")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--markdown", type=Path, help="append the figures to this file")
    args = parser.parse_args()
    samples = asyncio.run(measure(args.url, args.rounds, args.voice))
    first = [s.first_audio_s for s in samples]
    lines = [
        f"stream-input, {len(PARAGRAPH)} characters fed {PIECE_CHARS} every "
        f"{PIECE_EVERY_S * 1000:.0f} ms, voice {args.voice}, {args.rounds} rounds "
        f"({platform.machine()}, {platform.python_version()}):",
        "",
        "| | median | min | max |",
        "|---|---|---|---|",
        f"| first audio after the first sentence's end (s) | {statistics.median(first):.2f} "
        f"| {min(first):.2f} | {max(first):.2f} |",
    ]
    for label, values in (
        ("longest wait for audio while playing (s)", [s.longest_gap_s for s in samples]),
        ("total, first text to isFinal (s)", [s.total_s for s in samples]),
        ("audio (s)", [s.audio_s for s in samples]),
    ):
        lines.append(
            f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |"
        )
    publish(lines, args.markdown)


if __name__ == "__main__":
    main()

"""Real-time factor and time to first audio of each backend, without HTTP.

    uv run python -m bench.backends                     # onnx and torch on the CPU
    uv run python -m bench.backends --device cuda       # on a GPU machine

Speaks the yardstick paragraph (``bench/texts.py``) with the server's own
streaming chunk schedule, through ``SpeechService.synthesize``, so the figures
are what a streamed request costs minus the encoder and the network:
``first audio`` is the time until the first chunk's samples exist, ``RTF`` the
total compute time over the seconds of speech. Median of ``--rounds`` after one
warm-up round.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from api.app import load_service
from api.settings import Settings
from api.speech import SpeechJob, SpeechService
from api.text.chunks import PLAN
from bench.texts import PARAGRAPH


def one_pass(service: SpeechService, voice: str) -> tuple[float, float, float]:
    """(seconds to the first chunk, total seconds, seconds of audio)."""
    job = SpeechJob(text=PARAGRAPH, voice=service.voices.get(voice))
    started = time.perf_counter()
    first = None
    samples = 0
    for chunk in service.synthesize(job, PLAN):
        if first is None:
            first = time.perf_counter() - started
        samples += len(chunk)
    total = time.perf_counter() - started
    return first or total, total, samples / 24_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="onnx,torch")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--voice", default="af_heart")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model-dir", type=Path, default=None)
    args = parser.parse_args()

    print(f"{platform.node()}: {os.cpu_count()} CPUs, paragraph of {len(PARAGRAPH)} characters")
    print("| backend | device | first audio (s) | total (s) | audio (s) | RTF |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in args.backends.split(","):
        settings = Settings(backend=name, device=args.device)
        if args.model_dir:
            settings = settings.model_copy(update={"model_dir": args.model_dir})
        service, _ = load_service(settings)
        try:
            one_pass(service, args.voice)
            runs = [one_pass(service, args.voice) for _ in range(args.rounds)]
        finally:
            service.close()
        first = statistics.median(r[0] for r in runs)
        total = statistics.median(r[1] for r in runs)
        audio = runs[0][2]
        backend = service.backend
        print(
            f"| {backend.name} | {backend.device} | {first:.2f} | {total:.2f} | "
            f"{audio:.1f} | {total / audio:.3f} |"
        )


if __name__ == "__main__":
    main()

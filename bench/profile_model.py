"""Where one model call's time goes: ONNX Runtime's profiler, by stage and by op type.

Run (no server needed; it loads the bundled int8 model itself)::

    uv run --group dev python -m bench.profile_model --runs 5 --markdown profile.md

Two inputs, voice af_heart, speed 1: a one-line sentence ("Turn left at the
next corner.") and the first chunk of the ferry paragraph as a complete file
cuts it (about 150 tokens). Each is run once to warm up, then ``--runs`` times
with the profiler on; kernel times are summed per stage of the model (from
the node names of the export) and per op type, and averaged over the runs.

The timed model's durations output also says how many of the frames the
decoder and vocoder make belong to the two padding tokens: the silence the
model speaks before and after every call, which the server cuts away. Their
share of the decoder's and vocoder's time is what issue 16 means by compute
spent on padding silence (the estimate assumes that time is proportional to
frames, which the convolutions over time make close to true).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from api.audio.silence import speech_bounds
from api.backends.onnx import ONNX_OUTPUT_GAIN
from bench.latency import machine
from bench.plans import sentence_packing
from bench.report import publish
from bench.texts import PARAGRAPH

SHORT = "Turn left at the next corner."
VOICE = "af_heart"
FRAME_SECONDS = 600 / 24_000
STAGES = [
    ("/encoder/bert", "PL-BERT (text features)"),
    ("/encoder/text_encoder", "text encoder (CNN + LSTM)"),
    ("encoder.text_encoder", "text encoder (CNN + LSTM)"),
    ("/encoder/predictor", "duration predictor"),
    ("/encoder/F0", "prosody predictor (F0, energy)"),
    ("/encoder/N", "prosody predictor (F0, energy)"),
    ("/encoder/shared", "prosody predictor (F0, energy)"),
    ("/decoder/decoder/generator", "vocoder (generator, iSTFT)"),
    ("/decoder/decoder", "decoder"),
]
PER_FRAME_STAGES = ("decoder", "vocoder (generator, iSTFT)")
"""The stages that run once per output frame (after the alignment expands tokens)."""


def stage_of(node: str) -> str:
    for prefix, stage in STAGES:
        if node.startswith(prefix):
            return stage
    return "alignment, glue and quantization"


@dataclass
class Profile:
    name: str
    tokens: int
    wall_s: list[float] = field(default_factory=list)
    by_stage_us: Counter[str] = field(default_factory=Counter)
    by_op_us: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    padding_frames: int = 0
    audio_s: float = 0.0
    kept_s: float = 0.0
    """What the server keeps of the audio: the speech and its margins (``speech_bounds``)."""


def kernel_events(trace: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(trace.read_text())
    return [e for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]


def profile_input(
    model: Path, name: str, tokens: list[int], style: np.ndarray, *, runs: int, threads: int
) -> Profile:
    import onnxruntime as ort  # noqa: PLC0415 - a bench of the ONNX backend

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(tempfile.mkdtemp()) / "kokoro")
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    feeds = {
        "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
        "style": style.reshape(1, 256).astype(np.float32),
        "speed": np.array([1.0], dtype=np.float32),
    }
    outputs = [o.name for o in session.get_outputs()]
    session.run(outputs, feeds)  # warm-up, dropped below
    profile = Profile(name, len(tokens))
    for _ in range(runs):
        started = time.perf_counter()
        audio, durations = session.run(outputs, feeds)
        profile.wall_s.append(time.perf_counter() - started)
    frames = np.asarray(durations).reshape(-1)
    profile.frames = int(frames.sum())
    profile.padding_frames = int(frames[0] + frames[-1])
    samples = np.asarray(audio, dtype=np.float32).reshape(-1) * ONNX_OUTPUT_GAIN
    profile.audio_s = samples.size / 24_000
    start, end = speech_bounds(samples)
    profile.kept_s = (end - start) / 24_000
    trace = Path(session.end_profiling())
    events = kernel_events(trace)
    per_run = len(events) // (runs + 1)
    for event in events[per_run:]:  # the warm-up run's nodes come first
        node = event["name"].removesuffix("_kernel_time")
        profile.by_stage_us[stage_of(node)] += event["dur"] / runs
        profile.by_op_us[event["args"].get("op_name", "?")] += event["dur"] / runs
    trace.unlink()
    return profile


def report(profiles: list[Profile], threads: int) -> list[str]:
    lines = [
        "### Where a model call's time goes (bench/profile_model.py)",
        "",
        f"{machine()}; int8 ONNX model, ONNX Runtime CPU, {threads} threads, voice {VOICE}. "
        "Kernel time per stage, averaged over the profiled runs (the profiler itself "
        "adds a little to the wall time).",
        "",
    ]
    for p in profiles:
        total = sum(p.by_stage_us.values())
        per_frame = sum(p.by_stage_us[s] for s in PER_FRAME_STAGES)
        share = p.padding_frames / p.frames if p.frames else 0.0
        cut = 1 - p.kept_s / p.audio_s if p.audio_s else 0.0
        lines += [
            f"**{p.name}**: {p.tokens} tokens, {p.frames} frames ({p.audio_s:.2f} s of audio), "
            f"of which {p.padding_frames} frames ({p.padding_frames * FRAME_SECONDS:.2f} s, "
            f"{share:.0%}) belong to the two padding tokens. Wall time "
            f"{statistics.median(p.wall_s):.3f} s (median of {len(p.wall_s)}).",
            "",
            "| stage | ms | share |",
            "| --- | ---: | ---: |",
            *(
                f"| {stage} | {us / 1000:.0f} | {us / total:.0%} |"
                for stage, us in p.by_stage_us.most_common()
            ),
            "",
            f"Decoder and vocoder, which run per frame: {per_frame / 1000:.0f} ms "
            f"({per_frame / total:.0%}); the padding frames' part of them, "
            f"{share * per_frame / 1000:.0f} ms, is {share * per_frame / total:.0%} of the call. "
            f"The server keeps {p.kept_s:.2f} s of the {p.audio_s:.2f} s (the speech and "
            f"50 ms margins): the {cut:.0%} it cuts, padding and the silence after the last "
            f"word together, cost about {cut * per_frame / 1000:.0f} ms "
            f"({cut * per_frame / total:.0%} of the call).",
            "",
            "Op types by time: "
            + ", ".join(f"{op} {us / total:.0%}" for op, us in p.by_op_us.most_common(8))
            + ".",
            "",
        ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--markdown", type=Path, help="append the section to this file")
    args = parser.parse_args()

    from api.app import load_service  # noqa: PLC0415 - heavy, after the arguments
    from api.settings import Settings  # noqa: PLC0415
    from api.weights import ensure_model_dir  # noqa: PLC0415

    settings = Settings()
    service, _ = load_service(settings)
    try:
        timed = ensure_model_dir(settings.model_dir).timed_model
        if not timed.exists():
            raise SystemExit("the model directory has no timed model; run `kokoro-server bake`")
        voice = service.voices.resolve(VOICE)
        profiles = []
        for name, text in (("One line", SHORT), ("Paragraph, first chunk", PARAGRAPH)):
            chunk = next(service.phoneme_chunks(text, "en-us", sentence_packing()))
            tokens = service.vocabulary.encode(chunk)
            style = np.asarray(voice.style_for(len(tokens)), dtype=np.float32)
            profiles.append(
                profile_input(timed, name, tokens, style, runs=args.runs, threads=args.threads)
            )
    finally:
        service.close()
    lines = report(profiles, args.threads)
    publish(lines, args.markdown)


if __name__ == "__main__":
    main()

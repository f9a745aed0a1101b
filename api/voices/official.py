"""The 54 official Kokoro-82M v1.0 voice packs, shipped in this package.

``api/voices/official/`` holds each pack as published (``<id>.bin``: raw
little-endian float32, 510 x 1 x 256) and ``voices.json``, which records each
file's sha256 and the publisher's metadata (display name, language, gender,
quality grades). ``scripts/official_voices.py`` re-derives them from the
registry archive they come from; ``NOTICE`` and ``LICENSE`` beside them say
where and under which licence.

Every file is checked against its sha256 when the server starts (28 MB, read
once, in well under a second), and a damaged one is refused with one line
naming it. The packs are then memory-mapped, not read: a voice costs memory
only for the rows the model is given (one 1 KB row per chunk), so 54 voices
cost what the few in use cost.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from api.voices.packs import PACK_SHAPE, VoicePack

OFFICIAL_DIR = Path(__file__).resolve().parent / "official"
MANIFEST_FILE = "voices.json"
_PACK_BYTES = int(np.prod(PACK_SHAPE)) * 4
_REINSTALL = "reinstall kokoro-server (uv sync --reinstall-package kokoro-server)"


class OfficialVoicesError(RuntimeError):
    """A shipped voice file is missing or damaged; the message names it."""


@dataclass(frozen=True)
class OfficialVoice:
    """One shipped pack and what its publisher says about it."""

    id: str
    path: Path
    sha256: str
    name: str
    """Display name, as published (``Heart``, ``alpha``)."""
    language: str
    """The publisher's language code (``en-us``, ``zh``, ``fr-fr`` ...)."""
    gender: str
    target_quality: str
    """The publisher's grade for the training data (A best)."""
    overall_grade: str
    """The publisher's grade for the voice as it came out (A best, F worst)."""

    def open(self) -> VoicePack:
        """The pack as a read-only memory map of its verified file."""
        return cast(VoicePack, np.memmap(self.path, dtype="<f4", mode="r", shape=PACK_SHAPE))


def _read_manifest(directory: Path) -> dict[str, OfficialVoice]:
    path = directory / MANIFEST_FILE
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["voices"]
        return {
            voice_id: OfficialVoice(
                id=voice_id,
                path=directory / entry["file"],
                sha256=entry["sha256"],
                name=entry["name"],
                language=entry["language"],
                gender=entry["gender"].lower(),
                target_quality=entry["target_quality"],
                overall_grade=entry["overall_grade"],
            )
            for voice_id, entry in entries.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise OfficialVoicesError(f"{path} is unreadable ({e}); {_REINSTALL}") from e


def _check(voice: OfficialVoice) -> None:
    try:
        data = voice.path.read_bytes()
    except OSError as e:
        raise OfficialVoicesError(
            f"{voice.path} is missing or unreadable ({e.strerror or e}); {_REINSTALL}"
        ) from e
    actual = hashlib.sha256(data).hexdigest()
    if len(data) != _PACK_BYTES or actual != voice.sha256:
        raise OfficialVoicesError(
            f"{voice.path} is damaged (sha256 {actual}, {MANIFEST_FILE} says {voice.sha256}); "
            f"{_REINSTALL}"
        )


_verified: dict[tuple[str, int, int, int], dict[str, OfficialVoice]] = {}
_verified_lock = threading.Lock()


def official_voices(directory: Path | None = None) -> dict[str, OfficialVoice]:
    """The verified voices of ``directory`` (the shipped ones by default), by id.

    Raises ``OfficialVoicesError`` naming the first missing or damaged file. The
    result is kept for as long as the manifest is unchanged, so the check
    ``serve`` makes before uvicorn starts and the app's own check read the
    files once.
    """
    directory = OFFICIAL_DIR if directory is None else directory
    manifest = directory / MANIFEST_FILE
    try:
        state = manifest.stat()
    except OSError as e:
        raise OfficialVoicesError(f"{manifest} is missing ({e.strerror}); {_REINSTALL}") from e
    key = (str(manifest.resolve()), state.st_ino, state.st_size, state.st_mtime_ns)
    with _verified_lock:
        if key not in _verified:
            voices = _read_manifest(directory)
            for voice in voices.values():
                _check(voice)
            _verified[key] = voices
        return _verified[key]

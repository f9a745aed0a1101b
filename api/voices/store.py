"""The voice store: built-in packs from the model directory plus user packs.

A Kokoro voice is a *pack*: a (510, 1, 256) float32 array holding one style
vector per input length; a chunk of n token ids is spoken with row n - 1.
"""

from __future__ import annotations

import difflib
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

PACK_SHAPE = (510, 1, 256)
VOICE_NAME = re.compile(r"^[a-z0-9_\-]{1,64}$")

VoicePack = npt.NDArray[np.float32]
"""(510, 1, 256) float32: one style vector per chunk length."""
StyleVector = npt.NDArray[np.float32]
"""(1, 256) float32: the style row the model takes for one chunk."""

VoiceSource = Literal["builtin", "imported"]

_LANGUAGE_BY_PREFIX = {
    "a": "en-us",
    "b": "en-gb",
    "e": "es",
    "f": "fr-fr",
    "h": "hi",
    "i": "it",
    "j": "ja",
    "p": "pt-br",
    "z": "cmn",
}
_GENDER_BY_LETTER = {"f": "female", "m": "male"}


class VoiceError(ValueError):
    """A voice pack file is unusable."""


class UnknownVoiceError(LookupError):
    """No voice has the requested name."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"Voice '{name}' not found{hint}")
        self.name = name
        self.suggestions = suggestions


@dataclass(frozen=True)
class Voice:
    """A loaded voice pack and what its name tells about it."""

    id: str
    pack: VoicePack
    source: VoiceSource

    @property
    def _kokoro_prefix(self) -> str | None:
        """``af`` for ``af_bella``: Kokoro's language + gender letters, if the name has them."""
        prefix, _, rest = self.id.partition("_")
        return prefix if len(prefix) == 2 and prefix[1] in _GENDER_BY_LETTER and rest else None

    @property
    def language(self) -> str | None:
        """Language the pack was made for (from the name's first letter), if known."""
        prefix = self._kokoro_prefix
        return _LANGUAGE_BY_PREFIX.get(prefix[0]) if prefix else None

    @property
    def gender(self) -> str | None:
        prefix = self._kokoro_prefix
        return _GENDER_BY_LETTER.get(prefix[1]) if prefix else None

    @property
    def name(self) -> str:
        """Human-readable name: ``af_bella`` -> ``Bella``."""
        stem = self.id.split("_", 1)[1] if "_" in self.id else self.id
        return stem.replace("_", " ").replace("-", " ").title()

    def style_for(self, token_count: int) -> StyleVector:
        row = min(max(token_count, 1), PACK_SHAPE[0]) - 1
        style: StyleVector = self.pack[row]
        return style


def validate_pack(array: npt.NDArray[np.generic], origin: str) -> VoicePack:
    """Return ``array`` as a float32 pack, or raise ``VoiceError`` naming ``origin``."""
    if array.shape == (PACK_SHAPE[0], PACK_SHAPE[2]):
        array = array.reshape(PACK_SHAPE)
    if array.shape != PACK_SHAPE:
        raise VoiceError(f"{origin}: voice pack has shape {array.shape}, expected {PACK_SHAPE}")
    if not np.issubdtype(array.dtype, np.floating):
        raise VoiceError(f"{origin}: voice pack has dtype {array.dtype}, expected float32")
    pack = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(pack).all():
        raise VoiceError(f"{origin}: voice pack holds NaN or infinite values")
    return pack


def _load_npz(path: Path) -> dict[str, VoicePack]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: validate_pack(archive[name], f"{path}:{name}") for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        if isinstance(e, VoiceError):
            raise
        raise VoiceError(f"{path}: not a readable .npz voice archive ({e})") from e


def _load_npy(path: Path) -> VoicePack:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise VoiceError(f"{path}: not a readable .npy voice pack ({e})") from e
    return validate_pack(array, str(path))


class VoiceStore:
    """All voices the server can speak with, by id."""

    def __init__(self, builtin: Path, voices_dir: Path | None = None) -> None:
        self._voices: dict[str, Voice] = {
            name: Voice(name, pack, "builtin") for name, pack in _load_npz(builtin).items()
        }
        if voices_dir is not None and voices_dir.is_dir():
            for path in sorted(voices_dir.glob("*.npy")):
                name = path.stem
                if not VOICE_NAME.match(name) or name in self._voices:
                    logger.warning("skipping voice file %s: invalid or duplicate name", path)
                    continue
                try:
                    self._voices[name] = Voice(name, _load_npy(path), "imported")
                except VoiceError:
                    logger.exception("skipping unusable voice file %s", path)

    def __contains__(self, name: object) -> bool:
        return name in self._voices

    def ids(self) -> list[str]:
        return sorted(self._voices)

    def all(self) -> list[Voice]:
        return [self._voices[name] for name in self.ids()]

    def get(self, name: str) -> Voice:
        voice = self._voices.get(name.strip())
        if voice is None:
            close = difflib.get_close_matches(name.strip(), self.ids(), n=3, cutoff=0.5)
            raise UnknownVoiceError(name, close)
        return voice

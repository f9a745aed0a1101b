"""The voice store: built-in packs, user packs, saved mixes and OpenAI aliases.

- Built-in packs are the 54 official voices shipped in this package
  (``api.voices.official``), verified at start and memory-mapped.
- The voices directory (``KOKORO_VOICES_DIR``) holds user packs: files a user
  put there (``.pt``, ``.npy``, ``.npz``, ``.bin``) and the packs this server
  saved there (imports and named mixes, one ``<name>.npy`` each, described in
  ``index.json``). Every write is atomic; nothing outside the directory is
  ever touched.
- A voice spec such as ``af_heart(2)+am_michael(1)`` is blended on demand; blends
  are kept in a small LRU cache.
- OpenAI's voice names map to specs through a configurable table.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np

from api.fileio import atomic_write, set_aside
from api.text.g2p import LANGUAGE_BY_VOICE_PREFIX
from api.voices.formats import SUPPORTED_SUFFIXES, read_voice_packs
from api.voices.mixer import VoiceSpec, blend, parse_voice_spec
from api.voices.official import OfficialVoice, official_voices
from api.voices.packs import PACK_SHAPE, StyleVector, VoiceError, VoicePack, validate_pack

__all__ = [
    "PACK_SHAPE",
    "VOICE_NAME",
    "OpenAIVoices",
    "ProtectedVoiceError",
    "StyleVector",
    "UnknownVoiceError",
    "Voice",
    "VoiceError",
    "VoiceExistsError",
    "VoicePack",
    "VoiceStore",
    "validate_pack",
]

logger = logging.getLogger(__name__)

VOICE_NAME = re.compile(r"^[a-z0-9_\-]{1,64}\Z")  # \Z: "$" would let "name\n" through
INDEX_FILE = "index.json"

VoiceSource = Literal["builtin", "imported", "mix"]

_LANGUAGE_BY_PREFIX = LANGUAGE_BY_VOICE_PREFIX
_GENDER_BY_LETTER = {"f": "female", "m": "male"}

OpenAIVoices = Mapping[str, str]
"""OpenAI voice name -> voice spec."""

DEFAULT_OPENAI_VOICES: dict[str, str] = {
    # OpenAI's names, each mapped to the official English voice closest to its
    # character; where an official voice bears the name, that one (docs/voices.md
    # gives the reasons for the rest).
    "alloy": "af_alloy",
    "ash": "am_michael",
    "ballad": "bm_george",
    "coral": "af_bella",
    "echo": "am_echo",
    "fable": "bm_fable",
    "onyx": "am_onyx",
    "nova": "af_nova",
    "sage": "af_sarah",
    "shimmer": "af_nicole",
    "verse": "am_puck",
    "marin": "af_heart",
    "cedar": "am_fenrir",
}


class UnknownVoiceError(LookupError):
    """No voice has the requested name."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"Voice '{name}' not found{hint}")
        self.name = name
        self.suggestions = suggestions


class VoiceExistsError(ValueError):
    """A voice of that name exists and would be overwritten."""


class ProtectedVoiceError(PermissionError):
    """Built-in voices, OpenAI names and files the user placed cannot be changed here."""


@dataclass(frozen=True)
class Voice:
    """A loaded voice pack and what is known about it."""

    id: str
    pack: VoicePack
    source: VoiceSource
    spec: str | None = None
    """For a mix: the blend it was made from."""
    language_hint: str | None = None
    """For a mix: the language of its main voice."""
    official: OfficialVoice | None = None
    """For a built-in voice: its shipped file and the publisher's metadata."""

    @property
    def _kokoro_prefix(self) -> str | None:
        """``af`` for ``af_bella``: Kokoro's language + gender letters, if the name has them."""
        prefix, _, rest = self.id.partition("_")
        return prefix if len(prefix) == 2 and prefix[1] in _GENDER_BY_LETTER and rest else None

    @property
    def language(self) -> str | None:
        """Language the pack was made for (from the name's first letter), if known."""
        if self.language_hint:
            return self.language_hint
        prefix = self._kokoro_prefix
        return _LANGUAGE_BY_PREFIX.get(prefix[0]) if prefix else None

    @property
    def gender(self) -> str | None:
        if self.official is not None:
            return self.official.gender
        prefix = self._kokoro_prefix
        return _GENDER_BY_LETTER.get(prefix[1]) if prefix else None

    @property
    def name(self) -> str:
        """Human-readable name: ``af_bella`` -> ``Bella``."""
        if self.official is not None:
            return self.official.name[:1].upper() + self.official.name[1:]
        if self.source == "mix" and self.spec == self.id:
            return self.id
        stem = self.id.split("_", 1)[1] if self._kokoro_prefix else self.id
        return stem.replace("_", " ").replace("-", " ").title()

    def style_for(self, token_count: int) -> StyleVector:
        row = min(max(token_count, 1), PACK_SHAPE[0]) - 1
        style: StyleVector = self.pack[row]
        return style


def _read_voice_file(path: Path, max_bytes: int) -> dict[str, VoicePack]:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise VoiceError(f"{path.name}: {size} bytes, over the limit of {max_bytes} bytes")
        data = path.read_bytes()
    except OSError as e:
        raise VoiceError(f"{path.name}: cannot be read ({e.strerror or e})") from e
    return read_voice_packs(data, path.name)


def _save_npy(handle: BinaryIO, pack: VoicePack) -> None:
    np.save(handle, pack, allow_pickle=False)


def _pack_path(directory: Path, name: str) -> Path:
    """Where a user voice is stored; never outside ``directory``."""
    target = directory / f"{name}.npy"
    if not VOICE_NAME.match(name) or target.resolve().parent != directory:
        raise VoiceError(f"Invalid voice name {name!r}")
    return target


class VoiceStore:
    """All voices the server can speak with, by name or spec. Thread-safe."""

    def __init__(
        self,
        voices_dir: Path | None = None,
        *,
        builtin: Mapping[str, OfficialVoice] | None = None,
        openai_voices: OpenAIVoices | None = None,
        cache_size: int = 32,
        max_file_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        self._lock = threading.RLock()
        shipped = official_voices() if builtin is None else builtin
        self._builtin: dict[str, Voice] = {
            name: Voice(name, voice.open(), "builtin", official=voice)
            for name, voice in shipped.items()
        }
        self._user: dict[str, Voice] = {}
        self._managed: dict[str, dict[str, Any]] = {}  # index.json entries
        self._aliases = dict(openai_voices if openai_voices is not None else {})
        self._cache: OrderedDict[str, Voice] = OrderedDict()
        self._cache_size = cache_size
        self._max_file_bytes = max_file_bytes
        self.skipped: dict[str, str] = {}
        """Files of the voices directory that could not be loaded: name -> why. They are
        left as they are, for the user to fix or remove."""
        self.voices_dir = voices_dir.resolve() if voices_dir is not None else None
        if self.voices_dir is not None and self.voices_dir.is_dir():
            self._load_user_voices(self.voices_dir)

    # -- loading ---------------------------------------------------------------------------

    def _load_user_voices(self, directory: Path) -> None:
        index_path = directory / INDEX_FILE
        if index_path.exists():
            try:
                managed = json.loads(index_path.read_text())["voices"]
            except (OSError, ValueError, KeyError, TypeError) as e:
                self._set_aside_index(index_path, e)
            else:
                if isinstance(managed, dict):
                    self._managed = managed
                else:
                    self._set_aside_index(index_path, TypeError("'voices' is not an object"))
        for path in sorted(directory.iterdir()):
            if path.suffix.lower() not in SUPPORTED_SUFFIXES or path.name.startswith("."):
                continue
            try:
                packs = _read_voice_file(path, self._max_file_bytes)
            except VoiceError as e:
                logger.warning("skipping voice file %s, left as it is: %s", path, e)
                self.skipped[path.name] = str(e)
                continue
            for name, pack in packs.items():
                self._add_loaded(name, pack, path)

    def _set_aside_index(self, index_path: Path, error: Exception) -> None:
        """Keep an unreadable index under another name, so that the next save (which
        writes a new index) does not destroy what it still holds."""
        self._managed = {}
        kept = set_aside(index_path)
        logger.warning(
            "voice index %s is unreadable (%s), kept as %s; the voices it described are "
            "listed as imported files",
            index_path,
            error,
            kept.name,
        )
        self.skipped[INDEX_FILE] = f"unreadable ({error}); kept as {kept.name}"

    def _add_loaded(self, name: str, pack: VoicePack, path: Path) -> None:
        if not VOICE_NAME.match(name) or name in self._builtin or name in self._aliases:
            logger.warning("skipping voice %r from %s: invalid or reserved name", name, path)
            return
        if name in self._user:
            logger.warning("skipping voice %r from %s: a voice of that name exists", name, path)
            return
        entry = self._managed.get(name) if path.name == f"{name}.npy" else None
        if entry is not None:
            self._user[name] = Voice(
                name,
                pack,
                "mix" if entry.get("source") == "mix" else "imported",
                spec=entry.get("spec"),
                language_hint=entry.get("language"),
            )
        else:
            self._user[name] = Voice(name, pack, "imported")

    # -- lookup ----------------------------------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return name in self._builtin or name in self._user

    def ids(self) -> list[str]:
        with self._lock:
            return sorted({*self._builtin, *self._user})

    def all(self) -> list[Voice]:
        with self._lock:
            return [self._builtin.get(name) or self._user[name] for name in self.ids()]

    @property
    def openai_voices(self) -> dict[str, str]:
        return dict(self._aliases)

    def _unknown(self, name: str) -> UnknownVoiceError:
        candidates = [*self.ids(), *self._aliases]
        return UnknownVoiceError(name, difflib.get_close_matches(name, candidates, n=3, cutoff=0.5))

    def get(self, name: str) -> Voice:
        """The voice stored under ``name`` (no specs, no aliases)."""
        name = name.strip()
        with self._lock:
            voice = self._builtin.get(name) or self._user.get(name)
        if voice is None:
            raise self._unknown(name)
        return voice

    def parse(self, spec: str) -> VoiceSpec:
        """Parse a voice spec, knowing which hyphenated names exist."""
        return parse_voice_spec(spec, is_known=self.__contains__)

    def resolve(self, spec: str) -> Voice:
        """A voice by name, OpenAI alias or blend spec.

        Raises ``VoiceSpecError`` (malformed) or ``UnknownVoiceError`` (naming the
        first unknown voice, with close matches).
        """
        text = spec.strip()
        text = self._aliases.get(text.lower(), text)
        if text in self:
            return self.get(text)
        parsed = self.parse(text)
        missing = [name for name in parsed.names if name not in self]
        if missing:
            raise self._unknown(missing[0])
        if parsed.is_single:
            return self.get(parsed.names[0])
        return self._blend(parsed)

    def _blend(self, parsed: VoiceSpec) -> Voice:
        key = str(parsed)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            packs = {name: self.get(name).pack for name in parsed.names}
        main = self.get(parsed.main_voice)
        voice = Voice(key, blend(parsed, packs), "mix", spec=key, language_hint=main.language)
        with self._lock:
            self._cache[key] = voice
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return voice

    # -- changes ---------------------------------------------------------------------------

    def _writable_dir(self) -> Path:
        if self.voices_dir is None:
            raise ProtectedVoiceError("No voices directory is configured (KOKORO_VOICES_DIR)")
        self.voices_dir.mkdir(parents=True, exist_ok=True)
        return self.voices_dir

    def check_new_name(self, name: str, *, overwrite: bool = False) -> None:
        """Raise unless ``name`` may be (re)written as a user voice."""
        if not VOICE_NAME.match(name):
            raise VoiceError(
                f"Invalid voice name {name!r}: use 1-64 characters from a-z, 0-9, '_' and '-'"
            )
        if name in self._builtin or name in self._aliases:
            raise ProtectedVoiceError(f"'{name}' is a built-in voice name and cannot be replaced")
        if name in self._user:
            if name not in self._managed:
                raise ProtectedVoiceError(
                    f"'{name}' comes from a file placed in the voices directory; rename or "
                    "remove that file to reuse the name"
                )
            if not overwrite:
                raise VoiceExistsError(
                    f"A voice named '{name}' already exists; delete it first or pass overwrite"
                )

    def _write_index(self, directory: Path) -> None:
        body = json.dumps({"voices": self._managed}, indent=2, sort_keys=True).encode()
        atomic_write(directory / INDEX_FILE, lambda handle: handle.write(body))

    def save_packs(
        self,
        packs: Mapping[str, VoicePack],
        *,
        source: Literal["imported", "mix"],
        details: Mapping[str, Any],
        overwrite: bool = False,
    ) -> list[Voice]:
        """Store packs as user voices; all of them or, on any failure, none."""
        with self._lock:
            for name in packs:
                self.check_new_name(name, overwrite=overwrite)
            directory = self._writable_dir()
            written: list[Path] = []
            saved: list[Voice] = []
            previous = dict(self._managed)
            try:
                for name, pack in packs.items():
                    target = _pack_path(directory, name)
                    checked = validate_pack(pack, name)
                    atomic_write(target, functools.partial(_save_npy, pack=checked))
                    written.append(target)
                    entry = {
                        "source": source,
                        "created": datetime.now(UTC).isoformat(timespec="seconds"),
                        **details,
                    }
                    self._managed[name] = entry
                    saved.append(
                        Voice(
                            name,
                            checked,
                            source,
                            spec=entry.get("spec"),
                            language_hint=entry.get("language"),
                        )
                    )
                self._write_index(directory)
            except BaseException:
                self._managed = previous
                for path in written:
                    path.unlink(missing_ok=True)
                raise
            for voice in saved:
                self._user[voice.id] = voice
            return saved

    def save_mix(self, name: str, spec: str, *, overwrite: bool = False) -> Voice:
        voice = self.resolve(spec)
        details = {"spec": voice.spec or voice.id, "language": voice.language}
        return self.save_packs(
            {name: voice.pack}, source="mix", details=details, overwrite=overwrite
        )[0]

    def import_packs(
        self,
        data: bytes,
        filename: str,
        *,
        name: str | None = None,
        origin: str | None = None,
        overwrite: bool = False,
    ) -> list[Voice]:
        """Read a voice file's bytes and save its packs (named ``name`` if it holds one)."""
        packs = read_voice_packs(data, filename)
        if name is not None:
            if len(packs) != 1:
                raise VoiceError(
                    f"{filename} holds {len(packs)} voices; import it without a name to keep "
                    "their own names"
                )
            packs = {name: next(iter(packs.values()))}
        details = {"origin": origin or filename, "sha256": hashlib.sha256(data).hexdigest()}
        return self.save_packs(packs, source="imported", details=details, overwrite=overwrite)

    def delete(self, name: str) -> None:
        """Remove a user voice saved through this server."""
        with self._lock:
            if name in self._builtin or name in self._aliases:
                raise ProtectedVoiceError(f"'{name}' is a built-in voice and cannot be deleted")
            if name not in self._user:
                raise self._unknown(name)
            if name not in self._managed:
                raise ProtectedVoiceError(
                    f"'{name}' comes from a file placed in the voices directory; remove the "
                    "file to delete it"
                )
            directory = self._writable_dir()
            entry = self._managed.pop(name)
            try:
                self._write_index(directory)
            except BaseException:
                self._managed[name] = entry
                raise
            _pack_path(directory, name).unlink(missing_ok=True)
            del self._user[name]


def check_voice_settings(store: VoiceStore, default_voice: str) -> None:
    """Fail fast at start-up if the default voice or an OpenAI alias means no voice."""
    try:
        store.resolve(default_voice)
    except (UnknownVoiceError, ValueError) as e:
        raise VoiceError(
            f"KOKORO_DEFAULT_VOICE is '{default_voice}', which is unusable: {e}."
        ) from e
    aliases = store.openai_voices
    for name in aliases:
        try:
            store.resolve(aliases[name])
        except (UnknownVoiceError, ValueError) as e:
            raise VoiceError(
                f"The OpenAI voice '{name}' maps to '{aliases[name]}', which is unusable: {e}. "
                "Fix KOKORO_OPENAI_VOICES."
            ) from e

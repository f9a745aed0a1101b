"""The pronunciation lexicon: words an operator taught the server to say, per language.

An entry maps a word or phrase to phonemes in the model's own alphabet (``ipa``,
what ``/dev/phonemize`` shows) or to a respelling read as text (``respell``:
"nginx" -> "engine x"). ``apply`` rewrites each sentence before its
normalization and G2P, on every path that speaks text: an IPA entry's match
becomes an inline form ``[match](/phonemes/)`` (api.text.inline: the phonemes
are used as they are, captions show the word), a respelling's match becomes
the respelling. The result is not scanned again, so entries cannot feed each
other.

Matching:

- whole words: a match neither starts after nor ends before a letter, digit or
  ``_`` ("Kokoro" matches in "Kokoro's" and "Kokoro-based", not in "Kokoros");
- case: an entry written all in lowercase matches in any case ("nginx" matches
  "Nginx" and "NGINX"); an entry with a capital matches only as written ("US"
  the country, not "us"). Where both match the same text, the one written as
  the text is wins;
- the longest match wins ("New York City" before "New York" before "New"); the
  spaces of a phrase match any run of spaces or line breaks;
- text inside inline forms and ``[pause:..]``, ``[voice:..]``, ``[speed:..]``
  tags is left alone.

Two compiled regular expressions per language (the exact entries and the
lowercase ones, each a trie so a position costs the length of a word, not the
number of entries) are searched in one pass over a sentence.

Storage: one JSON file per language, ``<voices dir>/lexicon/<language>.json``,
written atomically (api.fileio). Another process (a second replica) may write
them: every API call looks at the file's size and time first, and ``apply``
does so at most once a second per language, so a change made elsewhere is
heard within a second. An unreadable file is kept under another name and the
language starts empty; it never stops the server.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.fileio import atomic_write, set_aside
from api.text.chunks import Vocabulary
from api.text.g2p import parse_language
from api.text.inline import INLINE

__all__ = [
    "LexiconError",
    "Pronunciation",
    "PronunciationLexicon",
    "UnknownEntryError",
    "check_pronunciation",
    "check_word",
]

logger = logging.getLogger(__name__)

LEXICON_DIR = "lexicon"
"""The lexicon's directory inside the voices directory."""
MAX_ENTRIES = 10_000
"""Entries one language may hold."""
MAX_WORD_CHARS = 100
"""Longest word or phrase (the inline form's limit for its word)."""
MAX_IPA_CHARS = 300
"""Longest phonemes (the inline form's limit for its phonemes)."""
MAX_RESPELL_CHARS = 200
"""Longest respelling."""
RECHECK_S = 1.0
"""How often ``apply`` looks at a language's file for another process's change."""

_SPACES = re.compile(r"\s+")
_WORD_CHAR = re.compile(r"\w")
_TAG = r"\[(?:pause|voice|speed):[^\[\]\n]{0,220}\]"
# Spans apply() leaves as they are: inline forms and our tags.
_PROTECTED = re.compile(f"{INLINE.pattern}|(?i:{_TAG})")
# Not in phonemes: they would end the inline form ("/", brackets) or are not phonemes.
_NOT_IN_IPA = frozenset("/()[]\n")
_NOT_IN_TEXT = frozenset("[]")


class LexiconError(ValueError):
    """An entry or a request that the lexicon refuses: ``param`` names the field."""

    def __init__(self, message: str, *, param: str, code: str) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class UnknownEntryError(LookupError):
    """The language's lexicon has no such word."""


@dataclass(frozen=True)
class Pronunciation:
    """How to say a word: phonemes in the model's alphabet, or a respelling."""

    ipa: str | None = None
    respell: str | None = None

    def as_json(self) -> dict[str, str]:
        return {"ipa": self.ipa} if self.ipa is not None else {"respell": self.respell or ""}


def normalize_word(word: str) -> str:
    """A word as the lexicon keys it: edge spaces gone, inner runs of space one space."""
    return _SPACES.sub(" ", word).strip()


def _bad_characters(text: str) -> list[str]:
    """Control characters and lone surrogates: never part of a word or respelling."""
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cs")]


def _quoted(symbols: Iterable[str]) -> str:
    return ", ".join(repr(s) for s in dict.fromkeys(symbols))


def check_word(word: str, param: str = "word") -> str:
    """The normalized word, or ``LexiconError`` saying what is wrong with it."""
    normalized = normalize_word(word)
    problem = None
    if not _WORD_CHAR.search(normalized):
        problem = "needs at least one letter or digit"
    elif len(normalized) > MAX_WORD_CHARS:
        problem = f"is {len(normalized)} characters long; the limit is {MAX_WORD_CHARS}"
    elif bad := _bad_characters(word) + [c for c in normalized if c in _NOT_IN_TEXT]:
        problem = f"holds characters a word cannot: {_quoted(bad)}"
    if problem:
        raise LexiconError(f"The word {word[:120]!r} {problem}.", param=param, code="invalid_word")
    return normalized


def check_pronunciation(
    ipa: str | None, respell: str | None, vocabulary: Vocabulary, param: str
) -> Pronunciation:
    """A valid pronunciation from exactly one of ``ipa`` and ``respell``, or
    ``LexiconError``: phonemes must be symbols of the model's vocabulary."""
    if (ipa is None) == (respell is None):
        raise LexiconError(
            "Give exactly one of 'ipa' (phonemes in the model's alphabet) and 'respell' "
            "(text read in its place).",
            param=param,
            code="invalid_pronunciation",
        )
    if ipa is not None:
        phonemes = ipa.strip()
        unknown = [s for s in phonemes if s not in vocabulary.ids or s in _NOT_IN_IPA]
        if unknown:
            raise LexiconError(
                f"'ipa' holds symbols the model does not know: {_quoted(unknown)} "
                "(POST /dev/phonemize shows the model's alphabet).",
                param=f"{param}.ipa",
                code="invalid_ipa",
            )
        if vocabulary.is_silent(phonemes) or len(phonemes) > MAX_IPA_CHARS:
            raise LexiconError(
                f"'ipa' must hold 1 to {MAX_IPA_CHARS} symbols, not only spaces and punctuation.",
                param=f"{param}.ipa",
                code="invalid_ipa",
            )
        return Pronunciation(ipa=phonemes)
    text = normalize_word(respell or "")
    bad = _bad_characters(respell or "") + [c for c in text if c in _NOT_IN_TEXT]
    if not _WORD_CHAR.search(text) or len(text) > MAX_RESPELL_CHARS or bad:
        detail = f": {_quoted(bad)}" if bad else ""
        raise LexiconError(
            f"'respell' must be text of 1 to {MAX_RESPELL_CHARS} characters with a letter or "
            f"digit, without brackets or control characters{detail}.",
            param=f"{param}.respell",
            code="invalid_respelling",
        )
    return Pronunciation(respell=text)


# -- matching ---------------------------------------------------------------------------------


def _trie_pattern(words: Iterable[str]) -> str:
    """One regular expression matching any of ``words``, longest first, as a trie: at a
    position, each character is compared with the few that may follow, not every word.
    A space matches any run of white space (possessively: no word has two in a row)."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # the end of a word

    def emit(node: dict[str, Any]) -> str:
        branches = [
            (r"\s++" if char == " " else re.escape(char)) + emit(child)
            for char, child in sorted(node.items())
            if char
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        # Greedy: the longer word is tried first, the shorter one if it fails (?!\w).
        return f"(?:{body})?" if "" in node else body

    return emit(root)


def _compile(words: Iterable[str], *, ignore_case: bool) -> re.Pattern[str] | None:
    trie = _trie_pattern(words)
    if not trie:
        return None
    flags = "(?i)" if ignore_case else ""
    return re.compile(rf"{flags}(?<!\w)(?:{trie})(?!\w)")


@dataclass(frozen=True)
class _Matcher:
    """One language's entries, compiled."""

    exact: dict[str, Pronunciation]
    """Entries with a capital: matched as written."""
    folded: dict[str, Pronunciation]
    """Entries all in lowercase: matched in any case."""
    exact_pattern: re.Pattern[str] | None
    folded_pattern: re.Pattern[str] | None

    @classmethod
    def build(cls, entries: Mapping[str, Pronunciation]) -> _Matcher | None:
        if not entries:
            return None
        exact = {w: p for w, p in entries.items() if w != w.lower()}
        folded = {w: p for w, p in entries.items() if w == w.lower()}
        return cls(
            exact,
            folded,
            _compile(exact, ignore_case=False),
            _compile(folded, ignore_case=True),
        )

    def _replacement(self, match: re.Match[str], folded: bool) -> str | None:
        written = _SPACES.sub(" ", match.group())
        entry = self.folded.get(written.lower()) if folded else self.exact.get(written)
        if entry is None:  # a case-folding the regex and str.lower() disagree on
            return None
        if entry.ipa is not None:
            return f"[{written}](/{entry.ipa}/)"
        return entry.respell

    def rewrite(self, text: str) -> str:
        """``text`` with every match replaced, leftmost first, then longest, then exact."""
        patterns = [(self.exact_pattern, False), (self.folded_pattern, True)]
        found: list[re.Match[str] | None] = [None, None]
        exhausted = [pattern is None for pattern, _ in patterns]
        out: list[str] = []
        emitted = pos = 0
        while True:
            for i, (pattern, _) in enumerate(patterns):
                held = found[i]
                if (
                    pattern is not None
                    and not exhausted[i]
                    and (held is None or held.start() < pos)
                ):
                    found[i] = pattern.search(text, pos)
                    exhausted[i] = found[i] is None
            options = [(m, patterns[i][1]) for i, m in enumerate(found) if m is not None]
            if not options:
                break
            match, folded = min(options, key=lambda o: (o[0].start(), -o[0].end()))
            replacement = self._replacement(match, folded)
            if replacement is None:
                pos = match.start() + 1
                continue
            out += [text[emitted : match.start()], replacement]
            emitted = pos = match.end()
            if pos >= len(text):
                break
        out.append(text[emitted:])
        return "".join(out)


def _stored_entries(path: Path) -> dict[Any, Any]:
    """The ``entries`` object of a lexicon file."""
    raw = json.loads(path.read_bytes())["entries"]
    if not isinstance(raw, dict):
        raise TypeError("'entries' is not an object")
    return raw


def _stored_entry(word: object, value: object, vocabulary: Vocabulary) -> tuple[str, Pronunciation]:
    """One entry of a lexicon file, checked as the API checks it."""
    if not isinstance(word, str) or not isinstance(value, dict):
        raise LexiconError("not a word and an object", param=str(word), code="invalid_entry")
    ipa, respell = value.get("ipa"), value.get("respell")
    if not isinstance(ipa, str | None) or not isinstance(respell, str | None):
        raise LexiconError("'ipa' or 'respell' is not text", param=word, code="invalid_entry")
    return check_word(word), check_pronunciation(ipa, respell, vocabulary, word)


# -- the lexicon ------------------------------------------------------------------------------

_Stamp = tuple[int, int, int]
"""A file's (inode, size, mtime_ns): changes whenever it is rewritten."""


@dataclass(frozen=True)
class _Language:
    entries: dict[str, Pronunciation] = field(default_factory=dict)
    matcher: _Matcher | None = None
    stamp: _Stamp | None = None


def _stamp(path: Path) -> _Stamp | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


class PronunciationLexicon:
    """Every language's entries, kept in ``directory`` (None: in memory only). Thread-safe:
    ``apply`` reads an immutable snapshot; changes are made under a lock."""

    def __init__(
        self,
        directory: Path | None,
        vocabulary: Vocabulary,
        *,
        max_entries: int = MAX_ENTRIES,
        recheck_s: float = RECHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.vocabulary = vocabulary
        self.max_entries = max_entries
        self.skipped: dict[str, str] = {}
        """Files and entries that could not be loaded: name -> why."""
        self._recheck_s = recheck_s
        self._clock = clock
        self._lock = threading.RLock()
        self._languages: dict[str, _Language] = {}
        self._checked: dict[str, float] = {}
        self._listeners: list[Callable[[], None]] = []
        if directory is not None and directory.is_dir():
            for path in sorted(directory.glob("*.json")):
                try:
                    language = parse_language(path.stem)
                except ValueError:
                    continue
                if path.stem == language:
                    self._refresh(language)

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every change of the entries (from here or from disk):
        audio made before it may say a word differently."""
        self._listeners.append(listener)

    def _path(self, language: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{language}.json"

    # -- reading ----------------------------------------------------------------------------

    def apply(self, text: str, language: str) -> str:
        """``text`` with the language's entries applied (the ``Lexicon`` of api.speech)."""
        if self.directory is not None:
            now = self._clock()
            if now - self._checked.get(language, -self._recheck_s) >= self._recheck_s:
                self._checked[language] = now
                self._refresh(language)
        state = self._languages.get(language)
        matcher = state.matcher if state is not None else None
        if matcher is None:
            return text
        if "[" not in text:
            return matcher.rewrite(text)
        out: list[str] = []
        start = 0
        for protected in _PROTECTED.finditer(text):
            out += [matcher.rewrite(text[start : protected.start()]), protected.group()]
            start = protected.end()
        out.append(matcher.rewrite(text[start:]))
        return "".join(out)

    def entries(self, language: str) -> dict[str, Pronunciation]:
        """The language's entries, as the file holds them now."""
        self._refresh(language)
        return dict(self._current(language).entries)

    def _current(self, language: str) -> _Language:
        return self._languages.get(language) or _Language()

    def _refresh(self, language: str) -> None:
        """Reload the language's file if it changed since it was read."""
        path = self._path(language)
        if path is None:
            return
        with self._lock:
            current = self._current(language)
            stamp = _stamp(path)
            if stamp == current.stamp:
                return
            # The stamp from before the read: a file replaced meanwhile is read again.
            entries = {} if stamp is None else self._read(path, language)
            self._set(language, entries, stamp)

    def _read(self, path: Path, language: str) -> dict[str, Pronunciation]:
        try:
            raw = _stored_entries(path)
        except (OSError, ValueError, KeyError, TypeError) as e:
            self._set_aside(path, e)
            return {}
        entries: dict[str, Pronunciation] = {}
        for word, value in raw.items():
            try:
                key, entry = _stored_entry(word, value, self.vocabulary)
            except LexiconError as e:
                logger.warning("lexicon %s: skipping the entry %r: %s", path, word, e)
                self.skipped[f"{path.name}:{word}"] = str(e)
            else:
                entries[key] = entry
        if len(entries) > self.max_entries:
            logger.warning(
                "lexicon %s holds %d entries; only the first %d are used",
                path,
                len(entries),
                self.max_entries,
            )
            entries = dict(list(entries.items())[: self.max_entries])
        logger.debug("lexicon %s: %d entries for %s", path, len(entries), language)
        return entries

    def _set_aside(self, path: Path, error: Exception) -> None:
        """Keep an unreadable file under another name (the next write would replace it)."""
        kept = set_aside(path)
        logger.warning(
            "lexicon file %s is unreadable (%s), kept as %s; its language starts empty",
            path,
            error,
            kept.name,
        )
        self.skipped[path.name] = f"unreadable ({error}); kept as {kept.name}"

    def _set(self, language: str, entries: dict[str, Pronunciation], stamp: _Stamp | None) -> None:
        changed = entries != self._current(language).entries
        self._languages[language] = _Language(entries, _Matcher.build(entries), stamp)
        if changed:
            for listener in self._listeners:
                listener()

    # -- changes ----------------------------------------------------------------------------

    def merge(
        self, language: str, changes: Mapping[str, tuple[str | None, str | None]]
    ) -> dict[str, Pronunciation]:
        """Add or replace entries (word -> (ipa, respell)); all of them or, on any
        error, none. Returns the language's entries after the merge."""
        checked: dict[str, Pronunciation] = {}
        for word, (ipa, respell) in changes.items():
            param = f"entries.{word[:120]}"
            checked[check_word(word, param)] = check_pronunciation(
                ipa, respell, self.vocabulary, param
            )
        with self._lock:
            self._refresh(language)
            entries = {**self._current(language).entries, **checked}
            if len(entries) > self.max_entries:
                raise LexiconError(
                    f"The {language} lexicon would hold {len(entries)} entries; the limit "
                    f"is {self.max_entries}.",
                    param="entries",
                    code="too_many_entries",
                )
            self._save(language, entries)
            return dict(entries)

    def delete(self, language: str, word: str) -> dict[str, Pronunciation]:
        """Remove one entry; returns the language's remaining entries."""
        key = normalize_word(word)
        with self._lock:
            self._refresh(language)
            entries = dict(self._current(language).entries)
            if entries.pop(key, None) is None:
                raise UnknownEntryError(f"The {language} lexicon has no entry {word[:120]!r}.")
            self._save(language, entries)
            return entries

    def _save(self, language: str, entries: dict[str, Pronunciation]) -> None:
        path = self._path(language)
        stamp = None
        if path is not None:
            body = {"language": language, "entries": {w: p.as_json() for w, p in entries.items()}}
            data = json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True).encode()
            atomic_write(path, lambda handle: handle.write(data))
            stamp = _stamp(path)
        self._set(language, entries, stamp)


def lexicon_dir(voices_dir: Path) -> Path:
    """Where the lexicon's files live: a directory inside the voices directory."""
    return voices_dir / LEXICON_DIR

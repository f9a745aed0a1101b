"""Phonemes to token ids, cut into chunks the model accepts (at most 510 ids)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

MAX_TOKENS = 510
"""The model's context: 512 positions, two of them the padding ids around a chunk."""

_STRONG_BREAKS = ".!?;:…—"
_SILENT_SYMBOLS = frozenset(';:,.!?—…"()“” ¡¿')
_WEAK_BREAKS = ',)"”'


@dataclass(frozen=True)
class Vocabulary:
    """Kokoro's phoneme vocabulary: one symbol, one token id."""

    ids: Mapping[str, int]

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(ids=data["vocab"])

    def clean(self, phonemes: str) -> str:
        """Drop symbols the model does not know (one symbol is one token)."""
        return "".join(symbol for symbol in phonemes if symbol in self.ids)

    @staticmethod
    def is_silent(phonemes: str) -> bool:
        """True when nothing but punctuation and spaces is left to speak."""
        return all(symbol in _SILENT_SYMBOLS for symbol in phonemes)

    def encode(self, phonemes: str) -> list[int]:
        return [self.ids[symbol] for symbol in phonemes if symbol in self.ids]


def _cut_point(phonemes: str, limit: int) -> int:
    """Where to cut a too-long phoneme string: after the last strong break that fits,
    else the last weak break, else the last word boundary, else at the limit."""
    window = phonemes[: limit + 1]
    for breaks in (_STRONG_BREAKS, _WEAK_BREAKS):
        cut = max(window.rfind(symbol, 0, limit) for symbol in breaks)
        if cut > limit // 3:
            return cut + 1
    space = window.rfind(" ", 0, limit + 1)
    return space if space > 0 else limit


def split_phonemes(phonemes: str, limit: int = MAX_TOKENS) -> Iterator[str]:
    """Cut a cleaned phoneme string into pieces of at most ``limit`` symbols."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    rest = phonemes.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        piece, rest = rest[:cut].strip(), rest[cut:].strip()
        if piece:
            yield piece
    if rest:
        yield rest


@dataclass(frozen=True)
class ChunkSchedule:
    """How big successive chunks may grow, in token ids.

    The first chunk is short so the first audio leaves early: at most
    ``first_tokens`` ids, a first clause of up to ``first_clause_max`` whole
    (so that a one-line request is one call), a longer one cut between words
    (a few words). Each later chunk may be ``growth`` times larger, up to
    ``max_tokens``: it is computed while the one before plays, so it is ready
    in time while ``growth`` times the compute per second of audio stays under
    1 (1.5 holds up to 0.66 s of compute per second of audio; on a machine
    that needed 0.55, a growth of 2 made a paragraph's second chunk 0.66 s
    late). Measured on two cores: compute per second of audio is flat from
    60 to 400 ids per chunk, while peak memory grows with the chunk (the
    vocoder's activations), so chunks stop at 150 ids, which still holds most
    sentences whole.

    Chunks end at sentence ends where they can, else at clause breaks
    (commas, semicolons ...); a clause is cut between words only when it
    alone exceeds the limit.
    """

    first_tokens: int = 30
    first_clause_max: int = 40
    growth: float = 1.5
    max_tokens: int = 150

    def __post_init__(self) -> None:
        if not 1 <= self.first_tokens <= self.max_tokens <= MAX_TOKENS:
            raise ValueError("need 1 <= first_tokens <= max_tokens <= 510")
        if not self.first_tokens <= self.first_clause_max <= MAX_TOKENS:
            raise ValueError("need first_tokens <= first_clause_max <= 510")
        if self.growth < 1:
            raise ValueError("growth must be at least 1")


PLAN = ChunkSchedule()
"""The one chunk plan of every request, streamed or not, so that a request gives the
same samples either way: a short first chunk, then growing."""

SENTENCE_PAUSE_SECONDS = 0.3
CLAUSE_PAUSE_SECONDS = 0.15
WORD_PAUSE_SECONDS = 0.05


def pause_after(phonemes: str) -> float:
    """Seconds of silence that should follow a chunk, at speed 1, from how it ends."""
    text = phonemes.rstrip(' "”)')
    if text.endswith((".", "!", "?", "…")):
        return SENTENCE_PAUSE_SECONDS
    if text.endswith((",", ";", ":", "—")):
        return CLAUSE_PAUSE_SECONDS
    return WORD_PAUSE_SECONDS


_CLAUSE_BREAK = re.compile(r"(?<=[.!?;:…—,])\s+")


def split_clauses(phonemes: str) -> list[str]:
    """Cut after each punctuation mark that is followed by a space."""
    return [clause for clause in _CLAUSE_BREAK.split(phonemes) if clause]


class _ChunkPacker:
    """Joins phoneme pieces into chunks whose limit grows after each chunk."""

    def __init__(self, schedule: ChunkSchedule) -> None:
        self._schedule = schedule
        self.limit = schedule.first_tokens
        self.split_limit = schedule.first_clause_max
        self.current = ""

    def fits(self, piece: str) -> bool:
        extra = len(piece) + 1 if self.current else len(piece)
        return len(self.current) + extra <= self.limit

    def append(self, piece: str) -> None:
        self.current = f"{self.current} {piece}" if self.current else piece

    def flush(self) -> str:
        chunk, self.current = self.current, ""
        if chunk:
            self.limit = min(round(self.limit * self._schedule.growth), self._schedule.max_tokens)
            self.split_limit = self.limit
        return chunk


def plan_chunks(sentences: Iterable[str], schedule: ChunkSchedule = PLAN) -> Iterator[str]:
    """Pack cleaned phoneme sentences into chunks that grow along ``schedule``.

    Lazy: it reads one sentence ahead of the chunk it yields.
    """
    packer = _ChunkPacker(schedule)
    for sentence in sentences:
        if packer.current and not packer.fits(sentence):
            yield packer.flush()
        if packer.fits(sentence):
            packer.append(sentence)
            continue
        for clause in split_clauses(sentence):
            # A clause up to split_limit stays whole (a one-line request is one call);
            # a longer one is cut between words at the chunk's limit.
            cut = packer.split_limit if len(clause) <= packer.split_limit else packer.limit
            for piece in split_phonemes(clause, cut):
                if packer.current and not packer.fits(piece):
                    yield packer.flush()
                packer.append(piece)
    if packer.current:
        yield packer.flush()

"""Phonemes to token ids, cut into chunks the model accepts (at most 510 ids)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

MAX_TOKENS = 510
"""The model's context: 512 positions, two of them the padding ids around a chunk."""

_STRONG_BREAKS = ".!?;:…—"
_WEAK_BREAKS = ",)\"”"


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
    rest = phonemes.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        piece, rest = rest[:cut].strip(), rest[cut:].strip()
        if piece:
            yield piece
    if rest:
        yield rest

"""Split text into sentences, the unit the model speaks in one breath."""

from __future__ import annotations

import re
from collections.abc import Iterator

# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by
# whitespace, or at a line break. Every pattern is linear: no nested repeats.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n\s*")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "no", "fig"}
)
_WHITESPACE = re.compile(r"[ \t\r\f\v]+")


def _ends_with_abbreviation(text: str) -> bool:
    last_word = text.rsplit(None, 1)[-1] if text.strip() else ""
    return last_word.rstrip(".").lower() in _ABBREVIATIONS and last_word.endswith(".")


def split_sentences(text: str) -> Iterator[str]:
    """Yield the sentences of ``text`` lazily, whitespace normalized, empty ones skipped."""
    pending = ""
    start = 0
    for match in _BOUNDARY.finditer(text):
        piece = text[start : match.end()]
        start = match.end()
        pending += piece
        if "\n" not in piece and _ends_with_abbreviation(pending.rstrip()):
            continue
        sentence = _WHITESPACE.sub(" ", pending).strip()
        pending = ""
        if sentence:
            yield sentence
    sentence = _WHITESPACE.sub(" ", pending + text[start:]).strip()
    if sentence:
        yield sentence

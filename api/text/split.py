"""Split text into sentences, the unit the model speaks in one breath."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by
# whitespace, or at a line break. Every pattern is linear: no nested repeats.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？])[」』”）]*\s*|\n\s*")
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


MAX_PAUSE_SECONDS = 60.0
# A well-formed tag: [pause:1.5s], [pause:2], [PAUSE: 0.25 s]. Bounded repeats only.
_PAUSE_TAG = re.compile(r"\[pause:\s{0,3}(\d{1,3}(?:\.\d{1,3})?)\s{0,3}s?\s{0,3}\]", re.IGNORECASE)
# Anything that starts like a pause tag, to report malformed ones.
_PAUSE_LIKE = re.compile(r"\[pause:[^\]\n]{0,40}\]?", re.IGNORECASE)


class PauseTagError(ValueError):
    """A malformed or too long ``[pause:...]`` tag; the message says which."""


@dataclass(frozen=True)
class Pause:
    """Exact silence requested by a ``[pause:Ns]`` tag."""

    seconds: float


def check_pause_tags(text: str) -> None:
    """Raise ``PauseTagError`` for the first malformed or over-long pause tag."""
    for match in _PAUSE_LIKE.finditer(text):
        tag = _PAUSE_TAG.fullmatch(match.group())
        if tag is None:
            raise PauseTagError(
                f"Malformed pause tag {match.group()!r} at character {match.start() + 1}; "
                "write it like [pause:1.5s]"
            )
        seconds = float(tag.group(1))
        if seconds > MAX_PAUSE_SECONDS:
            raise PauseTagError(
                f"Pause tag {match.group()!r} asks for {seconds:g} s; the most is "
                f"{MAX_PAUSE_SECONDS:g} s"
            )


def split_segments(text: str) -> Iterator[str | Pause]:
    """Text pieces and the pauses between them, lazily, in order."""
    start = 0
    for match in _PAUSE_TAG.finditer(text):
        if match.start() > start:
            yield text[start : match.start()]
        yield Pause(min(float(match.group(1)), MAX_PAUSE_SECONDS))
        start = match.end()
    if start < len(text):
        yield text[start:]

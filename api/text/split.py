"""Split text into sentences, the unit the model speaks in one breath."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by
# whitespace, or at a line break. Every pattern is linear: no nested repeats.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？])[」』”）]*\s*|\n\s*")
ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "no", "fig"}
)
_WHITESPACE = re.compile(r"[ \t\r\f\v]+")


def _ends_with_abbreviation(text: str) -> bool:
    last_word = text.rsplit(None, 1)[-1] if text.strip() else ""
    return last_word.rstrip(".").lower() in ABBREVIATIONS and last_word.endswith(".")


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
"""The longest single pause by default (``max_pause_s``); the tag's syntax allows 999.999 s."""
# A well-formed pause: [pause:1.5s], [pause:2], [PAUSE: 0.25 s]. Bounded repeats only.
_PAUSE = r"\[pause:\s{0,3}(?P<seconds>\d{1,3}(?:\.\d{1,3})?)\s{0,3}s?\s{0,3}\]"
# A voice switch: [voice:af_heart], [voice: jf_alpha(1)+jm_kumo(1)]; the spec is
# checked by the voice store, here it only has to be non-empty and bracket-free
# (a spec's weights use parentheses, never square brackets).
_VOICE = r"\[voice:\s{0,3}(?P<spec>[^\[\]\s](?:[^\[\]\n]{0,198}[^\[\]\s])?)\s{0,3}\]"
# A speed change, relative to the request's speed: [speed:1.2], [speed: 0.8x].
_SPEED = r"\[speed:\s{0,3}(?P<speed>\d(?:\.\d{1,3})?)\s{0,3}x?\s{0,3}\]"
_TAG = re.compile(f"{_PAUSE}|{_VOICE}|{_SPEED}", re.IGNORECASE)
# Anything that starts like a tag, to report malformed ones.
_TAG_LIKE = re.compile(r"\[(?:pause|voice|speed):[^\]\n]{0,220}\]?", re.IGNORECASE)
SPEED_RANGE = (0.25, 4.0)
"""Factors a ``[speed:X]`` tag may ask for (times the request's speed)."""
_EXAMPLES = {"voice": "[voice:af_heart]", "pause": "[pause:1.5s]", "speed": "[speed:1.2]"}


class TagError(ValueError):
    """A malformed ``[pause:...]`` or ``[voice:...]`` tag, or a too long pause; the
    message says which and where."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind
        """``pause``, ``voice`` or ``speed``."""


PauseTagError = TagError
"""The name this error had when pauses were the only tags."""


@dataclass(frozen=True)
class Pause:
    """Exact silence requested by a ``[pause:Ns]`` tag."""

    seconds: float


@dataclass(frozen=True)
class SpeedChange:
    """A ``[speed:X]`` tag: the text after it, up to the next one, is spoken X times
    the request's speed (1 goes back to it)."""

    factor: float


@dataclass(frozen=True)
class VoiceSwitch:
    """A ``[voice:SPEC]`` tag: the text after it, up to the next one, uses SPEC."""

    spec: str


def check_tags(text: str, *, max_pause_s: float = MAX_PAUSE_SECONDS) -> list[str]:
    """Raise ``TagError`` for the first malformed tag or a pause over ``max_pause_s``;
    return the voice specs the tags name, in order of first appearance."""
    specs: dict[str, None] = {}
    for match in _TAG_LIKE.finditer(text):
        tag = _TAG.fullmatch(match.group())
        if tag is None:
            kind = match.group()[1:6].lower()
            example = _EXAMPLES[kind]
            raise TagError(
                f"Malformed {kind} tag {match.group()!r} at character {match.start() + 1}; "
                f"write it like {example}",
                kind,
            )
        if tag.group("spec") is not None:
            specs[tag.group("spec")] = None
            continue
        if tag.group("speed") is not None:
            low, high = SPEED_RANGE
            if not low <= float(tag.group("speed")) <= high:
                raise TagError(
                    f"Speed tag {match.group()!r} at character {match.start() + 1} asks for "
                    f"{float(tag.group('speed')):g}; a speed is from {low:g} to {high:g}",
                    "speed",
                )
            continue
        seconds = float(tag.group("seconds"))
        if seconds > max_pause_s:
            raise TagError(
                f"Pause tag {match.group()!r} asks for {seconds:g} s; the most is "
                f"{max_pause_s:g} s",
                "pause",
            )
    return list(specs)


def pause_seconds(text: str) -> float:
    """The silence the pause tags of ``text`` ask for, in all."""
    return sum(
        float(match.group("seconds"))
        for match in _TAG.finditer(text)
        if match.group("seconds") is not None
    )


def strip_tags(text: str) -> str:
    """``text`` without its well-formed tags (what is left to be read)."""
    return _TAG.sub(" ", text)


def check_pause_tags(text: str) -> None:
    """``check_tags`` for callers that only care whether the tags are well formed."""
    check_tags(text)


def split_segments(text: str) -> Iterator[str | Pause | VoiceSwitch | SpeedChange]:
    """Text pieces and the tags between them, lazily, in order."""
    start = 0
    for match in _TAG.finditer(text):
        if match.start() > start:
            yield text[start : match.start()]
        if match.group("spec") is not None:
            yield VoiceSwitch(match.group("spec"))
        elif match.group("speed") is not None:
            yield SpeedChange(float(match.group("speed")))
        else:
            yield Pause(float(match.group("seconds")))
        start = match.end()
    if start < len(text):
        yield text[start:]

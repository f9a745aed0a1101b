"""The check every text takes before it is read, whichever door it came in by.

``check_text`` makes the text safe (``sanitize_text``), reads its form (an SSML
document into tagged text, markdown into prose, emoji dropped or named: see
``TextForm``), then refuses what cannot or must not be spoken: empty text, text
over the length limit, malformed SSML or tags, pauses over the limits, and text
with nothing a reader could say. Front doors
turn a ``TextRejectedError`` into their protocol's error (HTTP: the status and code
it carries) before any audio exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.text.markdown import EmojiMode, MarkdownNestingError, read_emoji, speakable_markdown
from api.text.sanitize import has_speakable, sanitize_text
from api.text.split import MAX_PAUSE_SECONDS, TagError, check_tags, pause_seconds, strip_tags
from api.text.ssml import SSMLError, is_ssml, ssml_to_text

MAX_TOTAL_PAUSE_SECONDS = 3600.0
"""The most silence pause tags (and dialogue gaps) may add to one request, by default."""


@dataclass(frozen=True)
class TextLimits:
    """What one request may ask for (the server's settings)."""

    max_chars: int = 100_000
    max_pause_s: float = MAX_PAUSE_SECONDS
    max_total_pause_s: float = MAX_TOTAL_PAUSE_SECONDS


class TextRejectedError(ValueError):
    """Text that will not be read; ``code`` names why (snake_case), ``status`` is the
    HTTP status that fits (400, or 413 for text over the length limit)."""

    def __init__(self, message: str, code: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True)
class CheckedText:
    """Text that passed ``check_text``: safe to read, with what its tags ask for."""

    text: str
    """The sanitized text, tags kept: this is what gets read."""
    voice_specs: tuple[str, ...]
    """The voices its ``[voice:...]`` tags name, in order of first appearance."""
    pause_s: float
    """The silence its ``[pause:...]`` tags ask for, in all."""


READ_EXPANSION = 4
"""How many times the length limit a text may grow to once its form is read (SSML
letters spelled out, emoji named, ...)."""


@dataclass(frozen=True)
class TextForm:
    """How a text is written, and so how it is read before its tags are."""

    ssml: bool | None = False
    """True: an SSML document; None: when it is one (it starts with ``<speak``)."""
    voice: str = ""
    """The request's voice spec, which an SSML ``<voice>`` span switches back to."""
    markdown: bool = False
    """Read markdown as prose (``api.text.markdown``); not for SSML."""
    emoji: EmojiMode | None = None
    """Emoji dropped or named; None: left as they are."""


PLAIN = TextForm()
"""Text read as written (tags only)."""


def read_form(text: str, form: TextForm, *, what: str = "'input'") -> str:
    """``text`` as the tagged text the pipeline reads, or ``TextRejectedError``."""
    if form.ssml or (form.ssml is None and is_ssml(text)):
        try:
            return ssml_to_text(text, voice=form.voice)
        except SSMLError as e:
            raise TextRejectedError(f"{what}: {e}", "invalid_ssml") from e
    if form.markdown:
        try:
            return speakable_markdown(text, emoji=form.emoji or "drop")
        except MarkdownNestingError as e:
            raise TextRejectedError(f"{what}: {e}", "markdown_too_deep") from e
    return read_emoji(text, form.emoji) if form.emoji else text


def check_text(
    raw: str, limits: TextLimits, *, what: str = "'input'", form: TextForm = PLAIN
) -> CheckedText:
    """``raw`` made safe, read in its ``form`` and checked against ``limits``, or
    ``TextRejectedError``.

    ``what`` names the text in messages (a field, a turn)."""
    if len(raw) > limits.max_chars:
        raise TextRejectedError(
            f"{what} is {len(raw)} characters long; the limit is {limits.max_chars} characters.",
            "input_too_long",
            413,
        )
    text = read_form(sanitize_text(raw), form, what=what)
    if len(text) > READ_EXPANSION * limits.max_chars:
        raise TextRejectedError(
            f"{what} reads as {len(text)} characters (SSML spelled out, emoji named); "
            f"the limit is {READ_EXPANSION * limits.max_chars}.",
            "input_too_long",
            413,
        )
    if not text.strip():
        detail = " (only invisible or control characters)" if raw.strip() else ""
        raise TextRejectedError(f"{what} is empty{detail}; give the text to speak.", "empty_input")
    try:
        specs = check_tags(text, max_pause_s=limits.max_pause_s)
    except TagError as e:
        raise TextRejectedError(str(e), f"invalid_{e.kind}_tag") from e
    pause_s = pause_seconds(text)
    check_total_pause(pause_s, limits, what=what)
    if pause_s == 0 and not has_speakable(strip_tags(text)):
        raise TextRejectedError(
            f"{what} contains nothing that can be spoken (no letter, digit or symbol).",
            "nothing_to_speak",
        )
    return CheckedText(text, tuple(specs), pause_s)


def check_total_pause(pause_s: float, limits: TextLimits, *, what: str = "'input'") -> None:
    """Refuse a request whose pauses (and gaps) add up to more than the limit."""
    if pause_s > limits.max_total_pause_s:
        raise TextRejectedError(
            f"The pauses in {what} add up to {pause_s:g} s; the most one request may ask "
            f"for is {limits.max_total_pause_s:g} s.",
            "too_much_pause",
        )

"""Make any text safe to read: the one treatment of characters nobody can pronounce.

Every front door (HTTP, and whatever reads text next) hands text through
``check_text`` (``api.text.checks``), which starts here. The treatment, by
Unicode general category:

- **Lone surrogates** (Cs; JSON can carry ``"\\ud800"``, UTF-8 cannot): replaced
  by a space. They crashed the G2P, which hands text to espeak-ng as UTF-8.
- **Control characters** (Cc): tab, line feed and carriage return stay; the
  other line and page breaks (VT, FF, FS, GS, RS, NEL) and the Unicode line and
  paragraph separators (Zl, Zp) become a line break, which ends a sentence;
  every other control (NUL, ESC, DEL, C1 ...) becomes a space. espeak-ng reads a
  C string: text after a NUL used to be silently dropped.
- **Format characters** (Cf: zero-width spaces and joiners, bidi controls, the
  byte-order mark, soft hyphens, tag characters): dropped. They change how text
  is drawn, never how it sounds.
- **Private-use** (Co) and **unassigned** code points (Cn, non-characters
  included): replaced by a space. No reader knows them; a space keeps the words
  on either side apart.
- **Combining marks**: at most ``MAX_COMBINING`` in a row (Unicode's stream-safe
  limit); "Zalgo" stacks beyond it are cut.
- Then NFC, so that "e" + U+0301 and "é" read the same.

Nothing here raises: any ``str`` comes out as a ``str`` that encodes to UTF-8.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

MAX_COMBINING = 30
"""Combining marks kept after one base character (UAX #15's stream-safe bound)."""

_LINE_BREAKS = frozenset("\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_KEPT_CONTROLS = frozenset("\t\n\r")
_ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE_CATEGORIES = frozenset({"Cs", "Cc", "Co", "Cn"})


@cache
def _replacement(char: str) -> str | None:
    """What ``char`` becomes: None keeps it, "" drops it, else the replacement."""
    if char in _KEPT_CONTROLS:
        return None
    if char in _LINE_BREAKS:
        return "\n"
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category in _SPACE_CATEGORIES:
        return " "
    return None


def _ascii_control(match: re.Match[str]) -> str:
    return "\n" if match.group() in _LINE_BREAKS else " "


def sanitize_text(text: str) -> str:
    """``text`` with every character treated as the module says; idempotent."""
    if text.isascii():
        return _ASCII_CONTROLS.sub(_ascii_control, text)
    out: list[str] = []
    combining = 0
    for char in text:
        replacement = _replacement(char)
        if replacement is not None:
            out.append(replacement)
            combining = 0
            continue
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me"):
            combining += 1
            if combining > MAX_COMBINING:
                continue
        else:
            combining = 0
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


_SPEAKABLE = frozenset("LNS")


def has_speakable(text: str) -> bool:
    """Whether ``text`` holds anything a reader could say: a letter, a digit or a
    symbol (currency, maths, emoji). Punctuation and spaces alone are silence."""
    return any(unicodedata.category(char)[0] in _SPEAKABLE for char in text)

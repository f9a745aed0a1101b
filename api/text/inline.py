"""Inline pronunciations: ``[Kokoro](/kˈOkəɹO/)``, a word and the phonemes to say it with.

The form is the one the best-known Kokoro server reads, so its users' texts
keep working; SSML's ``<phoneme ph>`` and the pronunciation lexicon's IPA
entries become it too. The phonemes are in the model's own alphabet (what
``/dev/phonemize`` shows); symbols the model does not know are dropped when
the sentence is spoken.

Around the G2P, a sentence is read in parts: the text between inline forms
goes to the G2P (and, before it, to the normalizer) as usual, each form's
phonemes are used as they are, and the parts are joined in order. Captions
and alignments see the form's word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# Bounded repeats only: linear on any input.
INLINE = re.compile(r"\[(?P<word>[^\[\]\n]{1,100})\]\(/(?P<phonemes>[^/\n()\[\]]{1,300})/\)")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +(?=[.,!?;:…])")


@dataclass(frozen=True)
class InlinePhonemes:
    word: str
    phonemes: str


def split_inline(text: str) -> Iterator[str | InlinePhonemes]:
    """The text between inline forms, and the forms, in order (empty text skipped)."""
    start = 0
    for match in INLINE.finditer(text):
        if match.start() > start:
            yield text[start : match.start()]
        yield InlinePhonemes(match.group("word"), match.group("phonemes").strip())
        start = match.end()
    if start < len(text):
        yield text[start:]


def has_inline(text: str) -> bool:
    return "](/" in text and INLINE.search(text) is not None


def displayed(text: str) -> str:
    """``text`` with each inline form replaced by its word (what captions show)."""
    return INLINE.sub(lambda m: m.group("word"), text) if has_inline(text) else text


def map_text(text: str, transform: Callable[[str], str]) -> str:
    """``transform`` applied to the text between inline forms (its edge spaces kept);
    the forms kept as they are."""
    if not has_inline(text):
        return transform(text)
    out = []
    for part in split_inline(text):
        if isinstance(part, InlinePhonemes):
            out.append(f"[{part.word}](/{part.phonemes}/)")
            continue
        core = part.strip()
        lead, trail = part[: len(part) - len(part.lstrip())], part[len(part.rstrip()) :]
        out.append(lead + (transform(core) if core else "") + trail)
    return "".join(out)


def phonemize(g2p: Callable[[str, str], str], text: str, language: str) -> str:
    """The phonemes of ``text``: the G2P's for its text, the given ones for its forms."""
    if not has_inline(text):
        return g2p(text, language)
    parts = [
        part.phonemes if isinstance(part, InlinePhonemes) else g2p(part, language)
        for part in split_inline(text)
    ]
    joined = " ".join(p.strip() for p in parts if p.strip())
    return _SPACE_BEFORE_PUNCTUATION.sub("", joined)

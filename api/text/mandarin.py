"""Mandarin text -> Kokoro phonemes, with misaki's Chinese reader.

Kokoro v1.0's Mandarin voices were trained on misaki's first Chinese G2P
(``misaki.zh.ZHG2P()`` without a version): jieba splits the words, pypinyin
gives each syllable's pinyin with its tone, cn2an writes Arabic numerals as
Chinese numbers, and the pinyin becomes IPA with the tones as arrows (``→``
first, ``↗`` second, ``↓`` third, ``↘`` fourth) and Chinese punctuation as
the model's. This module uses that reader as it is and adds what it leaves
out: Latin words inside a Chinese sentence (it passes them through as
letters) are read by the English G2P, numbers too long for cn2an are read
digit by digit, and thousands separators are dropped so ``10,000`` is one
number.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

# Latin words (accented letters included), runs of them kept together so the
# English reader sees a phrase: "iPhone", "New York", "don't".
_LATIN_WORD = r"[A-Za-z\u00c0-\u024f]+(?:['’-][A-Za-z\u00c0-\u024f]+)*"
_LATIN_RUN = re.compile(rf"{_LATIN_WORD}(?:[ \t]+{_LATIN_WORD})*")
# cn2an reads at most 16 digits as a number and leaves longer runs as digits,
# which the model has no symbols for.
_LONG_NUMBER = re.compile(r"\d{17,}")
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
_CHINESE_DIGITS = str.maketrans("0123456789０１２３４５６７８９", "零一二三四五六七八九" * 2)
# Full-width Latin letters, which the English reader would not know.
_FULL_WIDTH_LETTERS = str.maketrans(
    {chr(code): chr(code - 0xFEE0) for code in (*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}
    | {"〇": "零"}
)
_SPACE_BEFORE_MARK = re.compile(r"\s+(?=[,.!?;:…])")
# misaki spaces its own mapped punctuation; ASCII marks typed in Chinese text
# ("你好,世界") get the same space, which the chunker also cuts at.
_MARK_WITHOUT_SPACE = re.compile(r"([,.!?;:…])(?=\w)")
_SPACES = re.compile(r"\s{2,}")


def prepare_text(text: str) -> str:
    """The text as misaki's reader should get it (see the module's docstring)."""
    text = text.translate(_FULL_WIDTH_LETTERS)
    text = _THOUSANDS.sub("", text)
    return _LONG_NUMBER.sub(lambda m: m.group().translate(_CHINESE_DIGITS), text)


def _quiet_jieba_cache(jieba: Any) -> None:
    """jieba logs every load to stderr through its own handler, and on first use
    writes its word dictionary to a cache file in the temporary directory (about
    9 MB; a later start reads it back). Without a writable temporary directory (a
    read-only root file system with no tmpfs) it would fail looking for one: it
    then gets ``os.devnull``, which is no directory, so it neither finds nor
    writes a cache and builds the dictionary in memory at each start instead."""
    jieba.setLogLevel(logging.WARNING)
    try:
        jieba.dt.tmp_dir = tempfile.gettempdir()
    except FileNotFoundError:
        logger.warning(
            "no writable temporary directory: the Mandarin word splitter builds its "
            "dictionary in memory at each start (a few seconds); set TMPDIR to keep a cache"
        )
        jieba.dt.tmp_dir = os.devnull
        # Its failed cache write is expected here: no traceback in the log.
        jieba.setLogLevel(logging.CRITICAL)


class MandarinG2P:
    """Mandarin text -> Kokoro phonemes. Loading takes a few seconds and about
    150 MB (pypinyin's and jieba's dictionaries), so it happens on the first
    Mandarin sentence, not at start. Not known to be thread-safe: callers
    serialize calls (``EspeakG2P`` holds its lock)."""

    def __init__(self) -> None:
        import jieba  # noqa: PLC0415 - loaded with the first Mandarin sentence
        from misaki.zh import ZHG2P  # noqa: PLC0415

        _quiet_jieba_cache(jieba)
        jieba.initialize()
        # No version: the reader Kokoro v1.0 was trained with ("1.1" is v1.1-zh's).
        self._reader = ZHG2P()

    def _chinese(self, text: str) -> str:
        if not text.strip():
            return ""
        phonemes, _ = self._reader(text)
        return str(phonemes)

    def __call__(self, text: str, english: Callable[[str], str]) -> str:
        """Phonemes for ``text``; ``english`` reads the Latin words in it."""
        text = prepare_text(text)
        pieces: list[str] = []
        start = 0
        for match in _LATIN_RUN.finditer(text):
            pieces += [self._chinese(text[start : match.start()]), english(match.group())]
            start = match.end()
        pieces.append(self._chinese(text[start:]))
        phonemes = " ".join(piece.strip() for piece in pieces if piece.strip())
        phonemes = _SPACE_BEFORE_MARK.sub("", phonemes)
        phonemes = _MARK_WITHOUT_SPACE.sub(r"\1 ", phonemes)
        return _SPACES.sub(" ", phonemes).strip()

"""Word timestamps from the model's per-token durations.

The model reports how many samples each phoneme symbol of a chunk lasts. Its
phoneme string separates words with spaces, so each phoneme word has a span of
audio; what is left is matching phoneme words to the words of the text.

espeak-ng usually gives one phoneme word per text word, and then the match is
one to one. Sometimes it does not: a number becomes several words ("23" ->
"twenty three"), a hyphenated or abbreviated word splits or two words merge.
Then the two sequences are aligned monotonically by dynamic programming: the
text words and the phoneme words are cut into the same number of consecutive
groups, each pairing one text word with up to a few phoneme words or one
phoneme word with up to a few text words, choosing the cut whose groups have
the most consistent length ratio (phoneme symbols per letter, a digit counting
as four letters, since digits expand when spoken), with a fixed cost per
merge so that one to one wins whenever lengths allow. A text word matched to
several phoneme words spans all of them; several text words matched to one
phoneme word share its span in proportion to their lengths.

Timestamps are therefore monotonic (each word starts no earlier than the
previous one ends), inside the chunk's audio, and every word lasts longer
than zero.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from api.backends.base import SAMPLE_RATE

PUNCTUATION = frozenset(';:,.!?—…"()“”¡¿«»→↓↗↘')
"""Phoneme-string symbols that are tokens but not sounds of a word."""
_UNSPOKEN = PUNCTUATION | {"ˈ", "ˌ"}
"""Not counted in a phoneme word's length (stress marks belong to a vowel)."""
DIGIT_WEIGHT = 4
"""Letters a digit counts for when text and phoneme lengths are compared."""
MERGE_COST = 0.5
"""Cost of pairing one word with one more word of the other side."""


@dataclass(frozen=True)
class WordTimestamp:
    """One text word and when it is spoken, in seconds from the start of the stream."""

    word: str
    start_time: float
    end_time: float


@dataclass(frozen=True)
class _PhonemeWord:
    start: int
    """First sample (inclusive) of its first spoken symbol."""
    end: int
    """Last sample (exclusive) of its last spoken symbol."""
    weight: int


def _phoneme_words(phonemes: str, ends: npt.NDArray[np.int64]) -> list[_PhonemeWord]:
    words: list[_PhonemeWord] = []
    first: int | None = None
    last = 0
    weight = 0
    for index, symbol in enumerate(f"{phonemes} "):
        if symbol == " ":
            if first is not None:
                start = int(ends[first - 1]) if first else 0
                words.append(_PhonemeWord(start, int(ends[last]), max(1, weight)))
            first, weight = None, 0
        elif symbol not in PUNCTUATION:
            if first is None:
                first = index
            last = index
            weight += symbol not in _UNSPOKEN
    # A symbol lasting zero samples could leave an empty span; drop those words.
    return [word for word in words if word.end > word.start]


def _text_weight(word: str) -> int:
    letters = sum(char.isalpha() for char in word)
    digits = sum(char.isdigit() for char in word)
    return max(1, letters + DIGIT_WEIGHT * digits)


def _align(text: list[int], spoken: list[int]) -> list[tuple[int, int, int, int]]:
    """Monotonic grouping: (text_from, text_to, spoken_from, spoken_to) half-open ranges,
    covering both sequences in order; each group is one-to-many or many-to-one."""
    n, m = len(text), len(spoken)
    if n == m:
        return [(i, i + 1, i, i + 1) for i in range(n)]
    ratio = sum(spoken) / sum(text)
    longest = max(4, math.ceil(max(n, m) / min(n, m)))
    moves = [(1, k) for k in range(1, longest + 1)] + [(k, 1) for k in range(2, longest + 1)]
    text_sums = [0, *itertools.accumulate(text)]
    spoken_sums = [0, *itertools.accumulate(spoken)]
    # Plain lists, not numpy: this loop runs scalar operations only.
    cost = [[math.inf] * (m + 1) for _ in range(n + 1)]
    step: dict[tuple[int, int], tuple[int, int]] = {}
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            here = cost[i][j]
            if here == math.inf:
                continue
            for di, dj in moves:
                ti, tj = i + di, j + dj
                if ti > n or tj > m:
                    continue
                letters = text_sums[ti] - text_sums[i]
                symbols = spoken_sums[tj] - spoken_sums[j]
                total = (
                    here + math.log(symbols / (ratio * letters)) ** 2 + MERGE_COST * (di + dj - 2)
                )
                if total < cost[ti][tj]:
                    cost[ti][tj] = total
                    step[ti, tj] = (di, dj)
    groups = []
    i, j = n, m
    while i or j:
        di, dj = step[i, j]
        groups.append((i - di, i, j - dj, j))
        i, j = i - di, j - dj
    return groups[::-1]


def word_timestamps(
    text_words: list[str],
    phonemes: str,
    durations: npt.NDArray[np.int64],
    *,
    offset_samples: int,
    sample_rate: int = SAMPLE_RATE,
) -> list[WordTimestamp]:
    """One timestamp per text word of a chunk, from the chunk's per-symbol durations.

    ``phonemes`` is the chunk's phoneme string (one symbol, one token), and
    ``durations`` the samples each symbol lasts (see ``TimedBackend``);
    ``offset_samples`` is where the chunk's audio starts in the stream. See the
    module docstring for how words are matched.
    """
    if len(durations) != len(phonemes):
        raise ValueError(
            f"{len(durations)} durations for {len(phonemes)} phoneme symbols; "
            "they must correspond one to one"
        )
    if not text_words:
        return []
    ends = np.cumsum(np.asarray(durations, dtype=np.int64))
    total = int(ends[-1]) if ends.size else 0
    if total <= 0:
        raise ValueError("the durations add up to no audio; there is nothing to place words in")
    spoken = _phoneme_words(phonemes, ends)
    if not spoken:
        # Nothing but punctuation was spoken: spread the words over the chunk.
        spoken = [_PhonemeWord(0, total, 1)]
    weights = [_text_weight(word) for word in text_words]
    spans: list[tuple[float, float]] = []
    for t_from, t_to, s_from, s_to in _align(weights, [word.weight for word in spoken]):
        start, end = spoken[s_from].start, spoken[s_to - 1].end
        group = weights[t_from:t_to]
        cuts = np.concatenate([[0], np.cumsum(group)]) / sum(group)
        spans.extend(
            (start + (end - start) * float(a), start + (end - start) * float(b))
            for a, b in itertools.pairwise(cuts)
        )
    return [
        WordTimestamp(
            word=word,
            start_time=(offset_samples + start) / sample_rate,
            end_time=(offset_samples + end) / sample_rate,
        )
        for word, (start, end) in zip(text_words, spans, strict=True)
    ]

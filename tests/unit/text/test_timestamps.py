"""Word timestamps from per-symbol durations, on hand-made inputs."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.text.timestamps import PUNCTUATION, WordTimestamp, word_timestamps

RATE = 24_000


def even(phonemes: str, samples: int = 1200) -> np.ndarray:
    return np.full(len(phonemes), samples, dtype=np.int64)


def spans(stamps: list[WordTimestamp]) -> list[tuple[str, float, float]]:
    return [(s.word, round(s.start_time, 6), round(s.end_time, 6)) for s in stamps]


def test_one_to_one_words_span_their_symbols() -> None:
    phonemes = "hɛlˈO wˈɜɹld"  # 5 + space + 6 symbols, 0.05 s each
    stamps = word_timestamps(["Hello", "world"], phonemes, even(phonemes), offset_samples=0)
    assert spans(stamps) == [("Hello", 0.0, 0.25), ("world", 0.3, 0.6)]


def test_offset_shifts_every_word() -> None:
    phonemes = "ə bˈɔl"
    stamps = word_timestamps(["a", "ball"], phonemes, even(phonemes), offset_samples=RATE)
    assert spans(stamps) == [("a", 1.0, 1.05), ("ball", 1.1, 1.3)]


def test_sample_rate_is_respected() -> None:
    phonemes = "ə bˈɔl"
    stamps = word_timestamps(
        ["a", "ball"], phonemes, even(phonemes, 100), offset_samples=0, sample_rate=1000
    )
    assert spans(stamps) == [("a", 0.0, 0.1), ("ball", 0.2, 0.6)]


def test_leading_and_trailing_punctuation_is_not_part_of_a_word() -> None:
    phonemes = "“hˈI,” ʃi sˈɛd."
    durations = even(phonemes)
    stamps = word_timestamps(["“Hi,”", "she", "said."], phonemes, durations, offset_samples=0)
    # “ is symbol 0; h starts at 0.05 s; ˈI ends after symbol 3 (0.2 s); ,” are skipped.
    assert spans(stamps) == [("“Hi,”", 0.05, 0.2), ("she", 0.35, 0.45), ("said.", 0.5, 0.7)]


def test_punctuation_only_groups_are_not_words() -> None:
    phonemes = "wˈʌn — tˈu"
    stamps = word_timestamps(["one", "two"], phonemes, even(phonemes), offset_samples=0)
    assert [s.word for s in stamps] == ["one", "two"]
    assert stamps[1].start_time == pytest.approx(7 * 0.05)


def test_long_symbols_make_long_words() -> None:
    phonemes = "ə bˈɔl"
    durations = np.array([100, 50, 10, 10, 2000, 10], dtype=np.int64)
    stamps = word_timestamps(["a", "ball"], phonemes, durations, offset_samples=0)
    assert stamps[1].end_time - stamps[1].start_time == pytest.approx(2030 / RATE)


def test_a_number_spoken_as_two_words_spans_both() -> None:
    phonemes = "ˈI hˈæv twˈɛnti θɹˈi ˈæpəlz."
    stamps = word_timestamps(
        ["I", "have", "23", "apples."], phonemes, even(phonemes), offset_samples=0
    )
    number = stamps[2]
    assert number.start_time == pytest.approx(phonemes.index("twˈɛnti") * 0.05)
    assert number.end_time == pytest.approx((phonemes.index("θɹˈi") + 4) * 0.05)
    assert stamps[3].start_time == pytest.approx(phonemes.index("ˈæpəlz") * 0.05)


def test_two_text_words_merged_by_espeak_share_the_span_by_length() -> None:
    phonemes = "ɪnðə hˈaʊs"  # "in the" came out as one phoneme word
    stamps = word_timestamps(["in", "the", "house"], phonemes, even(phonemes), offset_samples=0)
    assert [s.word for s in stamps] == ["in", "the", "house"]
    merged_end = 4 * 0.05
    assert stamps[0].start_time == 0.0
    assert stamps[0].end_time == pytest.approx(merged_end * 2 / 5)  # "in" 2 of 5 letters
    assert stamps[1].start_time == stamps[0].end_time
    assert stamps[1].end_time == pytest.approx(merged_end)
    assert stamps[2].start_time == pytest.approx(5 * 0.05)


def test_more_text_words_than_sounds_still_get_ordered_spans() -> None:
    phonemes = "jˈuˈɛs."
    stamps = word_timestamps(["U", "S", "A", "today"], phonemes, even(phonemes), offset_samples=0)
    assert len(stamps) == 4
    assert_well_formed(stamps, 0, len(phonemes) * 1200)


def test_only_punctuation_spreads_words_over_the_chunk() -> None:
    stamps = word_timestamps(["—"], "…", even("…"), offset_samples=0)
    assert spans(stamps) == [("—", 0.0, 0.05)]


def test_no_words_no_timestamps() -> None:
    assert word_timestamps([], "hˈI", even("hˈI"), offset_samples=0) == []


def test_durations_must_match_the_symbols() -> None:
    with pytest.raises(ValueError, match="one to one"):
        word_timestamps(["hi"], "hˈI", even("hˈI")[:-1], offset_samples=0)


def test_no_audio_is_refused() -> None:
    with pytest.raises(ValueError, match="no audio"):
        word_timestamps(["hi"], "hˈI", np.zeros(3, dtype=np.int64), offset_samples=0)


def assert_well_formed(stamps: list[WordTimestamp], offset: int, total: int) -> None:
    previous_end = offset / RATE
    for stamp in stamps:
        assert stamp.start_time >= previous_end - 1e-9
        assert stamp.end_time > stamp.start_time
        previous_end = stamp.end_time
    assert previous_end <= (offset + total) / RATE + 1e-9


SYMBOLS = "abdefhijklmnoprstuvwzæðŋɑɔəɛɪʃʊʌʒθˈˌː"
phoneme_words = st.text(alphabet=SYMBOLS, min_size=1, max_size=8)
punctuated = st.tuples(
    st.sampled_from(["", "“", "("]), phoneme_words, st.sampled_from(["", ",", ".", "!”", "…"])
).map("".join)
text_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789'-", min_size=1, max_size=10)


@settings(max_examples=200, deadline=1000)
@given(
    words=st.lists(punctuated, min_size=1, max_size=30),
    text=st.lists(text_words, min_size=1, max_size=30),
    data=st.data(),
    offset=st.integers(min_value=0, max_value=10**7),
)
def test_timestamps_are_monotonic_positive_and_inside_the_chunk(
    words: list[str], text: list[str], data: st.DataObject, offset: int
) -> None:
    phonemes = " ".join(words)
    durations = np.array(
        data.draw(
            st.lists(
                st.integers(min_value=1, max_value=20_000),
                min_size=len(phonemes),
                max_size=len(phonemes),
            )
        ),
        dtype=np.int64,
    )
    stamps = word_timestamps(text, phonemes, durations, offset_samples=offset)
    assert [s.word for s in stamps] == text
    assert_well_formed(stamps, offset, int(durations.sum()))


@settings(max_examples=100, deadline=1000)
@given(words=st.lists(phoneme_words, min_size=1, max_size=40))
def test_equal_counts_match_one_to_one(words: list[str]) -> None:
    phonemes = " ".join(words)
    stamps = word_timestamps(words, phonemes, even(phonemes), offset_samples=0)
    position = 0
    for word, stamp in zip(words, stamps, strict=True):
        assert stamp.start_time == pytest.approx(position * 0.05)
        assert stamp.end_time == pytest.approx((position + len(word)) * 0.05)
        position += len(word) + 1


@pytest.mark.parametrize(("text_count", "phoneme_count"), [(60, 100), (170, 255), (1, 255)])
def test_a_long_mismatched_chunk_is_quick(text_count: int, phoneme_count: int) -> None:
    # 510 symbols is the most a chunk holds; 255 one-symbol words is the worst case.
    phonemes = " ".join(["t"] * phoneme_count)
    started = time.perf_counter()
    stamps = word_timestamps(["w"] * text_count, phonemes, even(phonemes), offset_samples=0)
    assert time.perf_counter() - started < 1.0
    assert_well_formed(stamps, 0, len(phonemes) * 1200)


def test_punctuation_set_holds_the_vocabulary_punctuation() -> None:
    assert set('!"(),.:;?—“”…') <= PUNCTUATION

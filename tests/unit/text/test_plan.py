"""plan_chunks: the growing chunk schedule that streaming relies on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.text.chunks import (
    MAX_TOKENS,
    PLAN,
    ChunkSchedule,
    plan_chunks,
    split_clauses,
)


def words(count: int, word: str = "ab") -> str:
    return " ".join([word] * count)


def symbols(text: str) -> str:
    return text.replace(" ", "")


def test_clauses_end_after_punctuation_followed_by_a_space() -> None:
    assert split_clauses("a b, c d; e. f") == ["a b,", "c d;", "e.", "f"]
    assert split_clauses("a,b") == ["a,b"]  # no space: not a break


def test_first_chunk_is_a_short_first_clause_when_the_sentence_is_long() -> None:
    clause = words(9) + ","  # 27 symbols: under first_tokens
    sentence = f"{clause} {words(20)}."
    chunks = list(plan_chunks([sentence], PLAN))
    assert chunks[0] == clause
    assert symbols(" ".join(chunks)) == symbols(sentence)


def test_a_first_sentence_a_little_over_the_first_limit_stays_whole() -> None:
    sentence = words(12) + "."  # 36 symbols: over first_tokens, under first_clause_max
    assert next(plan_chunks([sentence, words(30) + "."], PLAN)) == sentence


def test_a_long_first_clause_gives_a_first_chunk_of_a_few_words() -> None:
    clause = words(15) + ","  # 45 symbols: over first_tokens
    sentence = f"{clause} {words(20)}."
    chunks = list(plan_chunks([sentence], PLAN))
    assert chunks[0] == words(10)  # cut between words, as many as fit
    assert chunks[1].startswith(words(5) + ",")  # the rest of the clause leads the next
    assert symbols(" ".join(chunks)) == symbols(sentence)


def test_a_short_first_sentence_is_the_first_chunk_whole() -> None:
    chunks = list(plan_chunks([words(5) + ".", words(30) + "."], PLAN))
    assert chunks[0] == words(5) + "."


def test_an_overlong_first_clause_is_cut_between_words() -> None:
    sentence = words(40) + "."  # 119 symbols, no clause break
    chunks = list(plan_chunks([sentence], PLAN))
    assert len(chunks[0]) <= PLAN.first_clause_max
    assert not chunks[0].endswith(" ")
    assert symbols(" ".join(chunks)) == symbols(sentence)


def test_chunks_grow_and_sentences_stay_whole_where_they_fit() -> None:
    sentences = [words(8) + "." for _ in range(40)]  # 24 symbols each
    chunks = list(plan_chunks(sentences, PLAN))
    sizes = [len(c) for c in chunks]
    assert sizes[0] <= PLAN.first_tokens
    assert max(sizes) <= PLAN.max_tokens
    assert sizes[-2] > 4 * sizes[0]  # grew
    assert all(c.endswith(".") for c in chunks)  # cut at sentence ends only


def test_a_schedule_without_growth_packs_sentences_up_to_its_limit() -> None:
    packing = ChunkSchedule(first_tokens=150, first_clause_max=150, growth=1.0)
    sentences = [words(8) + "." for _ in range(20)]
    chunks = list(plan_chunks(sentences, packing))
    assert all(len(c) <= packing.max_tokens for c in chunks)
    assert len(chunks[0]) > packing.max_tokens - 25  # full from the start


def test_planning_is_lazy() -> None:
    seen: list[int] = []

    def sentences() -> object:
        for index in range(1000):
            seen.append(index)
            yield words(8) + "."

    first = next(plan_chunks(sentences(), PLAN))  # type: ignore[arg-type]
    assert first
    assert len(seen) <= 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"first_tokens": 0},
        {"first_tokens": 200, "max_tokens": 150},
        {"max_tokens": MAX_TOKENS + 1},
        {"first_clause_max": 10},
        {"growth": 0.5},
    ],
)
def test_bad_schedules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"need|growth"):
        ChunkSchedule(**kwargs)  # type: ignore[arg-type]


sentence_text = st.lists(
    st.sampled_from(["ab", "cde", "f", "gh,", "ij.", "k;", "lmnop"]), min_size=1, max_size=120
).map(" ".join)


@given(st.lists(sentence_text, min_size=1, max_size=12))
def test_property_no_symbol_lost_and_no_chunk_too_long(sentences: list[str]) -> None:
    for schedule in (PLAN, ChunkSchedule(first_tokens=150, first_clause_max=150, growth=1.0)):
        chunks = list(plan_chunks(sentences, schedule))
        assert symbols("".join(chunks)) == symbols("".join(sentences))
        limit = max(schedule.max_tokens, schedule.first_clause_max)
        assert all(0 < len(c) <= limit for c in chunks)

"""Sentence splitting: where the model takes a breath."""

from __future__ import annotations

import inspect

import pytest

from api.text import split
from api.text.split import split_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        pytest.param(
            "Hello there. General Kenobi.", ["Hello there.", "General Kenobi."], id="period"
        ),
        pytest.param("Stop! Who goes there?", ["Stop!", "Who goes there?"], id="bang-question"),
        pytest.param("Wait… what? No.", ["Wait…", "what?", "No."], id="ellipsis"),
        pytest.param("Really?!  Yes.", ["Really?!", "Yes."], id="repeated-marks"),
        pytest.param(
            'He said "Hi." Then he left.', ['He said "Hi."', "Then he left."], id="closing-quote"
        ),
        pytest.param(
            "She wrote “Done.” Then slept.", ["She wrote “Done.”", "Then slept."], id="curly-quote"
        ),
        pytest.param("Look (over there.) Now.", ["Look (over there.)", "Now."], id="bracket"),
        pytest.param("first line\nsecond line", ["first line", "second line"], id="newline"),
        pytest.param("one\n\n\n  two", ["one", "two"], id="blank-lines"),
        pytest.param("no final stop", ["no final stop"], id="no-terminator"),
    ],
)
def test_splits_at_sentence_boundaries(text: str, sentences: list[str]) -> None:
    assert list(split_sentences(text)) == sentences


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("It costs 3.50 dollars today.", id="decimal"),
        pytest.param("See example.com for more.", id="domain"),
        pytest.param("Wow!Amazing stuff.", id="no-space-after-mark"),
    ],
)
def test_does_not_split_inside_a_word(text: str) -> None:
    assert list(split_sentences(text)) == [text]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Mr. Smith met Dr. Jones today.", id="mr-dr"),
        pytest.param("Mrs. Brown and Prof. Green agreed.", id="mrs-prof"),
        pytest.param("Bring fruit, e.g. apples and pears.", id="e.g."),
        pytest.param("Bring fruit, i.e. apples.", id="i.e."),
        pytest.param("Cats vs. dogs is an old debate.", id="vs"),
        pytest.param("Turn left on Main St. and stop.", id="st"),
        pytest.param("Apples, pears etc. are fruit.", id="etc"),
        pytest.param("See fig. 3 above.", id="fig"),
        pytest.param("MR. SMITH ARRIVED.", id="upper-case"),
    ],
)
def test_abbreviations_do_not_end_a_sentence(text: str) -> None:
    assert list(split_sentences(text)) == [text]


def test_abbreviation_is_kept_with_the_following_sentence_text() -> None:
    assert list(split_sentences("I met Mr. Smith. He waved.")) == [
        "I met Mr. Smith.",
        "He waved.",
    ]


def test_no_followed_by_a_number_is_an_abbreviation() -> None:
    assert list(split_sentences("Take No. 5 home.")) == ["Take No. 5 home."]


def test_a_line_break_after_an_abbreviation_still_ends_the_sentence() -> None:
    assert list(split_sentences("Signed, Dr.\nNext line")) == ["Signed, Dr.", "Next line"]


def test_a_word_merely_ending_like_an_abbreviation_splits() -> None:
    # "Dr" is an abbreviation, "Doctor" is not, even though both end in "r".
    assert list(split_sentences("Call the doctor. Now.")) == ["Call the doctor.", "Now."]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        pytest.param("a   b\t\tc.", ["a b c."], id="spaces-and-tabs"),
        pytest.param("  padded  ", ["padded"], id="outer-whitespace"),
        pytest.param("x\r\ny", ["x", "y"], id="crlf"),
        pytest.param("one.   \t two.", ["one.", "two."], id="whitespace-after-stop"),
        pytest.param("a \f\v b", ["a b"], id="form-feed-vertical-tab"),
    ],
)
def test_normalizes_whitespace(text: str, sentences: list[str]) -> None:
    assert list(split_sentences(text)) == sentences


@pytest.mark.parametrize("text", ["", " ", "\n\n", " \t\n \r\n "])
def test_blank_input_yields_nothing(text: str) -> None:
    assert list(split_sentences(text)) == []


def test_returns_a_generator() -> None:
    assert inspect.isgenerator(split_sentences("One. Two."))


def test_yields_the_first_sentence_before_reading_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    normalized: list[str] = []
    real = split._WHITESPACE

    class CountingPattern:
        def sub(self, replacement: str, text: str) -> str:
            normalized.append(text)
            return real.sub(replacement, text)

    monkeypatch.setattr(split, "_WHITESPACE", CountingPattern())
    sentences = split_sentences("Sentence number one. " * 1000)

    assert next(sentences) == "Sentence number one."
    assert len(normalized) == 1
    assert next(sentences) == "Sentence number one."
    assert len(normalized) == 2


def test_no_text_is_lost_between_sentences() -> None:
    text = "First one. Second one!\nThird? Mr. Fourth… fifth"
    words = text.split()
    assert " ".join(split_sentences(text)).split() == words

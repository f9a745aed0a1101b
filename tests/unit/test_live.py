"""How text that arrives in pieces is cut into pieces worth speaking."""

from __future__ import annotations

import pytest

from api.live import (
    CLAUSE_CHARS,
    EAGER_CLAUSE_CHARS,
    EAGER_WORDS_CHARS,
    MAX_PIECE_CHARS,
    TextFeed,
)


def fed(*parts: str) -> TextFeed:
    feed = TextFeed()
    for part in parts:
        feed.push(part)
    return feed


def test_a_sentence_is_spoken_once_its_end_is_there() -> None:
    feed = fed("Hello there")
    assert feed.pop() is None
    feed.push(". And th")
    assert feed.pop() == "Hello there. "
    assert feed.pop() is None
    assert feed.pending == "And th"


def test_a_sentence_end_at_the_end_of_the_text_so_far_counts() -> None:
    assert fed("Is it done?").pop() == "Is it done?"
    assert fed("Quoted.\u201d").pop() == "Quoted.\u201d"


@pytest.mark.parametrize("head", ["Ask Dr.", "It costs 3.", "Made in the U.", "Made in the U.S."])
def test_what_may_go_on_waits_for_more(head: str) -> None:
    feed = fed(head)
    assert feed.pop() is None
    feed.push(" more words follow here. Next")
    piece = feed.pop()
    assert piece is not None
    assert piece.startswith(head)
    assert piece.endswith("here. ")


def test_abbreviations_do_not_end_a_sentence_even_followed_by_a_space() -> None:
    assert fed("Mr. Smith went home. Then").pop() == "Mr. Smith went home. "


def test_a_newline_ends_a_piece() -> None:
    assert fed("A heading\nThe text").pop() == "A heading\n"


def test_clauses_are_cut_early_only_while_the_listener_waits() -> None:
    text = "a" * (EAGER_CLAUSE_CHARS - 5) + " words, and then the rest"
    assert fed(text).pop() is None
    assert fed(text).pop(eager=True) == text[: text.index(",") + 2]
    long = "b" * CLAUSE_CHARS + ", more"
    assert fed(long).pop() == "b" * CLAUSE_CHARS + ", "


def test_a_waiting_listener_hears_the_first_whole_words_at_once() -> None:
    text = "The weather today is sunny with a light bree"
    assert fed(text).pop() is None
    piece = fed(text).pop(eager=True)
    assert piece == "The weather today is sunny with "
    assert len(piece) >= EAGER_WORDS_CHARS
    # The word being written is never cut.
    assert fed("x" * (EAGER_WORDS_CHARS + 10)).pop(eager=True) is None
    assert fed("short words only").pop(eager=True) is None


def test_a_sentence_with_no_end_is_cut_at_a_word() -> None:
    text = "word " * (MAX_PIECE_CHARS // 5 + 10)
    piece = fed(text).pop()
    assert piece is not None
    assert len(piece) <= MAX_PIECE_CHARS
    assert piece.endswith(" ")
    unbroken = fed("x" * (MAX_PIECE_CHARS + 5)).pop()
    assert unbroken == "x" * MAX_PIECE_CHARS


def test_a_piece_never_ends_inside_a_tag() -> None:
    feed = fed("Wait [pause:1.5")
    assert feed.pop(flush=False) is None
    feed.push("s]. Go on.")
    assert feed.pop() == "Wait [pause:1.5s]. "
    assert fed("[voice:af_heart. bf_emma] Hi.").pop() == "[voice:af_heart. bf_emma] Hi."


def test_flush_takes_everything_and_spaces_are_dropped() -> None:
    feed = fed("half a thought")
    assert feed.pop(flush=True) == "half a thought"
    assert feed.pending == ""
    spaces = fed("   ")
    assert spaces.pop(flush=True) is None
    assert spaces.pending == ""


def test_pieces_put_back_together_are_the_text() -> None:
    text = (
        "The first. Dr. Who said 3.5 is fine, and then, well, nothing.\n"
        "Heading\n" + "long " * 80 + "end. Final words"
    )
    feed = TextFeed()
    pieces: list[str] = []
    for i in range(0, len(text), 7):
        feed.push(text[i : i + 7])
        while (piece := feed.pop(eager=len(pieces) % 2 == 0)) is not None:
            pieces.append(piece)
    while (piece := feed.pop(flush=True)) is not None:
        pieces.append(piece)
    assert "".join(pieces) == text
    assert all(len(p) <= MAX_PIECE_CHARS for p in pieces)

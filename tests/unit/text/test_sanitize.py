"""The one treatment of characters nobody can pronounce, and the checks every text takes."""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.text.checks import TextLimits, TextRejectedError, check_text
from api.text.sanitize import MAX_COMBINING, has_speakable, sanitize_text

# Every code point, surrogates included (hypothesis leaves them out of text() by default).
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=300)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("hello\x00world", "hello world"),  # NUL: espeak-ng stopped reading at it
        ("\ud800 hi", "  hi"),  # a lone surrogate cannot be UTF-8
        ("hi \udc00there", "hi  there"),
        ("zero\u200bwidth", "zerowidth"),  # format characters are dropped
        ("\ufeffbom", "bom"),
        ("\u202ereversed\u202c", "reversed"),  # bidi controls
        ("soft\u00adhyphen", "softhyphen"),
        ("private \ue000 use", "private   use"),
        ("unassigned \U000e0fff x", "unassigned   x"),
        ("non\ufffecharacter", "non character"),
        ("line\u2028separator", "line\nseparator"),
        ("page\x0cbreak", "page\nbreak"),
        ("next\x85line", "next\nline"),
        ("esc\x1b[31m red", "esc [31m red"),
        ("tab\tand\nnewline\r\n", "tab\tand\nnewline\r\n"),
        ("cafe\u0301", "caf\u00e9"),  # NFC
        ("plain ASCII stays.", "plain ASCII stays."),
        ("emoji 😀 and 日本語 stay", "emoji 😀 and 日本語 stay"),
    ],
)
def test_each_kind_of_character_has_its_treatment(raw: str, clean: str) -> None:
    assert sanitize_text(raw) == clean


def test_combining_stacks_are_cut_to_the_stream_safe_limit() -> None:
    zalgo = "a" + "\u0301\u0316" * 500 + " b"
    clean = sanitize_text(zalgo)
    marks = [c for c in clean if unicodedata.combining(c)]
    assert len(marks) <= MAX_COMBINING
    assert clean.endswith(" b")


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_any_text_comes_out_encodable_and_clean(raw: str) -> None:
    clean = sanitize_text(raw)
    clean.encode("utf-8")  # never raises
    for char in clean:
        category = unicodedata.category(char)
        assert category not in ("Cs", "Cf", "Co", "Cn"), (raw, char)
        assert category != "Cc" or char in "\t\n\r", (raw, char)
    assert sanitize_text(clean) == clean  # idempotent


def test_the_longest_input_is_made_safe_quickly() -> None:
    # 100,000 characters of every kind at once: linear, well under a second.
    mix = "".join(chr(c) for c in range(0x20, 0x3000) if c not in range(0xD800, 0xE000))
    text = (mix * (100_000 // len(mix) + 1))[:100_000] + "\ud800"
    started = time.perf_counter()
    sanitize_text(text)
    assert time.perf_counter() - started < 5  # a bound against quadratic work, not a benchmark


@pytest.mark.parametrize(
    ("text", "speakable"),
    [("hello", True), ("42", True), ("😀", True), ("$", True), ("...!?", False), (" \n", False)],
)
def test_speakable_means_a_letter_digit_or_symbol(text: str, speakable: bool) -> None:
    assert has_speakable(text) is speakable


LIMITS = TextLimits(max_chars=1000, max_pause_s=60, max_total_pause_s=100)


@pytest.mark.parametrize(
    ("raw", "code", "status"),
    [
        ("", "empty_input", 400),
        ("\u200b" * 500, "empty_input", 400),
        ("\x00\x01\x02", "empty_input", 400),
        ("...", "nothing_to_speak", 400),
        ("a" * 1001, "input_too_long", 413),
        ("[pause:61s]", "invalid_pause_tag", 400),
        ("[pause:60s] [pause:41s] ok", "too_much_pause", 400),
        ("[pause:oops]", "invalid_pause_tag", 400),
        ("[voice:]", "invalid_voice_tag", 400),
    ],
)
def test_unusable_text_is_refused_with_its_reason(raw: str, code: str, status: int) -> None:
    with pytest.raises(TextRejectedError) as caught:
        check_text(raw, LIMITS)
    assert (caught.value.code, caught.value.status) == (code, status)


def test_usable_text_comes_back_clean_with_what_its_tags_ask() -> None:
    checked = check_text("hello\x00world [pause:2s] [voice:am_adam] bye [pause:0.5s]", LIMITS)
    assert checked.text.startswith("hello world ")
    assert checked.voice_specs == ("am_adam",)
    assert checked.pause_s == pytest.approx(2.5)


def test_a_pause_alone_is_usable() -> None:
    assert check_text("[pause:1s]", LIMITS).pause_s == 1.0

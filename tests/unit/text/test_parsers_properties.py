"""Property tests for the parsers of user text not covered elsewhere: sentences,
pause tags and language codes (voice specs, normalization and chunking have theirs)."""

from __future__ import annotations

import re
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from api.text.g2p import (
    LANGUAGE_BY_VOICE_PREFIX,
    SUPPORTED_LANGUAGES,
    LanguageError,
    language_for_text,
    parse_language,
)
from api.text.split import (
    MAX_PAUSE_SECONDS,
    Pause,
    PauseTagError,
    check_pause_tags,
    split_segments,
    split_sentences,
)

# Text rich in what the parsers look at: stops, quotes, brackets, line breaks, tags.
TEXTISH = st.text(
    alphabet=st.sampled_from(list("ab .!?…。！？\"'”’)]」\n\t [pause:1.5s]PAUSE0123456789")),
    max_size=120,
) | st.text(max_size=80)


def _squeezed(text: str) -> str:
    return "".join(text.split())


@given(TEXTISH)
def test_sentences_keep_every_visible_character_in_order(text: str) -> None:
    sentences = list(split_sentences(text))
    assert _squeezed("".join(sentences)) == _squeezed(text)
    assert all(s and s == s.strip() and "\n" not in s for s in sentences)


@given(TEXTISH)
def test_pause_tags_are_checked_without_surprises(text: str) -> None:
    error: PauseTagError | None = None
    try:
        check_pause_tags(text)
    except PauseTagError as e:
        error = e
    if error is not None:
        assert "pause" in str(error).lower()
        return
    # Accepted: every tag-like piece became a pause, none is left in the text.
    segments = list(split_segments(text))
    pauses = [s for s in segments if isinstance(s, Pause)]
    assert all(0 <= p.seconds <= MAX_PAUSE_SECONDS for p in pauses)
    spoken = "".join(s for s in segments if isinstance(s, str))
    assert not re.search(r"\[pause:[^\]\n]{0,40}\]", spoken, re.IGNORECASE)


@given(st.lists(st.floats(min_value=0, max_value=60).map(lambda x: round(x, 2)), max_size=5))
def test_well_formed_pauses_come_back_as_written(seconds: list[float]) -> None:
    text = " word ".join(f"[pause:{s}s]" for s in seconds)
    check_pause_tags(text)
    assert [p.seconds for p in split_segments(text) if isinstance(p, Pause)] == seconds


@given(st.text(max_size=20))
def test_a_language_code_is_known_or_refused_by_name(code: str) -> None:
    error: LanguageError | None = None
    try:
        language = parse_language(code)
    except LanguageError as e:
        error = e
    if error is not None:
        assert repr(code) in str(error)
        return
    assert language in SUPPORTED_LANGUAGES


@given(
    st.sampled_from([*LANGUAGE_BY_VOICE_PREFIX, *SUPPORTED_LANGUAGES]),
    st.sampled_from([str.upper, str.lower, str.title]),
    st.text(alphabet=" \t", max_size=3),
)
def test_known_codes_parse_in_any_case_and_spacing(
    code: str, case: Callable[[str], str], pad: str
) -> None:
    assert parse_language(pad + case(code) + pad) in SUPPORTED_LANGUAGES


@given(st.text(max_size=40), st.sampled_from(sorted(SUPPORTED_LANGUAGES)))
def test_language_for_text_is_a_supported_language(text: str, language: str) -> None:
    assert language_for_text(text, language) in SUPPORTED_LANGUAGES

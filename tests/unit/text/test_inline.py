"""Inline pronunciations ``[word](/phonemes/)`` and ``[speed:X]`` spans."""

from __future__ import annotations

from typing import cast

import pytest

from api.speech import SpeechJob, Utterance
from api.text import inline
from api.text.split import TagError, check_tags
from api.voices.store import Voice


def fake_g2p(text: str, language: str) -> str:
    return text.strip().upper()


def test_inline_forms_keep_their_phonemes_and_the_rest_goes_to_the_g2p() -> None:
    text = "I like [Kokoro](/kˈOkəɹO/) a lot."
    assert inline.phonemize(fake_g2p, text, "en-us") == "I LIKE kˈOkəɹO A LOT."
    assert inline.phonemize(fake_g2p, "[Kokoro](/kˈOkəɹO/).", "en-us") == "kˈOkəɹO."
    assert inline.phonemize(fake_g2p, "no forms here", "en-us") == "NO FORMS HERE"


def test_captions_see_the_word_and_the_normalizer_only_the_text() -> None:
    text = "Use [nginx](/ˈɛnʤɪn ˈɛks/) 2 times"
    assert inline.displayed(text) == "Use nginx 2 times"
    assert inline.map_text(text, str.upper) == "USE [nginx](/ˈɛnʤɪn ˈɛks/) 2 TIMES"


@pytest.mark.parametrize("text", ["[a](/b)", "[a](b/)", "[](/x/)", "a](/x/)", "[a]\n(/x/)"])
def test_what_is_not_an_inline_form_is_text(text: str) -> None:
    assert inline.displayed(text) == text


def test_speed_tags_set_the_speed_of_what_follows() -> None:
    voice = cast(Voice, object())
    job = SpeechJob(text="Slow [speed:0.5] slower [speed:1] back.", voice=voice, language="en-us")
    speeds = [(p.text.strip(), p.speed) for p in job.pieces() if isinstance(p, Utterance)]
    assert speeds == [("Slow", 1.0), ("slower", 0.5), ("back.", 1.0)]


@pytest.mark.parametrize("tag", ["[speed:9]", "[speed:0.1]", "[speed:fast]"])
def test_bad_speed_tags_are_refused(tag: str) -> None:
    with pytest.raises(TagError) as e:
        check_tags(f"Hi {tag} there")
    assert e.value.kind == "speed"

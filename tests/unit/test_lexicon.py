"""The pronunciation lexicon: matching, validation and its files."""

from __future__ import annotations

import json
import logging
import random
import string
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.lexicon import (
    MAX_WORD_CHARS,
    LexiconError,
    Pronunciation,
    PronunciationLexicon,
    UnknownEntryError,
    lexicon_dir,
)
from api.text.chunks import Vocabulary
from api.text.inline import INLINE, displayed
from api.weights import ModelFiles

KOKORO = "kˈOkəɹO"


@pytest.fixture(scope="module")
def vocab(model_files: ModelFiles) -> Vocabulary:
    return Vocabulary.load(model_files.vocab)


@pytest.fixture
def lexicon(vocab: Vocabulary) -> PronunciationLexicon:
    """In memory, with a few entries in American English."""
    lexicon = PronunciationLexicon(None, vocab)
    lexicon.merge(
        "en-us",
        {
            "Kokoro": (KOKORO, None),
            "nginx": (None, "engine x"),
            "US": (None, "united states"),
            "us": (None, "uss"),
            "New York City": (None, "big apple"),
            "new york": (None, "nork"),
            "New": (None, "neu"),
            "C++": (None, "c plus plus"),
        },
    )
    return lexicon


# -- matching -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kokoro is nice", f"[Kokoro](/{KOKORO}/) is nice"),
        ("Kokoro's voice", f"[Kokoro](/{KOKORO}/)'s voice"),
        ("Kokoro-based", f"[Kokoro](/{KOKORO}/)-based"),
        ("Kokoros and xKokoro and Kokoro_1", "Kokoros and xKokoro and Kokoro_1"),
        ("I like C++ a lot.", "I like c plus plus a lot."),
        ("nothing here", "nothing here"),
    ],
)
def test_whole_words_only(lexicon: PronunciationLexicon, text: str, expected: str) -> None:
    assert lexicon.apply(text, "en-us") == expected


def test_a_lowercase_entry_matches_any_case(lexicon: PronunciationLexicon) -> None:
    assert lexicon.apply("nginx, Nginx, NGINX", "en-us") == "engine x, engine x, engine x"


def test_an_entry_with_capitals_matches_only_as_written(lexicon: PronunciationLexicon) -> None:
    assert lexicon.apply("KOKORO kokoro", "en-us") == "KOKORO kokoro"
    # "US" as written wins over "us" (any case); "Us" is only "us".
    assert lexicon.apply("US us Us", "en-us") == "united states uss uss"


def test_the_longest_match_wins(lexicon: PronunciationLexicon) -> None:
    text = "New York City, new york, New York, New Yorker, New"
    assert lexicon.apply(text, "en-us") == "big apple, nork, nork, neu Yorker, neu"


def test_a_phrase_matches_across_any_white_space(lexicon: PronunciationLexicon) -> None:
    assert lexicon.apply("New\n  York \tCity", "en-us") == "big apple"
    assert lexicon.apply("NEW  YORK", "en-us") == "nork"


def test_an_ipa_match_becomes_an_inline_form_of_the_text_as_written(
    vocab: Vocabulary,
) -> None:
    lexicon = PronunciationLexicon(None, vocab)
    lexicon.merge("en-us", {"kokoro tts": (KOKORO, None)})
    out = lexicon.apply("Try KOKORO\nTTS now.", "en-us")
    assert out == f"Try [KOKORO TTS](/{KOKORO}/) now."
    assert INLINE.search(out) is not None
    assert displayed(out) == "Try KOKORO TTS now."


def test_inline_forms_and_tags_are_left_alone(lexicon: PronunciationLexicon) -> None:
    text = "[Kokoro](/kəkˈɔɹO/) [pause:1s] [voice:nginx] Kokoro nginx"
    expected = f"[Kokoro](/kəkˈɔɹO/) [pause:1s] [voice:nginx] [Kokoro](/{KOKORO}/) engine x"
    assert lexicon.apply(text, "en-us") == expected


def test_a_respelling_is_not_read_again(vocab: Vocabulary) -> None:
    lexicon = PronunciationLexicon(None, vocab)
    lexicon.merge("en-us", {"a": (None, "b"), "b": (None, "a")})
    assert lexicon.apply("a b", "en-us") == "b a"


def test_each_language_has_its_own_entries(lexicon: PronunciationLexicon) -> None:
    assert lexicon.apply("nginx", "en-gb") == "nginx"
    lexicon.merge("en-gb", {"nginx": (None, "n jinx")})
    assert lexicon.apply("nginx", "en-gb") == "n jinx"
    assert lexicon.apply("nginx", "en-us") == "engine x"


def test_entries_that_share_a_prefix_fall_back_to_the_shorter(vocab: Vocabulary) -> None:
    lexicon = PronunciationLexicon(None, vocab)
    lexicon.merge("es", {"x" * n: (None, str(n)) for n in range(1, MAX_WORD_CHARS + 1)})
    assert lexicon.apply("xxx x xxxxxxxxxx", "es") == "3 1 10"
    assert lexicon.apply("x" * 101, "es") == "x" * 101


def test_apply_is_linear_on_a_long_text_with_many_entries(vocab: Vocabulary) -> None:
    rng = random.Random(18)
    letters = string.ascii_letters

    def word(low: int, high: int) -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(low, high)))

    lexicon = PronunciationLexicon(None, vocab)
    lexicon.merge("en-us", {word(3, 10): (None, "x") for _ in range(1000)})
    text = " ".join(word(1, 8) for _ in range(25_000))[:100_000]
    started = time.perf_counter()
    lexicon.apply(text, "en-us")
    lexicon.apply("a" * 100_000, "en-us")
    assert time.perf_counter() - started < 2.0  # a hang guard, not a benchmark


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_apply_never_fails_and_keeps_text_without_entries(text: str) -> None:
    lexicon = PronunciationLexicon(None, Vocabulary({"a": 1}))
    lexicon.merge("en-us", {"ab": (None, "c"), "AB": ("a", None)})
    out = lexicon.apply(text, "en-us")
    assert isinstance(out, str)
    if "ab" not in text.lower():
        assert out == text


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ipa", "respell", "code", "param"),
    [
        (None, None, "invalid_pronunciation", "entries.w"),
        ("a", "b", "invalid_pronunciation", "entries.w"),
        ("kˈOkəɹO☃", None, "invalid_ipa", "entries.w.ipa"),
        ("ab/c", None, "invalid_ipa", "entries.w.ipa"),
        ("", None, "invalid_ipa", "entries.w.ipa"),
        (" , ", None, "invalid_ipa", "entries.w.ipa"),
        ("a" * 301, None, "invalid_ipa", "entries.w.ipa"),
        (None, "", "invalid_respelling", "entries.w.respell"),
        (None, "[voice:af_bella] x", "invalid_respelling", "entries.w.respell"),
        (None, "a\x00b", "invalid_respelling", "entries.w.respell"),
    ],
)
def test_bad_pronunciations_are_refused(
    vocab: Vocabulary, ipa: str | None, respell: str | None, code: str, param: str
) -> None:
    lexicon = PronunciationLexicon(None, vocab)
    with pytest.raises(LexiconError) as raised:
        lexicon.merge("en-us", {"w": (ipa, respell)})
    assert raised.value.code == code
    assert raised.value.param == param
    assert lexicon.entries("en-us") == {}


def test_unknown_symbols_are_named(vocab: Vocabulary) -> None:
    with pytest.raises(LexiconError, match="'☃', '∆'"):
        PronunciationLexicon(None, vocab).merge("en-us", {"w": ("a☃b∆☃", None)})


@pytest.mark.parametrize("word", ["", "   ", "...", "a\nb", "[x]", "x" * 101, "a\x07"])
def test_bad_words_are_refused(vocab: Vocabulary, word: str) -> None:
    with pytest.raises(LexiconError) as raised:
        PronunciationLexicon(None, vocab).merge("en-us", {word: (None, "x")})
    assert raised.value.code == "invalid_word"


def test_words_are_stored_with_their_spaces_normalized(lexicon: PronunciationLexicon) -> None:
    lexicon.merge("en-us", {"  Hello    World ": (None, "hi")})
    assert lexicon.entries("en-us")["Hello World"] == Pronunciation(respell="hi")
    lexicon.delete("en-us", "Hello  World")
    assert "Hello World" not in lexicon.entries("en-us")


def test_a_merge_is_all_or_nothing(lexicon: PronunciationLexicon) -> None:
    before = lexicon.entries("en-us")
    with pytest.raises(LexiconError):
        lexicon.merge("en-us", {"fine": (None, "ok"), "bad": ("☃", None)})
    assert lexicon.entries("en-us") == before


def test_the_entry_cap_holds(vocab: Vocabulary) -> None:
    lexicon = PronunciationLexicon(None, vocab, max_entries=3)
    lexicon.merge("en-us", {"a": (None, "x"), "b": (None, "x"), "c": (None, "x")})
    lexicon.merge("en-us", {"a": (None, "y")})  # a replacement adds nothing
    with pytest.raises(LexiconError) as raised:
        lexicon.merge("en-us", {"d": (None, "x")})
    assert raised.value.code == "too_many_entries"


def test_deleting_an_unknown_word_raises(lexicon: PronunciationLexicon) -> None:
    with pytest.raises(UnknownEntryError):
        lexicon.delete("en-us", "absent")


# -- files ------------------------------------------------------------------------------------


def test_entries_survive_a_restart(vocab: Vocabulary, tmp_path: Path) -> None:
    directory = lexicon_dir(tmp_path)
    first = PronunciationLexicon(directory, vocab)
    first.merge("en-us", {"Kokoro": (KOKORO, None), "nginx": (None, "engine x")})
    first.merge("fr-fr", {"nginx": (None, "ène djinx")})
    first.delete("en-us", "nginx")
    assert sorted(p.name for p in directory.iterdir()) == ["en-us.json", "fr-fr.json"]  # no temp
    stored = json.loads((directory / "en-us.json").read_text())
    assert stored == {"language": "en-us", "entries": {"Kokoro": {"ipa": KOKORO}}}
    second = PronunciationLexicon(directory, vocab)
    assert second.entries("en-us") == first.entries("en-us")
    assert second.entries("fr-fr") == {"nginx": Pronunciation(respell="ène djinx")}
    assert second.apply("Kokoro", "en-us") == f"[Kokoro](/{KOKORO}/)"


def test_another_process_change_is_seen_within_the_recheck(
    vocab: Vocabulary, tmp_path: Path
) -> None:
    now = [0.0]
    directory = lexicon_dir(tmp_path)
    reader = PronunciationLexicon(directory, vocab, clock=lambda: now[0])
    changes: list[None] = []
    reader.subscribe(lambda: changes.append(None))
    assert reader.apply("nginx", "en-us") == "nginx"
    PronunciationLexicon(directory, vocab).merge("en-us", {"nginx": (None, "engine x")})
    assert reader.apply("nginx", "en-us") == "nginx"  # looked less than a second ago
    now[0] = 1.5
    assert reader.apply("nginx", "en-us") == "engine x"
    assert changes == [None]
    # An API call looks at once.
    PronunciationLexicon(directory, vocab).delete("en-us", "nginx")
    assert reader.entries("en-us") == {}
    assert len(changes) == 2


def test_changes_are_announced_only_when_entries_change(lexicon: PronunciationLexicon) -> None:
    changes: list[None] = []
    lexicon.subscribe(lambda: changes.append(None))
    lexicon.merge("en-us", {"nginx": (None, "engine x")})  # the same as before
    assert changes == []
    lexicon.merge("en-us", {"nginx": (None, "n g inx")})
    assert changes == [None]


def test_an_unreadable_file_is_kept_aside_and_never_stops_the_start(
    vocab: Vocabulary, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = lexicon_dir(tmp_path)
    directory.mkdir()
    (directory / "en-us.json").write_text('{"entries": {"Kokoro": ')
    (directory / "en-gb.json").write_text('{"entries": []}')
    with caplog.at_level(logging.WARNING, logger="api.lexicon"):
        lexicon = PronunciationLexicon(directory, vocab)
    assert lexicon.entries("en-us") == {}
    assert lexicon.entries("en-gb") == {}
    assert "unreadable" in caplog.text
    kept = sorted(p.name for p in directory.iterdir())
    assert [name.split("-2")[0] for name in kept] == [
        "en-gb.json.unreadable",
        "en-us.json.unreadable",
    ]
    lexicon.merge("en-us", {"nginx": (None, "engine x")})  # writes a new file beside them
    assert (directory / "en-us.json").is_file()


def test_bad_entries_in_a_file_are_skipped_the_rest_kept(vocab: Vocabulary, tmp_path: Path) -> None:
    directory = lexicon_dir(tmp_path)
    directory.mkdir()
    entries = {
        "Kokoro": {"ipa": KOKORO},
        "snow": {"ipa": "☃"},
        "both": {"ipa": "a", "respell": "b"},
        "odd": ["not", "an", "object"],
        "nginx": {"respell": "engine x"},
    }
    (directory / "en-us.json").write_text(json.dumps({"entries": entries}))
    lexicon = PronunciationLexicon(directory, vocab)
    assert set(lexicon.entries("en-us")) == {"Kokoro", "nginx"}
    assert set(lexicon.skipped) == {"en-us.json:snow", "en-us.json:both", "en-us.json:odd"}


def test_files_of_other_names_are_ignored(vocab: Vocabulary, tmp_path: Path) -> None:
    directory = lexicon_dir(tmp_path)
    directory.mkdir()
    (directory / "notes.json").write_text("not json")
    (directory / "a.json").write_text("not json either")  # a letter, not the file's name
    lexicon = PronunciationLexicon(directory, vocab)
    assert lexicon.skipped == {}
    assert (directory / "notes.json").read_text() == "not json"

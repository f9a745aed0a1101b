"""Phoneme vocabulary and the cutting of long phoneme strings into model-sized chunks."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.text.chunks import MAX_TOKENS, Vocabulary, split_phonemes
from api.weights import ModelFiles


@pytest.fixture(scope="module")
def vocab(model_files: ModelFiles) -> Vocabulary:
    return Vocabulary.load(model_files.vocab)


def _symbols(pieces: list[str]) -> str:
    return "".join(pieces).replace(" ", "")


# --- Vocabulary ---------------------------------------------------------------------------


def test_load_reads_the_real_kokoro_vocabulary(vocab: Vocabulary) -> None:
    assert len(vocab.ids) == 114
    # A few ids fixed by Kokoro-82M's config; a different vocabulary would scramble speech.
    assert vocab.ids[";"] == 1
    assert vocab.ids["."] == 4
    assert vocab.ids[" "] == 16
    assert vocab.ids["A"] == 24
    assert vocab.ids["a"] == 43
    assert vocab.ids["ʤ"] == 82
    assert vocab.ids["ˈ"] == 156


def test_real_vocabulary_ids_are_distinct_and_leave_room_for_padding(vocab: Vocabulary) -> None:
    ids = list(vocab.ids.values())
    assert len(set(ids)) == len(ids)
    assert 0 not in ids  # 0 pads every chunk on both sides
    assert max(ids) < 178  # the model's embedding table has 178 rows


def test_load_reads_the_vocab_key_of_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({"vocab": {"a": 7, "ʃ": 9}, "other": 1}), encoding="utf-8")
    assert dict(Vocabulary.load(path).ids) == {"a": 7, "ʃ": 9}


def test_clean_drops_unknown_symbols_and_keeps_order(vocab: Vocabulary) -> None:
    assert vocab.clean("h\u0329ə🙂l#ˈO") == "həlˈO"


def test_clean_keeps_a_fully_known_string_unchanged(vocab: Vocabulary) -> None:
    phonemes = "həlˈO wˈɜɹld."
    assert vocab.clean(phonemes) == phonemes


def test_encode_maps_each_symbol_to_its_id(vocab: Vocabulary) -> None:
    assert vocab.encode("ah. ;") == [43, 50, 4, 16, 1]


def test_encode_skips_unknown_symbols(vocab: Vocabulary) -> None:
    assert vocab.encode("a🙂h") == [43, 50]


def test_encode_of_empty_string_is_empty(vocab: Vocabulary) -> None:
    assert vocab.encode("") == []


@pytest.mark.parametrize("phonemes", ["", " ", ".", "…", "—, ", '"(“”)"', "¡¿!?;:"])
def test_is_silent_for_punctuation_and_spaces_only(phonemes: str) -> None:
    assert Vocabulary.is_silent(phonemes)


@pytest.mark.parametrize("phonemes", ["a", ". a", "həlˈO", "…I"])
def test_is_not_silent_when_a_sound_is_left(phonemes: str) -> None:
    assert not Vocabulary.is_silent(phonemes)


# --- split_phonemes -----------------------------------------------------------------------


def test_short_input_is_one_stripped_piece() -> None:
    assert list(split_phonemes("  həlˈO  ", limit=10)) == ["həlˈO"]


def test_input_of_exactly_the_limit_is_not_cut() -> None:
    assert list(split_phonemes("a" * 10, limit=10)) == ["a" * 10]


@pytest.mark.parametrize("phonemes", ["", "   "])
def test_blank_input_yields_no_piece(phonemes: str) -> None:
    assert list(split_phonemes(phonemes, limit=10)) == []


def test_default_limit_is_the_model_context() -> None:
    pieces = list(split_phonemes("a" * (MAX_TOKENS + 1)))
    assert [len(piece) for piece in pieces] == [MAX_TOKENS, 1]


def test_prefers_cutting_after_strong_punctuation() -> None:
    # Within the 12-symbol window a weak break (",") and spaces come later; "." wins.
    assert list(split_phonemes("aaaaa. b, c d e", limit=12)) == ["aaaaa.", "b, c d e"]


@pytest.mark.parametrize("mark", list(".!?;:…—"))
def test_every_strong_mark_is_a_preferred_cut(mark: str) -> None:
    assert next(split_phonemes(f"aaaaa{mark} b, c d e", limit=12)) == f"aaaaa{mark}"


def test_prefers_weak_punctuation_over_spaces() -> None:
    assert list(split_phonemes("aaaaa, bb cc dd", limit=12)) == ["aaaaa,", "bb cc dd"]


def test_falls_back_to_the_last_space() -> None:
    assert list(split_phonemes("aaaaa bbbbb ccccc", limit=12)) == ["aaaaa bbbbb", "ccccc"]


def test_ignores_a_break_too_close_to_the_start() -> None:
    # Cutting after "a." would leave a uselessly short chunk; the later space is used.
    assert list(split_phonemes("a. bbbbbbbbb cc", limit=12)) == ["a. bbbbbbbbb", "cc"]


def test_hard_cut_when_there_is_no_break() -> None:
    assert list(split_phonemes("x" * 25, limit=10)) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize(
    ("phonemes", "limit"),
    [
        ("ab cd ef gh ij kl mn", 5),
        ("həlˈO, wˈɜɹld. ðɪs ɪz ə lˈɔŋ sˈɛntəns; wɪð mˈɛni pˈɔzᵻz — ænd mˈɔɹ!", 16),
        ("x" * 100 + " " + "y" * 7, 9),
        (",,,,,,,,,,,,,,,,,,,,,,,,", 4),
        ("a" * 1500, MAX_TOKENS),
    ],
)
def test_pieces_fit_and_lose_no_symbol(phonemes: str, limit: int) -> None:
    pieces = list(split_phonemes(phonemes, limit=limit))
    assert all(0 < len(piece) <= limit for piece in pieces)
    assert _symbols(pieces) == phonemes.replace(" ", "")


_PHONEME_ALPHABET = st.sampled_from(list('aɪəˈˌhlOAIʤθ ,.!?;:—…"()“”'))


@given(phonemes=st.text(_PHONEME_ALPHABET, max_size=400), limit=st.integers(1, 60))
def test_property_pieces_never_exceed_the_limit(phonemes: str, limit: int) -> None:
    for piece in split_phonemes(phonemes, limit=limit):
        assert 0 < len(piece) <= limit


@given(phonemes=st.text(_PHONEME_ALPHABET, max_size=400), limit=st.integers(1, 60))
def test_property_no_symbol_is_lost_or_reordered(phonemes: str, limit: int) -> None:
    pieces = list(split_phonemes(phonemes, limit=limit))
    assert _symbols(pieces) == phonemes.replace(" ", "")


@given(phonemes=st.text(_PHONEME_ALPHABET, max_size=400), limit=st.integers(1, 60))
def test_property_pieces_carry_no_outer_spaces(phonemes: str, limit: int) -> None:
    for piece in split_phonemes(phonemes, limit=limit):
        assert piece == piece.strip()


@given(
    words=st.lists(st.text(st.sampled_from("abcdəɪ"), min_size=1, max_size=8), min_size=1),
    limit=st.integers(8, 60),
)
def test_property_words_shorter_than_the_limit_are_never_cut(words: list[str], limit: int) -> None:
    pieces = list(split_phonemes(" ".join(words), limit=limit))
    assert [word for piece in pieces for word in piece.split(" ")] == words


@pytest.mark.parametrize(
    "phonemes",
    [
        pytest.param("x" * 100_000, id="no-breaks"),
        pytest.param("," * 100_000, id="only-commas"),
        pytest.param("." * 100_000, id="only-stops"),
        pytest.param("a " * 50_000, id="one-letter-words"),
        pytest.param("." + "x" * 99_999, id="break-only-at-start"),
    ],
)
def test_splits_a_100k_adversarial_input_quickly(phonemes: str) -> None:
    started = time.perf_counter()
    pieces = list(split_phonemes(phonemes))
    elapsed = time.perf_counter() - started

    assert elapsed < 2.0
    assert all(len(piece) <= MAX_TOKENS for piece in pieces)
    assert _symbols(pieces) == phonemes.replace(" ", "")

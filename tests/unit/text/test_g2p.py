"""espeak-ng phonemes rewritten into Kokoro's (misaki's) alphabet."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.text.chunks import Vocabulary
from api.text.g2p import (
    EspeakG2P,
    LanguageError,
    g2p_language,
    language_for_text,
    parse_language,
    to_kokoro_phonemes,
)

# --- to_kokoro_phonemes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("espeak", "language", "kokoro"),
    [
        pytest.param("nˈe^ɪm", "en-us", "nˈAm", id="eɪ-A"),
        pytest.param("ma^ɪ", "en-us", "mI", id="aɪ-I"),
        pytest.param("hˈo^ʊm", "en-us", "hˈOm", id="oʊ-O-us"),
        pytest.param("nˈa^ʊ", "en-us", "nˈW", id="aʊ-W"),
        pytest.param("bˈɔ^ɪ", "en-us", "bˈY", id="ɔɪ-Y"),
        pytest.param("d^ʒˈʌd^ʒ", "en-us", "ʤˈʌʤ", id="dʒ-ʤ"),
        pytest.param("t^ʃˈɜːt^ʃ", "en-us", "ʧˈɜɹʧ", id="tʃ-ʧ-and-ɜː-ɜɹ"),
        pytest.param("wˈɔːɾɚ", "en-us", "wˈɔTəɹ", id="flap-T-and-ɚ-us"),
        pytest.param("bˈʌʔn̩", "en-us", "bˈʌtᵊn", id="glottal-n"),
        pytest.param("ɹˈʌn ɐ", "en-us", "ɹˈʌn ə", id="ɐ-ə"),
        pytest.param("lˈɒx", "en-gb", "lˈɒk", id="x-k"),
        pytest.param("hˈə^ʊm", "en-gb", "hˈQm", id="əʊ-Q-gb"),
        pytest.param("ˈe^ə", "en-gb", "ˈɛː", id="eə-ɛː-gb"),
        pytest.param("ʃˈiː", "en-gb", "ʃˈiː", id="length-kept-gb"),
        pytest.param("ʃˈiː", "en-us", "ʃˈi", id="length-dropped-us"),
        pytest.param("wˈɔːɾə", "en-gb", "wˈɔːɾə", id="no-flap-rewrite-gb"),
        pytest.param("hˈə^ʊm", "en-us", "hˈəʊm", id="no-Q-in-us"),
        pytest.param("t^s", "en-us", "ts", id="other-ties-removed"),
        pytest.param("hˈo^ʊm", "fr-fr", "hˈOm", id="unknown-language-reads-us"),
        pytest.param("", "en-us", "", id="empty"),
    ],
)
def test_to_kokoro_phonemes_rewrites(espeak: str, language: str, kokoro: str) -> None:
    assert to_kokoro_phonemes(espeak, language) == kokoro


def test_british_near_vowel_is_rewritten_and_a_two_syllable_ie_is_not() -> None:
    assert to_kokoro_phonemes("sˈi^əɹiəs", "en-gb") == "sˈɪəɹiəs"


def test_american_linking_r_is_not_doubled() -> None:
    assert to_kokoro_phonemes("kɚɹˈiːə", "en-us") == "kəɹˈiə"


@given(espeak=st.text(st.sampled_from("ae^ɪʊoəʒdtʃɔɾɚ ˈː"), max_size=60))
def test_property_no_tie_survives(espeak: str) -> None:
    for language in ("en-us", "en-gb"):
        assert "^" not in to_kokoro_phonemes(espeak, language)


# --- language_for_voice -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("a", "en-us"),
        ("b", "en-gb"),
        ("E", "es"),
        ("f", "fr-fr"),
        ("fr", "fr-fr"),
        ("en", "en-us"),
        ("en_GB", "en-gb"),
        ("j", "ja"),
        ("zh", "cmn"),
        ("pt-br", "pt-br"),
    ],
)
def test_lang_codes_are_letters_or_names(code: str, language: str) -> None:
    assert parse_language(code) == language


@pytest.mark.parametrize("code", ["x", "klingon", "", "en-au"])
def test_unknown_lang_codes_list_the_known_ones(code: str) -> None:
    with pytest.raises(LanguageError, match="a \\(en-us\\)"):
        parse_language(code)


@pytest.mark.parametrize(
    ("voice_language", "language"),
    [("en-us", "en-us"), ("en-gb", "en-gb"), ("es", "es"), ("ja", "ja"), (None, "en-us")],
)
def test_g2p_language_follows_the_voice(voice_language: str | None, language: str) -> None:
    assert g2p_language(voice_language) == language


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Hello there.", "ja", "en-us"),
        ("こんにちは。", "ja", "ja"),
        ("Hello 東京.", "ja", "ja"),
        ("Hello.", "cmn", "en-us"),
        ("你好。", "cmn", "cmn"),
        ("Hola.", "es", "es"),
    ],
)
def test_cjk_voices_read_text_without_cjk_as_english(
    text: str, language: str, expected: str
) -> None:
    assert language_for_text(text, language) == expected


# --- EspeakG2P (real espeak-ng) -----------------------------------------------------------


@pytest.mark.parametrize("language", ["en-us", "en-gb"])
@pytest.mark.parametrize(
    "text", ["Hello world.", "The judge bought a toy boat, didn't she?", "Water, butter; later!"]
)
def test_espeak_output_is_entirely_in_the_vocabulary(
    g2p: EspeakG2P, vocab: Vocabulary, text: str, language: str
) -> None:
    phonemes = g2p(text, language)
    assert phonemes
    assert not Vocabulary.is_silent(phonemes)
    assert vocab.clean(phonemes) == phonemes
    assert "^" not in phonemes


def test_american_english_uses_misaki_symbols(g2p: EspeakG2P) -> None:
    phonemes = g2p("Go home, judge. Better now.", "en-us")
    assert {"O", "ʤ", "T", "W"} <= set(phonemes)
    assert "ː" not in phonemes


def test_british_english_uses_the_q_diphthong_and_keeps_length(g2p: EspeakG2P) -> None:
    phonemes = g2p("Go home, Sheila.", "en-gb")
    assert "Q" in phonemes
    assert "O" not in phonemes
    assert "ː" in phonemes


def test_espeak_keeps_punctuation(g2p: EspeakG2P) -> None:
    phonemes = g2p("Yes, really. No!", "en-us")
    assert [symbol for symbol in phonemes if symbol in ",.!"] == [",", ".", "!"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_text_gives_no_phonemes(g2p: EspeakG2P, text: str) -> None:
    assert g2p(text) == ""


_SENTENCES = [
    (
        "The quick brown fox jumps over the lazy dog, then naps by the warm fire until dawn.",
        "en-us",
    ),
    ("She sells sea shells by the sea shore; the shells she sells are surely seashells.", "en-gb"),
    (
        "How much wood would a woodchuck chuck if a woodchuck could chuck wood? Nobody knows.",
        "en-us",
    ),
    ("Peter Piper picked a peck of pickled peppers; where is the peck that he picked?", "en-gb"),
    ("Thirty-three thousand feathers on a thrush's throat, said the theatre director.", "en-us"),
]


def test_concurrent_calls_match_single_threaded_results(g2p: EspeakG2P) -> None:
    # 4 threads x 10 long sentences in both languages, released together and each in
    # a different order, so unserialized calls overlap inside espeak-ng (without the
    # lock this garbles or crashes in most runs).
    jobs = _SENTENCES * 2
    expected = {job: g2p(*job) for job in jobs}
    start = threading.Barrier(4)

    def speak_all(offset: int) -> list[tuple[tuple[str, str], str]]:
        order = jobs[offset:] + jobs[:offset]
        start.wait()
        return [(job, g2p(*job)) for job in order]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = [pair for batch in pool.map(speak_all, range(4)) for pair in batch]

    assert len(results) == 40
    assert [phonemes for job, phonemes in results] == [expected[job] for job, _ in results]


@pytest.mark.parametrize(
    ("espeak", "language", "kokoro"),
    [
        pytest.param("a^ɪ wʊd ɹˈæðɚ", "en-us", "ˈI wʊd ɹˈæðəɹ", id="sentence-start"),
        pytest.param("jˈɛstɚdˌe^ɪ a^ɪ sˈɔː", "en-us", "jˈɛstəɹdˌA ˈI sˈɔ", id="mid-sentence"),
        pytest.param("a^ɪm hˈɪɹ. a^ɪl ɡˈo^ʊ.", "en-us", "ˈIm hˈɪɹ. ˈIl ɡˈO.", id="contractions"),
        pytest.param("a^ɪəm hˈɪɹ.", "en-us", "ˈI æm hˈɪɹ.", id="i-am-split"),
        pytest.param('"a^ɪ!"', "en-gb", '"ˈI!"', id="quoted-british"),
        pytest.param("tˈa^ɪm", "en-us", "tˈIm", id="inside-a-word-untouched"),
        pytest.param("ˈa^ɪ", "en-us", "ˈI", id="already-stressed"),
        pytest.param("a^ɪ", "es", "I", id="not-english"),
    ],
)
def test_the_pronoun_i_is_stressed(espeak: str, language: str, kokoro: str) -> None:
    assert to_kokoro_phonemes(espeak, language) == kokoro

"""All nine languages with the real model: one sentence each, read by a built-in
voice of that language, in that language's phonemes."""

from __future__ import annotations

import importlib.util
from typing import NamedTuple

import numpy as np
import pytest

from api.speech import SpeechJob, SpeechService

pytestmark = pytest.mark.model

MARKS = set(" .,;:!?¡¿—…\"'«»“”()ˈˌː")
TONES = set("→↗↓↘")
# What an English reading would show in a language that has none of it: the
# English approximant r and misaki's English-only vowels.
ENGLISH_ONLY = set("ɹɚᵊ")


class Case(NamedTuple):
    voice: str
    language: str
    text: str
    inventory: set[str]  # every symbol the reading may use
    own: set[str]  # symbols the reading must use: this language, not another


CASES = [
    Case(
        "af_heart",
        "en-us",
        "The quick brown fox jumps over the lazy dog.",
        set("abdefhijklmnoprstuvwzæðŋɑɔəɛɜɡɪɹʃʊʌʒʤʧθAIOWYT") | MARKS,
        {"ɹ", "W", "A", "ʌ"},
    ),
    Case(
        "bf_emma",
        "en-gb",
        "The old boat floated slowly down the river past the houses.",
        set("abdefhijklmnoprstuvwzæðŋɑɒɔəɛɜɡɪɹʃʊʌʒʤʧθAIQWY") | MARKS,
        {"Q", "ɹ"},  # British "əʊ"; American would be "O"
    ),
    Case(
        "ef_dora",
        "es",
        "El perro de mi vecino corre todos los días por el parque.",
        set("abdefiklmnoprstuwxjŋɲʎɾβðɣθʝʧʃIWOAY") | MARKS,
        {"ɾ", "ð", "β"},
    ),
    Case(
        "ff_siwis",
        "fr-fr",
        "Le petit chat dort tranquillement sur le canapé du salon.",
        set("abdefijklmnopstuvwyzøœɔəɛɑʁʃʒɲŋ̃ɥ-") | MARKS,
        {"ʁ", "ɑ", "̃"},
    ),
    Case(
        "hf_alpha",
        "hi",
        "मुझे ठंडा पानी और मीठा दूध बहुत पसंद है।",
        set("abdefhijklmnoprstuvwzŋɔəɛɡɪɟʃʊʌʈɖɳɽɾʂʰʋʧʤ̃") | MARKS,
        {"ʈ", "ɖ", "ɳ", "ʰ"},  # retroflex and aspirated consonants
    ),
    Case(
        "if_sara",
        "it",
        "Il gatto dorme tranquillo sul divano del salotto.",
        set("abdefijklmnoprstuvwzŋɔɛɡɪʃʊʎɲʒʦʣʧʤ") | MARKS,
        {"r", "ɔ", "ː"},  # trilled r, open o, double consonants
    ),
    Case(
        "pf_dora",
        "pt-br",
        "O menino brinca no parque todos os dias com o cachorro.",
        set("abdefijklmnoprstuvwxyzæŋəɐɛɔɡɪɾʃʊʎɲʒʧʤ̃") | MARKS,
        {"x", "ʃ", "ʤ"},  # Brazilian rr, ch and di
    ),
    Case(
        "zf_xiaoxiao",
        "cmn",
        "今天天气很好，我们去公园散步吧。",
        set("aefijklmnopstuwxyzŋɑəɚɛɤɥɨʊɕʂɻʐʦʨꭧʰ") | TONES | MARKS,
        {"↓", "→", "↘", "ʰ", "ʨ"},  # tones as arrows, aspiration as ʰ
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.language for case in CASES])
def test_a_voice_speaks_its_language(real_service: SpeechService, case: Case) -> None:
    job = SpeechJob(case.text, real_service.voices.get(case.voice))
    assert job.effective_language == case.language
    phonemes = "".join(real_service.phoneme_chunks(case.text, case.language))
    assert set(phonemes) <= case.inventory, set(phonemes) - case.inventory
    assert case.own <= set(phonemes), case.own - set(phonemes)
    if case.language not in ("en-us", "en-gb"):
        assert not set(phonemes) & ENGLISH_ONLY, phonemes
    if case.language != "cmn":
        assert not set(phonemes) & TONES
    assert_plausible_speech(real_service.synthesize_all(job))


def assert_plausible_speech(audio: np.ndarray) -> None:
    seconds = len(audio) / 24_000
    # About 2.5-4 s for each of these sentences (about 14 syllables per second at most).
    assert 1.5 < seconds < 8.0
    assert np.abs(audio).max() > 0.05
    assert float(np.sqrt(np.mean(np.square(audio)))) > 0.01  # speech, not a click in silence


@pytest.mark.skipif(
    importlib.util.find_spec("pyopenjtalk") is None,
    reason="the Japanese extra (pyopenjtalk-plus) is not installed: uv sync --extra ja",
)
def test_japanese_text_is_read_as_japanese(real_service: SpeechService) -> None:
    text = "今日はとてもいい天気ですね。"
    job = SpeechJob(text, real_service.voices.get("jf_alpha"))
    assert job.effective_language == "ja"
    phonemes = "".join(real_service.phoneme_chunks(text, "ja"))
    assert "ʨ" in phonemes or "ky" in phonemes or "kʲ" in phonemes
    assert not set(phonemes) & (ENGLISH_ONLY | TONES)
    assert_plausible_speech(real_service.synthesize_all(job))

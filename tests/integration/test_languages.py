"""Other languages with the real model: Spanish and French voices, Japanese text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from api.speech import SpeechJob, SpeechService

pytestmark = pytest.mark.model

SHARED_VOICES = Path(__file__).resolve().parents[3] / "shared" / "voices"
needs_shared_voices = pytest.mark.skipif(
    not SHARED_VOICES.is_dir(), reason="../shared/voices is not present"
)
MARKS = set(" .,;:!?¡¿—…\"'«»“”ˈˌː")
# What espeak-ng's Spanish and French give after our rewrite, and what only
# English has (so an English reading would show).
SPANISH = set("abdefiklmnoprstuwxjŋɲʎɾβðɣθʝʧʃIWOAY") | MARKS
FRENCH = set("abdefijklmnopstuvwyzøœɔəɛɑʁʃʒɲŋ̃ɥ") | MARKS
ENGLISH_ONLY = set("ɹæʌɪʊɚᵊ")


def import_shared(service: SpeechService, name: str) -> None:
    if name not in service.voices:
        service.voices.import_packs((SHARED_VOICES / f"{name}.pt").read_bytes(), f"{name}.pt")


@needs_shared_voices
@pytest.mark.parametrize(
    ("voice", "language", "text", "inventory", "own"),
    [
        (
            "ef_dora",
            "es",
            "El perro de mi vecino corre todos los días por el parque.",
            SPANISH,
            {"ɾ", "ð", "β"},
        ),
        (
            "ff_siwis",
            "fr-fr",
            "Le petit chat dort tranquillement sur le canapé du salon.",
            FRENCH,
            {"ʁ", "ɑ"},
        ),
    ],
)
def test_a_voice_speaks_its_language(
    real_service: SpeechService,
    *,
    voice: str,
    language: str,
    text: str,
    inventory: set[str],
    own: set[str],
) -> None:
    import_shared(real_service, voice)
    pack = real_service.voices.get(voice)
    job = SpeechJob(text, pack)
    assert job.effective_language == language
    phonemes = "".join(real_service.phoneme_chunks(text, language))
    assert set(phonemes) <= inventory, set(phonemes) - inventory
    assert own <= set(phonemes)
    assert not set(phonemes) & ENGLISH_ONLY
    audio = real_service.synthesize_all(job)
    seconds = len(audio) / 24_000
    # About 3 s for this sentence (about 14 syllables per second at most).
    assert 2.0 < seconds < 8.0
    assert np.abs(audio).max() > 0.05


def test_japanese_text_is_read_as_japanese(real_service: SpeechService) -> None:
    pytest.importorskip("pyopenjtalk", reason="the Japanese extra is not installed")
    text = "今日はとてもいい天気ですね。"
    phonemes = "".join(real_service.phoneme_chunks(text, "ja"))
    assert "ʨ" in phonemes or "ky" in phonemes or "kʲ" in phonemes
    assert not set(phonemes) & ENGLISH_ONLY
    audio = real_service.synthesize_all(SpeechJob(text, real_service.voices.get("jf_alpha")))
    assert 1.0 < len(audio) / 24_000 < 6.0

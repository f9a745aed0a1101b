"""Imported packs and blends speak, with the real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from faster_whisper import WhisperModel

from api.speech import SpeechJob, SpeechService
from tests.integration.speechcheck import word_error_rate

pytestmark = pytest.mark.model

SHARED_VOICES = Path(__file__).resolve().parents[3] / "shared" / "voices"
needs_shared_voices = pytest.mark.skipif(
    not SHARED_VOICES.is_dir(), reason="../shared/voices is not present"
)


@needs_shared_voices
def test_an_imported_pack_speaks_english(
    real_service: SpeechService, whisper: WhisperModel
) -> None:
    # af_jadzia: an American English pack in the official .pt layout, not built in.
    data = (SHARED_VOICES / "af_jadzia.pt").read_bytes()
    if "af_jadzia" not in real_service.voices:
        real_service.voices.import_packs(data, "af_jadzia.pt")
    voice = real_service.voices.get("af_jadzia")
    assert (voice.source, voice.language) == ("imported", "en-us")
    error_rate, pairs = word_error_rate(real_service, whisper, voice)
    assert error_rate <= 0.05, pairs


def test_a_blend_speaks(real_service: SpeechService, whisper: WhisperModel) -> None:
    voice = real_service.voices.resolve("af_heart(2)+am_michael(1)")
    assert voice.source == "mix"
    error_rate, pairs = word_error_rate(real_service, whisper, voice)
    assert error_rate <= 0.05, pairs


def test_every_openai_voice_returns_audio(real_service: SpeechService) -> None:
    for alias in sorted(real_service.voices.openai_voices):
        voice = real_service.voices.resolve(alias)
        audio = real_service.synthesize_all(SpeechJob("Hello there.", voice))
        assert len(audio) / 24_000 > 0.4, alias
        assert np.abs(audio).max() > 0.05, alias

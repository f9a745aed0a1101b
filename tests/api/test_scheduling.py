"""A new request's first chunk goes ahead of chunks for streams that are ahead of their
listeners (earliest deadline first), on a real uvicorn with the fake model."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import httpx
import numpy as np
import numpy.typing as npt
import pytest
from fastapi import FastAPI

from api.backends.base import Audio
from api.backends.fake import FakeBackend
from api.settings import Settings
from api.speech import Dialogue, SpeechJob
from tests.serverthread import ServerThread

SPEECH = "/v1/audio/speech"
LONG = "A long story that keeps going, sentence after sentence, for a good while. " * 40


class RecordingBackend(FakeBackend):
    """The fake model, noting the style row of every call in the order calls start."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay=delay)
        self.styles: list[npt.NDArray[np.float32]] = []
        self._lock = threading.Lock()

    def synthesize(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> Audio:
        with self._lock:
            self.styles.append(np.asarray(style, dtype=np.float32).reshape(-1).copy())
        return super().synthesize(tokens, style, speed)


def test_a_new_request_goes_ahead_of_streams_that_are_ahead(settings: Settings) -> None:
    streams = 5
    backend = RecordingBackend(delay=0.15)
    # Admission by the cap alone: the slow fake model's measured capacity would refuse
    # most of these streams (tests/api/test_overload.py checks that).
    busy = settings.model_copy(
        update={"inference_workers": 1, "max_queued_requests": streams, "capacity_headroom": 0}
    )
    with ServerThread(busy, backend) as server:
        adam = server.app.state.speech.voices.resolve("am_adam").pack.reshape(510, 256)
        received = [0] * streams

        stop = threading.Event()

        def listen(index: int) -> None:
            body = {"input": LONG, "voice": "af_heart", "response_format": "pcm"}
            http = httpx.Client(base_url=server.url, timeout=120)
            with http, http.stream("POST", SPEECH, json=body) as response:
                for piece in response.iter_bytes():
                    received[index] += len(piece)
                    if stop.is_set():
                        return  # hang up

        listeners = [
            threading.Thread(target=listen, args=(i,), daemon=True) for i in range(streams)
        ]
        for listener in listeners:
            listener.start()
        deadline = time.monotonic() + 60
        # Every stream has had audio for a few seconds of playback: all are ahead.
        while min(received) < 24_000 * 2 * 5:
            assert time.monotonic() < deadline, received
            time.sleep(0.02)
        before = len(backend.styles)
        with httpx.Client(base_url=server.url, timeout=120) as http:
            short = http.post(SPEECH, json={"input": "Hello there.", "voice": "am_adam"})
        assert short.status_code == 200
        calls = backend.styles[before:]
        first_adam = next(
            i for i, style in enumerate(calls) if np.isclose(adam, style).all(axis=1).any()
        )
        # First in, first out, it would wait behind the running chunk and the next
        # chunk of each of the other streams (5 calls); earliest deadline first,
        # behind the running one (and at most one started while the request travelled).
        stop.set()
        for listener in listeners:
            listener.join(timeout=30)
        assert first_adam <= 2, first_adam


def test_metrics_count_late_chunks_and_estimate_the_compute_rate(settings: Settings) -> None:
    """A model slower than real time (0.3 s per chunk of a fraction of a second of
    audio): the listener runs dry before each chunk, and /metrics says so."""
    backend = FakeBackend(delay=0.3)
    text = " [pause:0.01s] ".join(["One.", "Two.", "Three.", "Four."])
    with (
        ServerThread(settings, backend) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        body = {"input": text, "voice": "af_heart", "response_format": "pcm", "speed": 4.0}
        assert http.post(SPEECH, json=body).status_code == 200
        metrics = http.get("/metrics").text
    values = {
        line.split()[0]: float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("kokoro_") and not line.startswith("#")
    }
    assert values["kokoro_late_chunks_total"] >= 2
    assert values["kokoro_compute_seconds_per_audio_second"] > 1.0
    assert values["kokoro_capacity_streams"] < 1.0  # slower than real time
    # Every chunk after the first had its slack measured; the late ones fell in the
    # bucket of slack below 0.
    assert values["kokoro_chunk_slack_seconds_count"] >= 3
    assert values['kokoro_chunk_slack_seconds_bucket{le="0"}'] >= values["kokoro_late_chunks_total"]
    assert values["kokoro_chunk_slack_seconds_sum"] < 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("One sentence. Another one, a little longer than the first.", id="speech"),
        pytest.param("Words first. [pause:0.5s]", id="ends-in-a-pause"),
    ],
)
async def test_a_stream_ends_with_its_last_chunk_without_asking_for_another(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """The chunk generator says which chunk is its last, so the stream ends there:
    no further job (due after every stream that is behind) just to learn it is done."""
    service = app.state.speech
    submitted: list[float] = []
    submit = service._scheduler.submit

    def counting(deadline: float, job: Callable[[], object]) -> Future[object]:
        submitted.append(deadline)
        return submit(deadline, job)

    monkeypatch.setattr(service._scheduler, "submit", counting)
    voice = service.voices.resolve("af_heart")
    for listener in (True, False):
        submitted.clear()
        chunks = [
            chunk async for chunk in service.stream(SpeechJob(text, voice), listener=listener)
        ]
        assert len(chunks) >= 2
        assert len(submitted) == len(chunks)
    dialogue = Dialogue((SpeechJob("Hello there.", voice), SpeechJob("Hi, how are you?", voice)))
    submitted.clear()
    chunks = [chunk async for chunk in service.stream(dialogue)]
    assert len(submitted) == len(chunks)

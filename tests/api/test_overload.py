"""Saturation (429 with Retry-After), freed slots, queue depth and time limits.

A real uvicorn on a socket with the fake backend made slow, since disconnects
and concurrent streams need real connections.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import pytest

from api.backends.base import SAMPLE_RATE, Audio
from api.backends.fake import FakeBackend
from api.settings import Settings
from api.speech import SpeechService
from api.text.chunks import PLAN
from tests.api.test_speech import assert_openai_error
from tests.appclient import CHECKED_ERRORS_SYNC
from tests.serverthread import ServerThread
from tests.wavcheck import read_wav

SPEECH = "/v1/audio/speech"
LONG_TEXT = "A sentence that keeps the server busy for a while, chunk after chunk. " * 300
SHORT = {"input": "Short and sweet.", "response_format": "wav"}


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Poll ``condition``: a bound against hangs, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def read_stream(http: httpx.Client, body: dict[str, object], into: list[bytes]) -> None:
    with http.stream("POST", SPEECH, json=body) as response:
        assert response.status_code == 200
        into.extend(response.iter_bytes())


@dataclass
class Served:
    url: str
    service: SpeechService
    backend: FakeBackend


@contextmanager
def serving(settings: Settings, delay: float) -> Iterator[Served]:
    backend = FakeBackend(delay=delay)
    with ServerThread(settings, backend) as server:
        yield Served(server.url, server.app.state.speech, backend)


def served_again(
    http: httpx.Client, served: Served, path: str, body: dict[str, object]
) -> httpx.Response:
    """Once every slot is free again, the request is served."""
    wait_until(lambda: served.service.admission.in_flight == 0, "the slots to be freed")
    response = http.post(path, json=body)
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def one_slot(settings: Settings, tmp_path: Path) -> Settings:
    """One worker and no queue: a single synthesis request saturates the server."""
    return settings.model_copy(update={"inference_workers": 1, "max_queued_requests": 0})


def test_a_saturated_server_answers_429_and_recovers(one_slot: Settings) -> None:
    with (
        serving(one_slot, delay=0.05) as served,
        httpx.Client(base_url=served.url, timeout=30, event_hooks=CHECKED_ERRORS_SYNC) as http,
    ):
        long_body = {"input": LONG_TEXT, "response_format": "pcm"}
        with http.stream("POST", SPEECH, json=long_body) as stream:
            assert stream.status_code == 200
            # Under way and holding the slot. (Keep the iterator: closing it, as
            # the garbage collector would, closes the connection.)
            pieces = stream.iter_bytes()
            next(pieces)
            busy = http.post(SPEECH, json=SHORT)
            assert_openai_error(busy, 429, None)
            assert busy.json()["error"]["code"] == "server_overloaded"
            assert busy.json()["error"]["type"] == "rate_limit_error"
            assert int(busy.headers["retry-after"]) >= 1
            # Requests that synthesize nothing are not limited.
            assert http.get("/v1/audio/voices").status_code == 200
            assert http.get("/health").status_code == 200
            assert served.service.admission.in_flight == 1
        # The client left mid-stream: its slot is freed and the server serves again.
        recovered = served_again(http, served, SPEECH, SHORT)
        assert read_wav(recovered.content).frames > 0
        assert served.service.admission.in_flight == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"stream": False, "response_format": "mp3"}, id="complete"),
        pytest.param({"stream": True, "response_format": "mp3"}, id="stream"),
        pytest.param({"stream_format": "sse", "response_format": "pcm"}, id="sse"),
    ],
)
def test_every_kind_of_speech_request_frees_its_slot_when_done(
    one_slot: Settings, body: dict[str, object]
) -> None:
    with (
        serving(one_slot, delay=0.02) as served,
        httpx.Client(base_url=served.url, timeout=30, event_hooks=CHECKED_ERRORS_SYNC) as http,
    ):
        request = {"input": "One sentence. And a second one, somewhat longer.", **body}
        response = http.post(SPEECH, json=request)
        assert response.status_code == 200
        served_again(http, served, SPEECH, request)


def test_dev_synthesis_endpoints_take_slots_too(one_slot: Settings) -> None:
    with (
        serving(one_slot, delay=0.05) as served,
        httpx.Client(base_url=served.url, timeout=30, event_hooks=CHECKED_ERRORS_SYNC) as http,
    ):
        with http.stream("POST", SPEECH, json={"input": LONG_TEXT}) as stream:
            pieces = stream.iter_bytes()
            next(pieces)
            phonemes = http.post("/dev/generate_from_phonemes", json={"phonemes": "həlˈO"})
            captioned = http.post("/dev/captioned_speech", json={"input": "Hello."})
            assert_openai_error(phonemes, 429, None)
            assert_openai_error(captioned, 429, None)
        served_again(http, served, "/dev/generate_from_phonemes", {"phonemes": "həlˈO"})
        served_again(http, served, "/dev/captioned_speech", {"input": "Hello."})


def test_queue_depth_counts_requests_waiting_for_the_worker(settings: Settings) -> None:
    three = settings.model_copy(update={"inference_workers": 1, "max_queued_requests": 2})
    with (
        serving(three, delay=0.05) as served,
        httpx.Client(base_url=served.url, timeout=30, event_hooks=CHECKED_ERRORS_SYNC) as http,
    ):
        streams = [
            http.stream("POST", SPEECH, json={"input": LONG_TEXT, "response_format": "pcm"})
            for _ in range(3)
        ]
        responses = [stream.__enter__() for stream in streams]
        try:
            assert all(response.status_code == 200 for response in responses)
            assert served.service.admission.in_flight == 3
            assert http.post(SPEECH, json=SHORT).status_code == 429
            # One worker: while one request's chunk runs, the others' wait.
            wait_until(lambda: served.service.queue_depth >= 1, "a request waiting for the worker")
        finally:
            for stream in streams:
                stream.__exit__(None, None, None)
        wait_until(lambda: served.service.admission.in_flight == 0, "every slot to be freed")
        wait_until(lambda: served.service.queue_depth == 0, "the queue to empty")


@pytest.fixture
def time_limited(settings: Settings) -> Settings:
    return settings.model_copy(update={"request_timeout_s": 1.0})


def test_a_complete_file_past_the_time_limit_is_504(
    time_limited: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        serving(time_limited, delay=0.05) as served,
        httpx.Client(base_url=served.url, timeout=30, event_hooks=CHECKED_ERRORS_SYNC) as http,
    ):
        calls_before = served.backend.calls
        body = {"input": LONG_TEXT, "response_format": "mp3", "stream": False}
        response = http.post(SPEECH, json=body)
        message = assert_openai_error(response, 504, None)
        assert response.json()["error"]["code"] == "request_timeout"
        assert "1 s" in message
        assert served.service.admission.in_flight == 0
        # Generation stopped: far fewer chunks than the text has.
        wait_until(lambda: served.service.queue_depth == 0, "the producer to stop")
        settled = served.backend.calls
        time.sleep(0.3)
        assert served.backend.calls - settled <= 1
        chunks = len(list(served.service.token_chunks(LONG_TEXT, "en-us", PLAN)))
        assert settled - calls_before < chunks / 2
        assert "time limit" in caplog.text
        assert http.post(SPEECH, json=SHORT).status_code == 200


def test_a_stream_past_the_time_limit_is_cut(
    time_limited: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="api.routes.limits")
    with (
        serving(time_limited, delay=0.05) as served,
        httpx.Client(base_url=served.url, timeout=30, event_hooks=CHECKED_ERRORS_SYNC) as http,
    ):
        pieces: list[bytes] = []
        with pytest.raises(httpx.RemoteProtocolError):
            read_stream(http, {"input": LONG_TEXT, "response_format": "pcm"}, into=pieces)
        assert pieces  # audio came, then the stream was cut, not ended cleanly
        assert "stopped at the time limit" in caplog.text
        served_again(http, served, SPEECH, SHORT)


def test_a_stream_with_no_audio_by_the_time_limit_gets_504(time_limited: Settings) -> None:
    with (
        serving(time_limited, delay=1.5) as served,
        httpx.Client(base_url=served.url, timeout=30, event_hooks=CHECKED_ERRORS_SYNC) as http,
    ):
        response = http.post(SPEECH, json={"input": "Slow to start.", "response_format": "mp3"})
        assert_openai_error(response, 504, None)
        wait_until(lambda: served.service.admission.in_flight == 0, "the slot to be freed")


class SlowerThanRealTime(FakeBackend):
    """The fake model taking 2.5 s of compute for each second of audio it makes."""

    def synthesize(
        self, tokens: Sequence[int], style: npt.NDArray[np.float32], speed: float
    ) -> Audio:
        audio = super().synthesize(tokens, style, speed)
        self._wait(2.5 * len(audio) / SAMPLE_RATE)
        return audio


def test_a_server_slower_than_real_time_takes_one_stream_and_says_when_to_retry(
    settings: Settings,
) -> None:
    """The compute rate measured at start-up and on the first stream says one listener
    is all this model can serve, so a second request gets 429 at once, though the cap
    (8) has room; with the headroom at 0, the cap alone decides."""
    for headroom, second_status in ((0.9, 429), (0.0, 200)):
        roomy = settings.model_copy(update={"capacity_headroom": headroom})
        with (
            ServerThread(roomy, SlowerThanRealTime()) as server,
            httpx.Client(base_url=server.url, timeout=30) as http,
        ):
            admission = server.app.state.speech.admission
            # Measured at start-up; below 2.5 per second of audio delivered, since the
            # pauses the server adds cost nothing.
            assert admission.capacity() < 1
            with http.stream("POST", SPEECH, json={"input": LONG_TEXT}) as stream:
                assert stream.status_code == 200
                pieces = stream.iter_bytes()
                next(pieces)
                second = http.post(SPEECH, json=SHORT)
                assert second.status_code == second_status, second.text[:200]
                if second_status == 429:
                    assert "measured capacity" in second.json()["error"]["message"]
                    assert second.json()["error"]["code"] == "server_overloaded"
                    assert 1 <= int(second.headers["retry-after"]) <= 60

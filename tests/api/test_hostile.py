"""Hostile input and hang-ups, tried as an attacker would, on a real uvicorn (fake model).

Every case goes over one keep-alive connection, as raw JSON (so lone surrogates
travel as ``\\ud800`` escapes): usable input gets the right audio, unusable input
a 400 or 413 that says why, nothing a 5xx, and the connection serves the next
request. The same cases against the real model: tests/integration/test_hostile_real.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.backends.fake import SECONDS_PER_TOKEN, FakeBackend
from api.settings import Settings
from api.weights import ModelFiles
from tests.appclient import CHECKED_ERRORS_SYNC
from tests.serverthread import ServerThread
from tests.wavcheck import read_wav

SPEECH = "/v1/audio/speech"
DIALOGUE = "/v1/audio/dialogue"
CORPUS = Path(__file__).with_name("hostile_corpus.jsonl")


def post_raw(http: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """POST ``body`` as ASCII JSON: lone surrogates become escapes, as a client may send."""
    content = json.dumps(body).encode("ascii")
    return http.post(path, content=content, headers={"Content-Type": "application/json"})


def wav_seconds(response: httpx.Response) -> float:
    info = read_wav(response.content)
    return info.frames / info.sample_rate


@pytest.fixture(scope="module")
def server(model_files: ModelFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        model_dir=model_files.directory,
        voices_dir=tmp_path_factory.mktemp("hostile-voices"),
        max_file_audio_s=600,
    )
    with ServerThread(settings, FakeBackend()) as running:
        yield running.url


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60, event_hooks=CHECKED_ERRORS_SYNC) as client:
        yield client


def speech(text: str, **more: Any) -> dict[str, Any]:
    return {"input": text, "voice": "af_heart", "response_format": "wav", "stream": False, **more}


REFUSED = [
    pytest.param(SPEECH, speech("\u200b" * 90_000), 400, "empty_input", id="zero-width-only"),
    pytest.param(SPEECH, speech("\x00\x01\x1b\x7f"), 400, "empty_input", id="controls-only"),
    pytest.param(SPEECH, speech("\ue000\U000f0000"), 400, "empty_input", id="private-use-only"),
    pytest.param(SPEECH, speech("?!… — ..."), 400, "nothing_to_speak", id="punctuation-only"),
    pytest.param(
        SPEECH, speech("\u200b" * 90_000, stream=True), 400, "empty_input", id="zero-width-stream"
    ),
    pytest.param(
        SPEECH,
        speech("♪ ^ |", stream=True, response_format="mp3"),
        400,
        "nothing_to_speak",
        id="silent-symbols-stream",
    ),
    pytest.param(
        SPEECH,
        speech("♪ ^ |", stream_format="sse"),
        400,
        "nothing_to_speak",
        id="silent-symbols-sse",
    ),
    pytest.param(SPEECH, speech("[pause:10s]" * 5000), 400, "too_much_pause", id="pause-flood"),
    pytest.param(
        SPEECH,
        speech("[pause:10s]" * 5000, stream=True),
        400,
        "too_much_pause",
        id="pause-flood-stream",
    ),
    pytest.param(SPEECH, speech("Wait [pause:61s] go"), 400, "invalid_pause_tag", id="long-pause"),
    pytest.param(
        SPEECH,
        speech("hi", voice="jf_alpha-jf_alpha"),
        400,
        "voice_blend_cancels",
        id="blend-cancels",
    ),
    pytest.param(
        SPEECH,
        speech("hi [voice:af_heart(2)-af_heart(2)] there"),
        400,
        "voice_blend_cancels",
        id="tag-blend-cancels",
    ),
    pytest.param(SPEECH, speech("hi", voice="\ud800"), 400, "invalid_voice_spec", id="voice-lone"),
    pytest.param(SPEECH, speech("hi", model="\udc00"), 404, "model_not_found", id="model-lone"),
    pytest.param(
        SPEECH, speech("hi [voice:\ud800]"), 400, "invalid_voice_tag", id="voice-tag-lone"
    ),
    pytest.param(
        DIALOGUE,
        {
            "speakers": {"a": "af_heart"},
            "turns": [{"speaker": "a", "text": "Hi."}] * 400,
            "gap": 10,
            "stream": False,
        },
        400,
        "too_much_pause",
        id="dialogue-gaps",
    ),
    pytest.param(
        "/dev/phonemize", {"text": "\u200b\ufeff\x00"}, 400, "empty_input", id="phonemize-empty"
    ),
    pytest.param(
        "/dev/generate_from_phonemes",
        {"phonemes": "\ud800\x00"},
        400,
        "nothing_to_speak",
        id="phonemes-lone",
    ),
]


@pytest.mark.parametrize(("path", "body", "status", "code"), REFUSED)
def test_unusable_input_is_refused_and_the_connection_goes_on(
    http: httpx.Client, path: str, body: dict[str, Any], status: int, code: str
) -> None:
    response = post_raw(http, path, body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert response.headers.get("connection") != "close"
    assert post_raw(http, SPEECH, speech("Still here.")).status_code == 200


@pytest.mark.parametrize(
    "content",
    [
        pytest.param('{"input": ' + "[" * 100_000 + "]" * 100_000 + "}", id="deep-array"),
        pytest.param('{"input": "hi", "x": ' + '{"a":' * 50_000 + "1" + "}" * 50_001, id="deep"),
        pytest.param('{"input": "hi", "speed": ' + "9" * 5000 + "}", id="huge-integer"),
        pytest.param('{"input": "hi", "speed": NaN}', id="nan"),
    ],
)
def test_hostile_json_is_a_400(http: httpx.Client, content: str) -> None:
    response = http.post(SPEECH, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert post_raw(http, SPEECH, speech("Still here.")).status_code == 200


@pytest.mark.parametrize(
    ("hostile", "plain"),
    [
        pytest.param("hello\x00world", "hello world", id="nul"),
        pytest.param("\ud800 hi", "  hi", id="lone-high-surrogate"),
        pytest.param("hi \udc00there", "hi  there", id="lone-low-surrogate"),
        pytest.param("zero\u200bwidth\u2060join", "zerowidthjoin", id="format-characters"),
        pytest.param("\u202ereversed\u202c text", "reversed text", id="bidi-controls"),
        pytest.param("private \ue000 use", "private   use", id="private-use"),
        pytest.param("cafe\u0301", "caf\u00e9", id="combining"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_usable_input_speaks_what_a_reader_sees(
    http: httpx.Client, hostile: str, plain: str, stream: bool
) -> None:
    """The fake model's audio is 50 ms per phoneme token, so the same duration means
    the same phonemes: text after a NUL is no longer dropped."""
    response = post_raw(http, SPEECH, speech(hostile, stream=stream))
    assert response.status_code == 200, response.text
    expected = post_raw(http, SPEECH, speech(plain, stream=stream))
    if stream:  # a streamed WAV's header has no sizes: compare the bytes
        assert response.content == expected.content
    else:
        assert wav_seconds(response) == pytest.approx(wav_seconds(expected))


def test_a_long_stream_with_nuls_speaks_all_of_it(http: httpx.Client) -> None:
    body = speech("hello\x00world " * 1000, stream=True, response_format="pcm")
    hostile = post_raw(http, SPEECH, body)
    plain = post_raw(http, SPEECH, {**body, "input": "hello world " * 1000})
    assert hostile.status_code == 200
    assert len(hostile.content) == len(plain.content) > 24_000 * 2 * 60  # over a minute


@pytest.mark.parametrize(
    "text", ["1," * 50_000, "a" * 90_000, "😀" * 30_000, "日本語、" * 25_000, "\u0301x" * 50_000]
)
def test_the_longest_run_on_texts_are_read_in_bounded_time(http: httpx.Client, text: str) -> None:
    """espeak-ng's time grows with the square of one call's text (50,000 "1," took
    about 50 s in one call); read in bounded pieces it is seconds. A bound against
    super-linear work, not a benchmark."""
    started = time.monotonic()
    # Emoji are named, not dropped: all emoji would be nothing to speak.
    options = {"emoji": "name"}
    response = post_raw(http, "/dev/phonemize", {"text": text, "normalization_options": options})
    assert response.status_code == 200
    assert time.monotonic() - started < 20


def test_error_messages_quoting_lone_surrogates_are_valid_json(http: httpx.Client) -> None:
    response = post_raw(http, SPEECH, speech("hi", voice="x\ud800y"))
    assert response.status_code == 400
    assert "\ufffd" in response.json()["error"]["message"] or "?" in response.text


@pytest.fixture
def capped(settings: Settings) -> Iterator[tuple[str, FakeBackend]]:
    backend = FakeBackend()
    capped_settings = settings.model_copy(update={"max_file_audio_s": 5.0})
    with ServerThread(capped_settings, backend) as running:
        yield running.url, backend


def test_a_complete_file_over_the_audio_cap_is_413_and_a_stream_is_not(
    capped: tuple[str, FakeBackend],
) -> None:
    url, _ = capped
    text = "A sentence that runs for quite a while. " * 20
    with httpx.Client(base_url=url, timeout=60, event_hooks=CHECKED_ERRORS_SYNC) as client:
        response = post_raw(client, SPEECH, speech(text))
        assert response.status_code == 413
        error = response.json()["error"]
        assert (error["code"], error["param"]) == ("audio_too_long", "stream")
        assert "stream: true" in error["message"]
        streamed = post_raw(client, SPEECH, speech(text, stream=True, response_format="pcm"))
        assert streamed.status_code == 200
        assert len(streamed.content) / (2 * 24_000) > 5.0


def test_a_complete_file_is_sent_whole_with_its_length(http: httpx.Client) -> None:
    """Past a few MB the file is built on disk: it still arrives whole, sized exactly."""
    text = "One more sentence for the file on disk. " * 60  # about 9 MB of WAV
    response = post_raw(http, SPEECH, speech(text))
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content) > 4 * 1024 * 1024
    tokens_s = wav_seconds(response) / SECONDS_PER_TOKEN
    assert tokens_s > 1000


@pytest.fixture
def slow(settings: Settings) -> Iterator[tuple[ServerThread, FakeBackend]]:
    """Each chunk takes 5 s, so a server that only stopped between chunks would hold
    the abandoned request for seconds after its client left."""
    backend = FakeBackend(delay=5.0)
    with ServerThread(settings, backend) as running:
        yield running, backend


def in_flight(running: ServerThread) -> int:
    return int(running.app.state.speech.admission.in_flight)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (SPEECH, speech("A long text nobody waits for. " * 50)),
        (DIALOGUE, {"speakers": {"a": "af_heart"}, "turns": [{"speaker": "a", "text": "Hi."}]}),
        ("/dev/generate_from_phonemes", {"phonemes": "həlˈO wˈɜɹld"}),
        ("/dev/captioned_speech", speech("Words with times, for nobody.")),
    ],
)
def test_an_abandoned_complete_file_stops_within_its_chunk(
    slow: tuple[ServerThread, FakeBackend], path: str, body: dict[str, Any]
) -> None:
    running, backend = slow
    body = {**body, "stream": False}
    with (
        httpx.Client(base_url=running.url, timeout=1.0) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        post_raw(client, path, body)
    left = time.monotonic()
    while in_flight(running) or not backend.stopped:
        # Two seconds against a five-second chunk: only a stopped inference gets here.
        assert time.monotonic() - left < 2.0, "the abandoned request is still running"
        time.sleep(0.02)
    assert backend.stopped == 1
    calls = backend.calls
    time.sleep(0.3)
    assert backend.calls == calls, "a chunk started after the client left"
    metrics = httpx.get(f"{running.url}/metrics").text
    assert f'route="{path}",status="499"' in metrics


def test_replayed_corpus_of_inputs_that_once_failed(http: httpx.Client) -> None:
    """Every input that ever made this server fail, kept: none may be a 5xx again."""
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        response = post_raw(http, case["path"], case["body"])
        assert response.status_code < 500, (case, response.text)
        assert response.status_code == case["status"], (case, response.text)

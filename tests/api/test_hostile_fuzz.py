"""Property-based fuzzing of the text pipeline through the API, as an attacker works.

Arbitrary Unicode (every category: lone surrogates, controls, format and bidi
characters, combining marks, private use, unassigned code points) mixed with
tags, markup and the normalizer's favourite shapes, at lengths up to the input
limit and past it, sent as raw JSON to every door that reads text, on a real
uvicorn with the fake model. Never a 5xx, never a connection dropped, and a
time bound per character against any work that grows faster than the text.

An input that ever fails here goes into ``hostile_corpus.jsonl`` (replayed by
test_hostile.py), with the status it must get.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.backends.fake import FakeBackend
from api.settings import Settings
from api.weights import ModelFiles
from tests.api.test_hostile import DIALOGUE, SPEECH, post_raw
from tests.appclient import CHECKED_ERRORS_SYNC
from tests.serverthread import ServerThread

LIMIT = 3000
"""The fuzzed server's ``max_input_chars`` (the default's 100,000 only slows fuzzing)."""

ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
FRAGMENTS = st.sampled_from(
    [
        "[pause:0.2s]", "[pause:", "[PAUSE: 1 s]", "[pause:999s]", "[voice:af_heart]",
        "[voice:", "[voice:nobody]", "[voice:af_heart-af_heart]", "[voice:am_adam(2)+af_bella]",
        "<speak>", "</p>", "**bold**", "`code`", "# Title\n", "https://example.org/a?b=1",
        "$3.50", "12:30", "1/2", "3rd", "1,000,000", "Dr.", "e.g.", "...", "!?", "—",
        "\u202e", "\u200d", "\ufeff", "\x00", "\ud800", "\udfff", "\x1b[0m", "\u0301" * 40,
        "😀", "👩\u200d👩\u200d👧", "🇯🇵", "日本語。", "हिन्दी।", "مرحبا", "\n\n", "\t",
    ]
)  # fmt: skip
PIECES = st.one_of(FRAGMENTS, st.text(ANY_CHAR, min_size=1, max_size=40))
TEXTS = st.one_of(
    st.lists(PIECES, max_size=30).map("".join),
    # Long runs up to and past the limit: one piece repeated.
    st.tuples(PIECES, st.integers(1, LIMIT)).map(lambda t: (t[0] * t[1])[: LIMIT + 50]),
)


@pytest.fixture(scope="module")
def http(
    model_files: ModelFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    server_settings = Settings(
        model_dir=model_files.directory,
        voices_dir=tmp_path_factory.mktemp("fuzz-hostile-voices"),
        max_input_chars=LIMIT,
        max_file_audio_s=120,
    )
    with (
        ServerThread(server_settings, FakeBackend()) as server,
        httpx.Client(base_url=server.url, timeout=120, event_hooks=CHECKED_ERRORS_SYNC) as client,
    ):
        yield client


def survives(http: httpx.Client, path: str, body: dict[str, Any], size: int) -> None:
    started = time.monotonic()
    response = post_raw(http, path, body)
    elapsed = time.monotonic() - started
    assert response.status_code in (200, 400, 404, 413), (path, body, response.text[:300])
    assert response.headers.get("connection") != "close", (path, body)
    # A bound against hangs and super-linear work, not a benchmark.
    assert elapsed < 10 + 0.01 * size, (path, size, elapsed)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(text=TEXTS, stream=st.booleans())
def test_speech_never_fails_on_any_text(http: httpx.Client, text: str, stream: bool) -> None:
    body = {"input": text, "voice": "af_heart", "response_format": "wav", "stream": stream}
    survives(http, SPEECH, body, len(text))


@FUZZ
@given(first=TEXTS, second=TEXTS)
def test_dialogue_never_fails_on_any_text(http: httpx.Client, first: str, second: str) -> None:
    body = {
        "speakers": {"a": "af_heart", "b": "am_adam"},
        "turns": [{"speaker": "a", "text": first}, {"speaker": "b", "text": second}],
        "stream": False,
        "response_format": "pcm",
    }
    survives(http, DIALOGUE, body, len(first) + len(second))


@FUZZ
@given(text=TEXTS)
def test_phoneme_endpoints_never_fail_on_any_text(http: httpx.Client, text: str) -> None:
    survives(http, "/dev/phonemize", {"text": text}, len(text))
    survives(http, "/dev/generate_from_phonemes", {"phonemes": text[:LIMIT]}, len(text))

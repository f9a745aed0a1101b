"""One chunk plan for every request, with the real model behind a real server: a
paragraph streamed and the same paragraph as a complete file are the same samples."""

from __future__ import annotations

import httpx
import pytest

from bench.texts import PARAGRAPH
from tests.appclient import CHECKED_ERRORS_SYNC
from tests.realserver import RunningServer

pytestmark = pytest.mark.model

SPEECH = "/v1/audio/speech"


def test_streamed_and_complete_paragraphs_are_the_same_samples(server: RunningServer) -> None:
    body = {"input": PARAGRAPH, "voice": "af_heart", "response_format": "pcm"}
    with httpx.Client(
        base_url=server.base_url, timeout=120, event_hooks=CHECKED_ERRORS_SYNC
    ) as http:
        with http.stream("POST", SPEECH, json={**body, "stream": True}) as response:
            pieces = list(response.iter_bytes())
            assert "content-length" not in response.headers
        complete = http.post(SPEECH, json={**body, "stream": False})
    streamed = b"".join(pieces)
    assert len(streamed) / 48_000 > 15  # the whole paragraph (about 18 s)
    assert streamed == complete.content

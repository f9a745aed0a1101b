"""/metrics: the Prometheus exposition of requests, latency, audio and load (fake backend)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.backends.fake import FakeBackend
from api.settings import Settings

pytestmark = pytest.mark.anyio

SPEECH = "/v1/audio/speech"


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample by name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_by_route_and_status(client: httpx.AsyncClient) -> None:
    body = {"input": "Counting requests.", "response_format": "wav"}
    assert (await client.post(SPEECH, json=body)).status_code == 200
    assert (await client.post(SPEECH, json={**body, "voice": "nobody"})).status_code == 404
    assert (await client.get("/no/such/path")).status_code == 404
    samples = await scrape(client)
    route = {"method": "POST", "route": SPEECH}
    assert value(samples, "kokoro_http_requests_total", **route, status="200") == 1
    assert value(samples, "kokoro_http_requests_total", **route, status="404") == 1
    unmatched = {"method": "GET", "route": "(unmatched)", "status": "404"}
    assert value(samples, "kokoro_http_requests_total", **unmatched) == 1


async def test_latency_and_first_byte_are_timed_for_successes(client: httpx.AsyncClient) -> None:
    for stream in (True, False):
        body = {"input": "Timing.", "response_format": "mp3", "stream": stream}
        assert (await client.post(SPEECH, json=body)).status_code == 200
    await client.post(SPEECH, json={"input": ""})  # a 400 is counted, not timed
    samples = await scrape(client)
    for histogram in (
        "kokoro_http_request_duration_seconds",
        "kokoro_http_time_to_first_byte_seconds",
    ):
        assert value(samples, f"{histogram}_count", route=SPEECH) == 2
        assert value(samples, f"{histogram}_sum", route=SPEECH) > 0
        assert value(samples, f"{histogram}_bucket", route=SPEECH, le="+Inf") == 2


async def test_audio_seconds_add_up_what_was_sent(client: httpx.AsyncClient) -> None:
    before = value(await scrape(client), "kokoro_audio_seconds_total")
    response = await client.post(
        SPEECH, json={"input": "Some audio, please.", "response_format": "pcm"}
    )
    sent = len(response.content) / 2 / 24_000
    after = value(await scrape(client), "kokoro_audio_seconds_total")
    assert after - before == pytest.approx(sent, abs=1e-3)


async def test_load_gauges_and_info(client: httpx.AsyncClient) -> None:
    samples = await scrape(client)
    assert value(samples, "kokoro_requests_in_flight") == 0
    assert value(samples, "kokoro_queue_depth") == 0
    assert value(samples, "kokoro_request_slots") == 1 + 7  # one worker, seven more (defaults)
    info = next(labels for name, labels in samples if name == "kokoro_server_info")
    assert {("backend", "fake"), ("device", "cpu")} <= info
    assert any(key == "version" for key, _ in info)
    assert value(samples, "process_resident_memory_bytes") > 0


async def test_the_app_can_start_twice(settings: Settings) -> None:
    # Found by the schema fuzzing: a second start of the same app (as a test
    # client or an embedding server may do) registered the service's metrics
    # twice and failed.
    app = create_app(settings, backend=FakeBackend())
    for _ in range(2):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                samples = await scrape(http)
        assert value(samples, "kokoro_request_slots") == 8

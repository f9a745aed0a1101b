"""Prometheus metrics: one registry per app, filled by an ASGI middleware and the service.

Every HTTP response is counted by route and status; successful ones are timed
(whole response, and time to the first body byte, which for a stream is when
the first audio leaves). The service's own figures (audio produced, queue
depth, admitted requests) are read when Prometheus scrapes, not pushed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from api.speech import SpeechService

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Whole responses: from a 20 ms voice list to a long text streamed for minutes.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
# First audio: about 0.5-1 s for one client on two CPU cores, a few seconds under load.
FIRST_BYTE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30)

UNMATCHED = "(unmatched)"
"""Route label of requests no route matched: paths are not labels (unbounded)."""


def _bound(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else f"{bound:g}"


class _ServiceCollector:
    """The service's counters and gauges, read at scrape time (none before it loads)."""

    def __init__(self) -> None:
        self.service: SpeechService | None = None

    def collect(self) -> Iterator[Metric]:
        service = self.service
        if service is None:
            return
        yield CounterMetricFamily(
            "kokoro_audio_seconds",
            "Seconds of audio synthesized and handed to responses.",
            value=service.audio_seconds,
        )
        yield GaugeMetricFamily(
            "kokoro_requests_in_flight",
            "Synthesis requests admitted and not finished (a stream until it ends or "
            "its client leaves).",
            value=service.admission.in_flight,
        )
        yield GaugeMetricFamily(
            "kokoro_request_slots",
            "The cap on synthesis requests in progress at once (KOKORO_INFERENCE_WORKERS + "
            "KOKORO_MAX_QUEUED_REQUESTS); more get 429 (capacity may refuse sooner).",
            value=service.admission.limit,
        )
        yield GaugeMetricFamily(
            "kokoro_queue_depth",
            "Admitted requests whose next chunk waits for a free inference worker.",
            value=service.queue_depth,
        )
        yield CounterMetricFamily(
            "kokoro_late_chunks",
            "Chunks of streams ready only after their listener, playing from the first "
            "audio, had run out (the listener heard a gap).",
            value=service.late_chunks,
        )
        estimates = (
            (
                "kokoro_compute_seconds_per_audio_second",
                "Seconds of inference per second of audio delivered, a running mean over "
                "the recent chunks: admission's estimate of the machine's speed.",
                service.compute_rate,
            ),
            (
                "kokoro_capacity_streams",
                "Real-time streams the inference pool can serve at once, from the compute "
                "rate (KOKORO_CAPACITY_HEADROOM of it is admitted).",
                service.admission.capacity(),
            ),
            (
                "kokoro_min_slack_seconds",
                "Seconds until the next chunk is due for the request in progress nearest "
                "its deadline (negative: its listener has run dry).",
                service.admission.min_slack_s(),
            ),
        )
        for name, documentation, estimate in estimates:
            if estimate is not None:  # absent until there is something to estimate
                yield GaugeMetricFamily(name, documentation, value=estimate)
        buckets, total = service.chunk_slack()
        yield HistogramMetricFamily(
            "kokoro_chunk_slack_seconds",
            "Seconds of audio a stream's listener still had to play when its next chunk "
            "was ready (negative: a gap).",
            buckets=[(_bound(bound), count) for bound, count in buckets],
            sum_value=total,
        )
        cache = service.audio_cache
        yield CounterMetricFamily(
            "kokoro_audio_cache_hits",
            "Requests answered from the audio cache (KOKORO_AUDIO_CACHE_MB).",
            value=cache.hits,
        )
        yield CounterMetricFamily(
            "kokoro_audio_cache_misses",
            "Requests the audio cache did not hold (counted only while it is on).",
            value=cache.misses,
        )
        yield GaugeMetricFamily(
            "kokoro_audio_cache_bytes",
            "Bytes of finished responses the audio cache holds.",
            value=cache.size_bytes,
        )


class Metrics:
    """The app's metrics and their registry (not the process-global one, so several
    apps in one process, as in tests, keep separate figures)."""

    def __init__(self, version: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.requests = Counter(
            "kokoro_http_requests",
            "HTTP responses by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kokoro_http_request_duration_seconds",
            "Time from request to the last byte of successful (2xx) responses.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.first_byte = Histogram(
            "kokoro_http_time_to_first_byte_seconds",
            "Time from request to the first body byte of successful (2xx) responses.",
            ["route"],
            buckets=FIRST_BYTE_BUCKETS,
            registry=self.registry,
        )
        self.info = Info(
            "kokoro_server", "Version, backend and device of this server.", registry=self.registry
        )
        self.info.info({"version": version})
        self._version = version
        self._service = _ServiceCollector()
        self.registry.register(self._service)

    def watch(self, service: SpeechService, model_sha256: str) -> None:
        """Report the loaded service: its backend and device, and its live figures (a
        later start of the same app replaces the service)."""
        self.info.info(
            {
                "version": self._version,
                "backend": service.backend.name,
                "device": service.backend.device,
                "model_sha256": model_sha256,
            }
        )
        self._service.service = service

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def observe(
        self, method: str, route: str, status: int, total_s: float, first_byte_s: float | None
    ) -> None:
        self.requests.labels(method, route, str(status)).inc()
        if 200 <= status < 300:
            self.latency.labels(route).observe(total_s)
            if first_byte_s is not None:
                self.first_byte.labels(route).observe(first_byte_s)


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class MetricsMiddleware:
    """Counts and times every HTTP response (pure ASGI: streams are timed to their end)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an app that fails before it answers gets a 500 from Starlette
        first_byte: float | None = None

        async def timed_send(message: Message) -> None:
            nonlocal status, first_byte
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and first_byte is None and message["body"]:
                first_byte = time.perf_counter() - started
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            total = time.perf_counter() - started
            self.metrics.observe(scope["method"], _route_label(scope), status, total, first_byte)

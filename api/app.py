"""The application factory: ``create_app(settings) -> FastAPI``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import __version__
from api.backends.base import Backend
from api.backends.select import load_backend
from api.bodylimit import BodyLimitMiddleware
from api.cors import CORSMiddleware
from api.deps import RequireAPIKey
from api.docs import mount_api_docs
from api.errors import document_errors, install_error_handlers
from api.lexicon import PronunciationLexicon, lexicon_dir
from api.metrics import Metrics, MetricsMiddleware
from api.routes import dev, health, lexicon, metrics, models, speech, stream_input, voices
from api.settings import Settings
from api.speech import SpeechJob, SpeechService
from api.text.chunks import Vocabulary
from api.text.g2p import EspeakG2P
from api.voices.store import DEFAULT_OPENAI_VOICES, VoiceStore, check_voice_settings
from api.webui import mount_web_ui
from api.weights import ensure_model_dir
from api.wyoming import start_wyoming_server

logger = logging.getLogger(__name__)

_WARM_UP_TEXT = "Ready."


def open_voice_store(settings: Settings) -> VoiceStore:
    """The voice store the settings describe: the shipped voices and the user's."""
    return VoiceStore(
        settings.voices_dir,
        openai_voices={**DEFAULT_OPENAI_VOICES, **settings.openai_voices},
        cache_size=settings.voice_cache_size,
        max_file_bytes=settings.max_voice_file_bytes,
    )


def load_service(settings: Settings, backend: Backend | None = None) -> tuple[SpeechService, str]:
    """Prepare the model directory, load the backend and voices, and warm up.

    Returns the service and the model's sha256. Blocking: call it off the event loop.
    """
    started = time.perf_counter()
    files = ensure_model_dir(settings.model_dir)
    if backend is None:
        backend = load_backend(files, settings)
    voices = open_voice_store(settings)
    check_voice_settings(voices, settings.default_voice)
    vocabulary = Vocabulary.load(files.vocab)
    pronunciations = PronunciationLexicon(lexicon_dir(settings.voices_dir), vocabulary)
    service = SpeechService(
        backend,
        voices,
        vocabulary,
        EspeakG2P(),
        workers=settings.inference_workers,
        max_queued=settings.max_queued_requests,
        capacity_headroom=settings.capacity_headroom,
        audio_cache_bytes=settings.audio_cache_mb * 1024 * 1024,
        lexicon=pronunciations,
    )
    # A lexicon change may say cached responses' words differently.
    pronunciations.subscribe(service.audio_cache.clear)
    # The first inference and the first espeak call pay one-off set-up costs;
    # pay them now, not in the first user's request.
    warm_up_voice = service.voices.resolve(settings.default_voice)
    for tokens in service.token_chunks(_WARM_UP_TEXT, "en-us"):
        backend.synthesize(tokens, warm_up_voice.style_for(len(tokens)), 1.0)
    # Once more, measured: admission's first estimate of the compute rate. A short
    # call costs more per second of audio than most, so the estimate errs on the
    # side of admitting too few until real requests refine it.
    service.synthesize_all(SpeechJob(_WARM_UP_TEXT, warm_up_voice))
    logger.info(
        "ready: backend=%s device=%s voices=%d in %.2f s",
        backend.name,
        backend.device,
        len(service.voices.ids()),
        time.perf_counter() - started,
    )
    return service, files.sha256


def create_app(settings: Settings | None = None, *, backend: Backend | None = None) -> FastAPI:
    """Build the app. ``backend`` replaces the ONNX model (tests pass a fake one)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service, sha256 = await asyncio.to_thread(load_service, settings, backend)
        app.state.speech = service
        app.state.model_sha256 = sha256
        app.state.metrics.watch(service, sha256)
        wyoming = None
        if settings.wyoming_port is not None:
            wyoming = await start_wyoming_server(service, settings)
        try:
            yield
        finally:
            if wyoming is not None:
                await wyoming.stop()
            # uvicorn calls this after the in-flight requests have finished (or
            # the shutdown grace period cut them), so no producer is left to stop.
            service.close()

    app = FastAPI(
        title="Kokoro speech server",
        version=__version__,
        description="OpenAI-compatible text-to-speech with Kokoro-82M.",
        lifespan=lifespan,
        # FastAPI's pages load Swagger UI and ReDoc from a CDN; api.docs serves /docs itself.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = Metrics(__version__)
    install_error_handlers(app)
    document_errors(app)
    install_routes(app, protected_metrics=not settings.public_metrics)
    upload_limit = settings.max_voice_file_bytes + voices.UPLOAD_OVERHEAD_BYTES
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.max_body_bytes,
        per_route={("POST", "/v1/audio/voices"): upload_limit},
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Content-Disposition", "Retry-After", "X-Voice-Spec"],
        )
    return app


def install_routes(app: FastAPI, *, protected_metrics: bool) -> None:
    """The API behind the key (when keys are set); /health, the docs and the web UI open."""
    protected = [RequireAPIKey]
    for module in (speech, voices, lexicon, models, dev):
        app.include_router(module.router, dependencies=protected)
    # The WebSocket checks its own key: browsers cannot send the header, so it may
    # also come in the query string or the first message.
    app.include_router(stream_input.router)
    app.include_router(metrics.router, dependencies=protected if protected_metrics else [])
    app.include_router(health.router)
    mount_api_docs(app)
    mount_web_ui(app)

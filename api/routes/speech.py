from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from fastapi import APIRouter, Response

from api.audio.encoder import FORMATS, StreamingEncoder
from api.backends.base import Audio
from api.deps import SettingsDep, SpeechServiceDep
from api.errors import APIError
from api.routes.limits import AdmittedStream, admit, admitted
from api.routes.models import check_model
from api.routes.voices import resolve_voice
from api.schemas import ErrorBody, SpeechRequest
from api.settings import Settings
from api.speech import SpeechJob, SpeechService
from api.text.chunks import WHOLE
from api.text.g2p import LanguageError, g2p_language, language_for_text, parse_language
from api.text.split import PauseTagError, check_pause_tags
from api.voices.store import Voice

logger = logging.getLogger(__name__)
router = APIRouter(tags=["speech"])

# Proxies (nginx) must not hold streamed audio back; players must not cache it.
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def check_input(text: str, limit: int) -> str:
    if not text.strip():
        raise APIError(400, "'input' is empty; give the text to speak.", param="input")
    if len(text) > limit:
        raise APIError(
            413,
            f"'input' is {len(text)} characters long; the limit is {limit} characters.",
            param="input",
            code="input_too_long",
        )
    try:
        check_pause_tags(text)
    except PauseTagError as e:
        raise APIError(400, str(e), param="input", code="invalid_pause_tag") from e
    return text


def check_language(service: SpeechService, code: str | None, voice: Voice, text: str) -> str:
    """The language to read in: ``lang_code`` if given, else the voice's; its G2P
    must be installed when the text needs it (Japanese is an extra)."""
    try:
        language = parse_language(code) if code else g2p_language(voice.language)
        service.check_language(language_for_text(text, language))
    except LanguageError as e:
        raise APIError(
            400, str(e), param="lang_code" if code else "voice", code="unsupported_language"
        ) from e
    return language


def build_job(body: SpeechRequest, service: SpeechService, settings: Settings) -> SpeechJob:
    """Validate a speech request and turn it into a job, or raise the API error."""
    check_model(body.model)
    text = check_input(body.input, settings.max_input_chars)
    voice = resolve_voice(service.voices, body.voice_name or settings.default_voice)
    language = check_language(service, body.lang_code, voice, text)
    return SpeechJob(
        text=text,
        voice=voice,
        speed=body.speed,
        language=language,
        normalization=body.normalization_options,
    )


async def encoded_audio(
    service: SpeechService, job: SpeechJob, encoder: StreamingEncoder
) -> AsyncGenerator[bytes, None]:
    """Container bytes for ``job``, each piece as soon as the encoder yields it.

    Encoding runs on a worker thread. Stopping the iteration (a client that went
    away) stops synthesis before its next chunk.
    """
    finished = False
    try:
        async with aclosing(service.stream(job)) as chunks:
            async for audio in chunks:
                data = await asyncio.to_thread(encoder.encode, audio)
                if data:
                    yield data
        tail = await asyncio.to_thread(encoder.finalize)
        finished = True
        if tail:
            yield tail
    finally:
        if not finished:
            encoder.close()


async def sse_events(
    service: SpeechService, job: SpeechJob, encoder: StreamingEncoder
) -> AsyncGenerator[str, None]:
    """OpenAI's speech SSE: ``speech.audio.delta`` events, then ``speech.audio.done``."""
    async with aclosing(encoded_audio(service, job, encoder)) as pieces:
        async for data in pieces:
            delta = {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()}
            yield f"data: {json.dumps(delta)}\n\n"
    # Kokoro has no text tokenizer: characters in, seconds of audio out are the
    # nearest honest counts (output at OpenAI's 50 audio tokens per second).
    input_tokens = len(job.text)
    output_tokens = round(encoder.seconds * 50)
    usage = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }
    yield f"data: {json.dumps({'type': 'speech.audio.done', 'usage': usage})}\n\n"


async def encode_whole(chunks: AsyncGenerator[Audio, None], encoder: StreamingEncoder) -> bytes:
    """One complete file of ``chunks``, encoded on worker threads; the chunks and the
    encoder are closed however it ends (an error, a time limit)."""
    try:
        async with aclosing(chunks):
            async for audio in chunks:
                await asyncio.to_thread(encoder.encode, audio)
        return await asyncio.to_thread(encoder.finalize)
    finally:
        encoder.close()


async def complete_file(service: SpeechService, job: SpeechJob, encoder: StreamingEncoder) -> bytes:
    data = await encode_whole(service.stream(job, schedule=WHOLE), encoder)
    if encoder.seconds == 0:
        raise APIError(400, "'input' contains nothing that can be spoken.", param="input")
    return data


_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (400, 404, 413, 429, 504)
}
_AUDIO_CONTENT: dict[str, dict[str, object]] = {spec.content_type: {} for spec in FORMATS.values()}


@router.post(
    "/v1/audio/speech",
    responses={200: {"content": {**_AUDIO_CONTENT, "text/event-stream": {}}}, **_ERRORS},
    response_class=Response,
)
async def create_speech(
    body: SpeechRequest, service: SpeechServiceDep, settings: SettingsDep
) -> Response:
    """Speak ``input``; OpenAI's ``POST /v1/audio/speech``.

    Streams by default (``stream: true``): audio bytes leave as each chunk is
    encoded. ``stream: false`` returns one complete file with exact headers.
    """
    job = build_job(body, service, settings)
    audio_format = body.response_format
    disposition = {"Content-Disposition": f'inline; filename="speech.{audio_format}"'}
    limit = settings.request_timeout_s
    if body.stream_format == "sse" or body.streamed:
        slot = admit(service)
        encoder = StreamingEncoder(audio_format, streaming=True)
        content: AsyncIterator[bytes] | AsyncIterator[str]
        if body.stream_format == "sse":
            content, media_type = sse_events(service, job, encoder), "text/event-stream"
            headers = _STREAM_HEADERS
        else:
            content, media_type = encoded_audio(service, job, encoder), encoder.content_type
            headers = {**_STREAM_HEADERS, **disposition}
        return AdmittedStream(
            content, slot=slot, timeout_s=limit, media_type=media_type, headers=headers
        )
    async with admitted(service, limit, "speech request"):
        encoder = StreamingEncoder(audio_format, streaming=False)
        data = await complete_file(service, job, encoder)
    return Response(data, media_type=encoder.content_type, headers=disposition)

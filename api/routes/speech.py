from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from fastapi import APIRouter, Request, Response

from api import intake
from api.audio.cache import AudioCache, CachedResponse, response_key, voice_digest
from api.audio.encoder import FORMATS, StreamingEncoder
from api.audio.spool import SpooledFileResponse, spooled_file
from api.backends.base import Audio
from api.deps import SettingsDep, SpeechServiceDep
from api.errors import APIError
from api.routes.limits import AdmittedStream, admit, admitted, close_iterator
from api.routes.models import check_model
from api.scheduler import Pacing
from api.schemas import AudioRequest, DialogueRequest, ErrorBody, SpeechRequest
from api.settings import Settings
from api.speech import Dialogue, Speakable, SpeechJob, SpeechService, pacing_for
from api.text.checks import TextRejectedError, check_total_pause
from api.voices.store import Voice

logger = logging.getLogger(__name__)
router = APIRouter(tags=["speech"])

# Proxies (nginx) must not hold streamed audio back; players must not cache it.
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def build_job(body: SpeechRequest, service: SpeechService, settings: Settings) -> SpeechJob:
    """Validate a speech request and turn it into a job (``api.intake`` raises what is
    wrong; the app renders it as the API error)."""
    check_model(body.model)
    return intake.speech_job(
        service,
        settings.text_limits,
        text=body.input,
        voice=body.voice_name or settings.default_voice,
        speed=body.speed,
        lang_code=body.lang_code,
        normalization=body.normalization_options,
        input_format=body.input_format,
    )


async def encoded_audio(
    service: SpeechService, job: Speakable, encoder: StreamingEncoder, pacing: Pacing
) -> AsyncGenerator[bytes, None]:
    """Container bytes for ``job``, each piece as soon as the encoder yields it.

    Encoding runs on a worker thread. Stopping the iteration (a client that went
    away) stops synthesis before its next chunk.
    """
    finished = False
    try:
        async with aclosing(service.stream(job, pacing=pacing)) as chunks:
            async for audio in chunks:
                data = await asyncio.to_thread(encoder.encode, audio)
                if data:
                    yield data
        # Nothing was said (symbols the model is silent on): before any byte has
        # left, this still becomes the 400 (AdmittedStream holds the status line).
        check_spoken(encoder, "input")
        tail = await asyncio.to_thread(encoder.finalize)
        finished = True
        if tail:
            yield tail
    finally:
        if not finished:
            encoder.close()


async def sse_events(
    service: SpeechService, job: Speakable, encoder: StreamingEncoder, pacing: Pacing
) -> AsyncGenerator[str, None]:
    """OpenAI's speech SSE: ``speech.audio.delta`` events, then ``speech.audio.done``."""
    async with aclosing(encoded_audio(service, job, encoder, pacing)) as pieces:
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


def audio_too_long_error(limit_s: float) -> APIError:
    return APIError(
        413,
        f"The audio would be longer than {limit_s:g} s, the most a complete file may hold "
        "here; ask for it with stream: true, or send less text.",
        param="stream",
        code="audio_too_long",
    )


async def encode_whole(
    chunks: AsyncGenerator[Audio, None],
    encoder: StreamingEncoder,
    max_seconds: float = math.inf,
) -> bytes:
    """One complete file of ``chunks``, encoded on worker threads (the bytes, or b""
    when the encoder writes to a file); past ``max_seconds`` of audio, the 413. The
    chunks and the encoder are closed however it ends (an error, a time limit)."""
    try:
        async with aclosing(chunks):
            async for audio in chunks:
                await asyncio.to_thread(encoder.encode, audio)
                if encoder.seconds > max_seconds:
                    raise audio_too_long_error(max_seconds)
        return await asyncio.to_thread(encoder.finalize)
    finally:
        encoder.close()


def nothing_to_speak_error(param: str) -> APIError:
    return APIError(
        400,
        f"'{param}' contains nothing that can be spoken.",
        param=param,
        code="nothing_to_speak",
    )


async def complete_file(
    chunks: AsyncGenerator[Audio, None],
    audio_format: str,
    settings: Settings,
    *,
    param: str = "input",
    headers: dict[str, str] | None = None,
) -> SpooledFileResponse:
    """The complete-file response of ``chunks``, built in a temporary file (memory
    holds a few MB of it at most), at most ``max_file_audio_s`` long."""
    file = spooled_file()
    try:
        encoder = StreamingEncoder(audio_format, streaming=False, file=file)
        await encode_whole(chunks, encoder, settings.max_file_audio_s)
        check_spoken(encoder, param)
    except BaseException:
        file.close()
        raise
    return SpooledFileResponse(file, media_type=encoder.content_type, headers=headers)


def check_spoken(encoder: StreamingEncoder, param: str) -> None:
    """Audio that came out empty (symbols the model says nothing for) is a 400."""
    if encoder.seconds == 0:
        raise nothing_to_speak_error(param)


_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (400, 404, 413, 429, 504)
}
_AUDIO_CONTENT: dict[str, dict[str, object]] = {spec.content_type: {} for spec in FORMATS.values()}
_AUDIO_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {**_AUDIO_CONTENT, "text/event-stream": {}}},
    **_ERRORS,
}


def cache_key(job: Speakable, body: AudioRequest, generation: int = 0) -> str:
    """Everything that shapes the response's bytes (see ``api.audio.cache``), and the
    cache's generation (a lexicon change clears it)."""
    turns = job.turns if isinstance(job, Dialogue) else (job,)
    parts: list[object] = [
        generation,
        "dialogue" if isinstance(job, Dialogue) else "speech",
        body.response_format,
        body.stream_format,
        body.streamed,
        job.gap if isinstance(job, Dialogue) else None,
    ]
    for turn in turns:
        parts += [
            turn.text,
            voice_digest(turn.voice),
            turn.speed,
            turn.language,
            turn.normalization.model_dump() if turn.normalization else None,
            sorted((spec, voice_digest(voice)) for spec, voice in turn.tag_voices.items()),
        ]
    return response_key(parts)


async def kept_in_cache(
    content: AsyncIterator[bytes | str],
    cache: AudioCache,
    key: str,
    media_type: str,
) -> AsyncGenerator[bytes | str, None]:
    """``content`` as it is, and, once it has run to its end, kept in ``cache`` (a
    client that leaves, an error or a response too large keeps nothing)."""
    parts: list[bytes] = []
    size = 0
    keeping = True
    try:
        async for piece in content:
            if keeping:
                data = piece.encode() if isinstance(piece, str) else piece
                size += len(data)
                keeping = size <= cache.largest_entry
                if keeping:
                    parts.append(data)
                else:
                    parts.clear()
            yield piece
    finally:
        await close_iterator(content)
    if keeping:
        cache.put(key, CachedResponse(b"".join(parts), media_type))


def cached_response(hit: CachedResponse, body: AudioRequest, headers: dict[str, str]) -> Response:
    streamed = body.stream_format == "sse" or body.streamed
    extra = {**(_STREAM_HEADERS if streamed else {}), **headers, "X-Cache": "hit"}
    return Response(hit.content, media_type=hit.media_type, headers=extra)


async def speech_response(
    service: SpeechService,
    job: Speakable,
    body: AudioRequest,
    settings: Settings,
    request: Request,
    *,
    name: str,
) -> Response:
    """The HTTP response for ``job``: SSE events, a byte stream, or a complete file,
    admitted (or refused with 429) and held to the request time limit."""
    audio_format = body.response_format
    disposition = {"Content-Disposition": f'inline; filename="{name}.{audio_format}"'}
    limit = settings.request_timeout_s
    cache = service.audio_cache
    key = cache_key(job, body, cache.generation) if cache.enabled else ""
    if cache.enabled and (hit := cache.get(key)) is not None:
        # A repeat: the same bytes at once, without a slot or any compute.
        return cached_response(hit, body, {} if body.stream_format == "sse" else disposition)
    if body.stream_format == "sse" or body.streamed:
        slot = admit(service, pacing_for(job, listener=True))
        encoder = StreamingEncoder(audio_format, streaming=True)
        content: AsyncIterator[bytes | str]
        if body.stream_format == "sse":
            content = sse_events(service, job, encoder, slot.pacing)
            media_type = "text/event-stream"
            headers = _STREAM_HEADERS
        else:
            content = encoded_audio(service, job, encoder, slot.pacing)
            media_type = encoder.content_type
            headers = {**_STREAM_HEADERS, **disposition}
        if cache.enabled:
            content = kept_in_cache(content, cache, key, media_type)
        return AdmittedStream(
            content, slot=slot, timeout_s=limit, media_type=media_type, headers=headers
        )
    pacing = pacing_for(job, listener=False)
    async with admitted(service, limit, f"{name} request", request, pacing):
        response = await complete_file(
            service.stream(job, pacing=pacing),
            audio_format,
            settings,
            headers=disposition,
        )
    if cache.enabled and response.size <= cache.largest_entry:
        data = await asyncio.to_thread(response.file.read)
        response.file.seek(0)
        cache.put(key, CachedResponse(data, FORMATS[audio_format].content_type))
    return response


@router.post("/v1/audio/speech", responses=_AUDIO_RESPONSES, response_class=Response)
async def create_speech(
    body: SpeechRequest, service: SpeechServiceDep, settings: SettingsDep, request: Request
) -> Response:
    """Speak ``input``; OpenAI's ``POST /v1/audio/speech``.

    Streams by default (``stream: true``): audio bytes leave as each chunk is
    encoded. ``stream: false`` returns one complete file with exact headers.
    ``[voice:SPEC]`` tags in ``input`` switch the voice until the next tag, and
    ``[pause:Ns]`` tags insert silence.
    """
    job = build_job(body, service, settings)
    return await speech_response(service, job, body, settings, request, name="speech")


def build_dialogue(body: DialogueRequest, service: SpeechService, settings: Settings) -> Dialogue:
    """Validate a script and turn it into a dialogue, or raise the API error (before
    any audio: unknown speakers and voices, tags, sizes)."""
    check_model(body.model)
    total = sum(len(turn.text) for turn in body.turns)
    if total > settings.max_input_chars:
        raise APIError(
            413,
            f"The turns hold {total} characters; the limit is {settings.max_input_chars}.",
            param="turns",
            code="input_too_long",
        )
    language = intake.language_code(body.lang_code)
    speakers: dict[str, tuple[Voice, float]] = {}
    forms = {}
    for name, speaker in body.speakers.items():
        voice = intake.resolve_voice(service.voices, speaker.voice, f"speakers.{name}")
        speakers[name] = (voice, speaker.speed or body.speed)
        forms[name] = intake.text_form(speaker.voice, body.normalization_options, body.input_format)
    turns = []
    pause_s = body.gap * (len(body.turns) - 1)  # a gap follows every turn but the last
    for index, turn in enumerate(body.turns):
        param = f"turns[{index}]"
        if turn.speaker not in speakers:
            raise APIError(
                400,
                f"Turn {index} names the speaker {turn.speaker!r}, who is not in 'speakers' "
                f"({', '.join(sorted(speakers))}).",
                param=f"{param}.speaker",
                code="unknown_speaker",
            )
        checked = intake.checked_text(
            turn.text, settings.text_limits, f"{param}.text", forms[turn.speaker]
        )
        pause_s += checked.pause_s
        voice, speed = speakers[turn.speaker]
        turns.append(
            intake.tagged_job(
                service,
                checked,
                voice,
                speed=speed,
                language=language,
                normalization=body.normalization_options,
                param=f"{param}.text",
            )
        )
    try:
        check_total_pause(pause_s, settings.text_limits, what="the turns (gaps included)")
    except TextRejectedError as e:
        raise intake.rejected_text(e, "turns") from e
    return Dialogue(tuple(turns), gap=body.gap)


@router.post("/v1/audio/dialogue", responses=_AUDIO_RESPONSES, response_class=Response)
async def create_dialogue(
    body: DialogueRequest, service: SpeechServiceDep, settings: SettingsDep, request: Request
) -> Response:
    """Speak a script: each turn in its speaker's voice (and speed), ``gap`` seconds
    apart, streamed like ``/v1/audio/speech``."""
    dialogue = build_dialogue(body, service, settings)
    return await speech_response(service, dialogue, body, settings, request, name="dialogue")

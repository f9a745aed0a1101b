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
from api.schemas import AudioRequest, DialogueRequest, ErrorBody, SpeechRequest
from api.settings import Settings
from api.speech import Dialogue, Speakable, SpeechJob, SpeechService
from api.text.chunks import WHOLE
from api.text.g2p import LanguageError, language_for_text, parse_language
from api.text.normalize import NormalizationOptions
from api.text.split import TagError, check_tags
from api.voices.store import Voice

logger = logging.getLogger(__name__)
router = APIRouter(tags=["speech"])

# Proxies (nginx) must not hold streamed audio back; players must not cache it.
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def check_input(text: str, limit: int, param: str = "input") -> list[str]:
    """Refuse empty, over-long or badly tagged text; return the voice specs its tags name."""
    if not text.strip():
        raise APIError(
            400, f"'{param}' is empty; give the text to speak.", param=param, code="empty_input"
        )
    if len(text) > limit:
        raise APIError(
            413,
            f"'{param}' is {len(text)} characters long; the limit is {limit} characters.",
            param=param,
            code="input_too_long",
        )
    try:
        return check_tags(text)
    except TagError as e:
        raise APIError(400, str(e), param=param, code=f"invalid_{e.kind}_tag") from e


def check_language(service: SpeechService, job: SpeechJob, param: str) -> None:
    """The language each of the job's voices reads in must have its G2P installed
    where the text needs it (Japanese is an extra)."""
    try:
        for voice in (job.voice, *job.tag_voices.values()):
            service.check_language(language_for_text(job.text, job.language_for(voice)))
    except LanguageError as e:
        raise APIError(400, str(e), param=param, code="unsupported_language") from e


def parse_lang_code(code: str | None) -> str | None:
    try:
        return parse_language(code) if code else None
    except LanguageError as e:
        raise APIError(400, str(e), param="lang_code", code="unsupported_language") from e


def tagged_job(
    service: SpeechService,
    text: str,
    specs: list[str],
    voice: Voice,
    *,
    speed: float,
    language: str | None,
    normalization: NormalizationOptions | None,
    param: str,
) -> SpeechJob:
    """A job for ``text`` (already checked by ``check_input``, which found the voice
    ``specs`` its tags name), with those voices resolved: an unknown voice in a tag
    is a 404 naming it, before any audio exists."""
    job = SpeechJob(
        text=text,
        voice=voice,
        speed=speed,
        language=language,
        normalization=normalization,
        tag_voices={spec: resolve_voice(service.voices, spec, param=param) for spec in specs},
    )
    check_language(service, job, "lang_code" if language else param)
    return job


def build_job(body: SpeechRequest, service: SpeechService, settings: Settings) -> SpeechJob:
    """Validate a speech request and turn it into a job, or raise the API error."""
    check_model(body.model)
    specs = check_input(body.input, settings.max_input_chars)
    voice = resolve_voice(service.voices, body.voice_name or settings.default_voice)
    language = parse_lang_code(body.lang_code)
    return tagged_job(
        service,
        body.input,
        specs,
        voice,
        speed=body.speed,
        language=language,
        normalization=body.normalization_options,
        param="input",
    )


async def encoded_audio(
    service: SpeechService, job: Speakable, encoder: StreamingEncoder
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
    service: SpeechService, job: Speakable, encoder: StreamingEncoder
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


async def complete_file(service: SpeechService, job: Speakable, encoder: StreamingEncoder) -> bytes:
    data = await encode_whole(service.stream(job, schedule=WHOLE), encoder)
    if encoder.seconds == 0:
        raise APIError(
            400,
            "'input' contains nothing that can be spoken.",
            param="input",
            code="nothing_to_speak",
        )
    return data


_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (400, 404, 413, 429, 504)
}
_AUDIO_CONTENT: dict[str, dict[str, object]] = {spec.content_type: {} for spec in FORMATS.values()}
_AUDIO_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {**_AUDIO_CONTENT, "text/event-stream": {}}},
    **_ERRORS,
}


async def speech_response(
    service: SpeechService,
    job: Speakable,
    body: AudioRequest,
    settings: Settings,
    *,
    name: str,
) -> Response:
    """The HTTP response for ``job``: SSE events, a byte stream, or a complete file,
    admitted (or refused with 429) and held to the request time limit."""
    audio_format = body.response_format
    disposition = {"Content-Disposition": f'inline; filename="{name}.{audio_format}"'}
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
    async with admitted(service, limit, f"{name} request"):
        encoder = StreamingEncoder(audio_format, streaming=False)
        data = await complete_file(service, job, encoder)
    return Response(data, media_type=encoder.content_type, headers=disposition)


@router.post("/v1/audio/speech", responses=_AUDIO_RESPONSES, response_class=Response)
async def create_speech(
    body: SpeechRequest, service: SpeechServiceDep, settings: SettingsDep
) -> Response:
    """Speak ``input``; OpenAI's ``POST /v1/audio/speech``.

    Streams by default (``stream: true``): audio bytes leave as each chunk is
    encoded. ``stream: false`` returns one complete file with exact headers.
    ``[voice:SPEC]`` tags in ``input`` switch the voice until the next tag, and
    ``[pause:Ns]`` tags insert silence.
    """
    job = build_job(body, service, settings)
    return await speech_response(service, job, body, settings, name="speech")


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
    language = parse_lang_code(body.lang_code)
    speakers: dict[str, tuple[Voice, float]] = {}
    for name, speaker in body.speakers.items():
        voice = resolve_voice(service.voices, speaker.voice, f"speakers.{name}")
        speakers[name] = (voice, speaker.speed or body.speed)
    turns = []
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
        specs = check_input(turn.text, settings.max_input_chars, param=f"{param}.text")
        voice, speed = speakers[turn.speaker]
        turns.append(
            tagged_job(
                service,
                turn.text,
                specs,
                voice,
                speed=speed,
                language=language,
                normalization=body.normalization_options,
                param=f"{param}.text",
            )
        )
    return Dialogue(tuple(turns), gap=body.gap)


@router.post("/v1/audio/dialogue", responses=_AUDIO_RESPONSES, response_class=Response)
async def create_dialogue(
    body: DialogueRequest, service: SpeechServiceDep, settings: SettingsDep
) -> Response:
    """Speak a script: each turn in its speaker's voice (and speed), ``gap`` seconds
    apart, streamed like ``/v1/audio/speech``."""
    dialogue = build_dialogue(body, service, settings)
    return await speech_response(service, dialogue, body, settings, name="dialogue")

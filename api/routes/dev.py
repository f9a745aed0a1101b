"""Developer endpoints: phonemes in and out, beside the OpenAI-shaped API."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator
from contextlib import aclosing

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from api.audio.encoder import FORMATS, StreamingEncoder
from api.backends.base import Audio
from api.captions import CaptionsUnavailableError, captioned_chunks, join_captioned
from api.deps import SettingsDep, SpeechServiceDep
from api.errors import APIError
from api.routes.limits import admitted
from api.routes.speech import build_job, encode_whole
from api.routes.voices import resolve_voice
from api.schemas import ErrorBody, ResponseFormat, SpeechRequest
from api.text.chunks import MAX_TOKENS, WHOLE
from api.text.g2p import LanguageError, language_for_text, parse_language

router = APIRouter(prefix="/dev", tags=["dev"])

_ERRORS: dict[int | str, dict[str, object]] = {
    c: {"model": ErrorBody} for c in (400, 404, 413, 429, 504)
}


class PhonemizeRequest(BaseModel):
    text: str = Field(min_length=1, description="Text to turn into phonemes.")
    language: str = Field(default="a", description="Kokoro letter or language name.")


class PhonemizeResponse(BaseModel):
    phonemes: str
    tokens: list[int]


@router.post("/phonemize", responses=_ERRORS)
async def phonemize(
    body: PhonemizeRequest, service: SpeechServiceDep, settings: SettingsDep
) -> PhonemizeResponse:
    """The phonemes (Kokoro's alphabet) and token ids the model would get for ``text``."""
    if len(body.text) > settings.max_input_chars:
        raise APIError(
            413,
            f"'text' is over {settings.max_input_chars} characters.",
            param="text",
            code="input_too_long",
        )
    try:
        language = parse_language(body.language)
        service.check_language(language_for_text(body.text, language))
    except LanguageError as e:
        raise APIError(400, str(e), param="language", code="unsupported_language") from e

    def run() -> str:
        return " ".join(service.phoneme_chunks(body.text, language, WHOLE))

    phonemes = await asyncio.to_thread(run)
    return PhonemizeResponse(phonemes=phonemes, tokens=service.vocabulary.encode(phonemes))


class PhonemesRequest(BaseModel):
    phonemes: str = Field(min_length=1, max_length=MAX_TOKENS * 100)
    voice: str | None = Field(
        default=None, description="Voice name or blend; the server's default voice if unset."
    )
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    response_format: ResponseFormat = "wav"


@router.post(
    "/generate_from_phonemes",
    response_class=Response,
    responses={200: {"content": {s.content_type: {} for s in FORMATS.values()}}, **_ERRORS},
)
async def generate_from_phonemes(
    body: PhonemesRequest, service: SpeechServiceDep, settings: SettingsDep
) -> Response:
    """Speak phonemes given in Kokoro's alphabet (symbols outside it are dropped)."""
    voice = resolve_voice(service.voices, body.voice or settings.default_voice)
    cleaned = service.vocabulary.clean(body.phonemes)
    if service.vocabulary.is_silent(cleaned):
        raise APIError(
            400,
            "'phonemes' holds no symbol the model can speak.",
            param="phonemes",
            code="nothing_to_speak",
        )
    async with admitted(service, settings.request_timeout_s, "phoneme request"):
        encoder = StreamingEncoder(body.response_format, streaming=False)
        data = await encode_whole(service.stream_phonemes(cleaned, voice, body.speed), encoder)
    return Response(data, media_type=encoder.content_type)


async def _single(audio: Audio) -> AsyncGenerator[Audio, None]:
    yield audio


class WordTimestampModel(BaseModel):
    word: str
    start_time: float
    end_time: float


class CaptionedSpeechResponse(BaseModel):
    audio: str = Field(description="The whole audio file, base64.")
    audio_format: str
    timestamps: list[WordTimestampModel]


@router.post("/captioned_speech", responses=_ERRORS)
async def captioned_speech_route(
    body: SpeechRequest, service: SpeechServiceDep, settings: SettingsDep
) -> CaptionedSpeechResponse:
    """The speech request's audio (complete, base64) with a start and end time, in
    seconds, for every word, from the model's own predicted durations."""
    job = build_job(body, service, settings)
    try:
        pieces = captioned_chunks(service, job)
    except CaptionsUnavailableError as e:
        raise APIError(501, str(e), code="captions_unavailable") from e
    async with admitted(service, settings.request_timeout_s, "captioned speech request"):
        async with aclosing(service.run_chunks(pieces)) as chunks:
            result = join_captioned(job, [chunk async for chunk in chunks])
        encoder = StreamingEncoder(body.response_format, streaming=False)
        data = await encode_whole(_single(result.audio), encoder)
    service.count_audio(result.audio)
    if encoder.seconds == 0:
        raise APIError(
            400,
            "'input' contains nothing that can be spoken.",
            param="input",
            code="nothing_to_speak",
        )
    return CaptionedSpeechResponse(
        audio=base64.b64encode(data).decode(),
        audio_format=body.response_format,
        timestamps=[
            WordTimestampModel(word=s.word, start_time=s.start_time, end_time=s.end_time)
            for s in result.timestamps
        ],
    )

"""Developer endpoints: phonemes in and out, beside the OpenAI-shaped API."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace

import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api import intake
from api.audio.encoder import FORMATS, StreamingEncoder
from api.audio.spool import spooled_file
from api.backends.base import Audio
from api.captions import (
    CaptionedChunk,
    CaptionsUnavailableError,
    caption_timestamps,
    captioned_chunks,
)
from api.deps import SettingsDep, SpeechServiceDep
from api.errors import APIError
from api.routes.limits import admitted
from api.routes.speech import build_job, check_spoken, complete_file, encode_whole
from api.scheduler import Pacing
from api.schemas import ErrorBody, ResponseFormat, SpeechRequest
from api.speech import SPEECH_SECONDS_PER_PHONEME, SpeechService, Utterance, pacing_for
from api.text.chunks import MAX_TOKENS, PLAN
from api.text.g2p import parse_language
from api.text.normalize import NormalizationOptions
from api.text.sanitize import sanitize_text

router = APIRouter(prefix="/dev", tags=["dev"])

_ERRORS: dict[int | str, dict[str, object]] = {
    c: {"model": ErrorBody} for c in (400, 404, 413, 429, 504)
}


class PhonemizeRequest(BaseModel):
    text: str = Field(description="Text to turn into phonemes.")
    language: str = Field(default="a", description="Kokoro letter or language name.")
    normalization_options: NormalizationOptions | None = Field(
        default=None, description="As in a speech request."
    )


class PhonemizeResponse(BaseModel):
    phonemes: str
    tokens: list[int]


@router.post("/phonemize", responses=_ERRORS)
async def phonemize(
    body: PhonemizeRequest, service: SpeechServiceDep, settings: SettingsDep
) -> PhonemizeResponse:
    """The phonemes (Kokoro's alphabet) and token ids the model would get for ``text``:
    read as a speech request reads it (SSML, markdown, tags, the lexicon), its pauses
    and voice switches left out."""
    language = intake.language_code(body.language, "language") or parse_language("a")
    form = intake.text_form(settings.default_voice, body.normalization_options)
    checked = intake.checked_text(body.text, settings.text_limits, "text", form)
    default = intake.resolve_voice(service.voices, settings.default_voice)
    job = intake.tagged_job(
        service,
        checked,
        default,
        language=language,
        normalization=body.normalization_options,
        param="text",
    )

    def run() -> str:
        return " ".join(
            chunk
            for piece in job.pieces()
            if isinstance(piece, Utterance)
            for chunk in service.phoneme_chunks(piece.text, piece.language, PLAN, job.normalization)
        )

    phonemes = await asyncio.to_thread(run)
    return PhonemizeResponse(phonemes=phonemes, tokens=service.vocabulary.encode(phonemes))


MAX_PHONEMES = MAX_TOKENS * 100


class PhonemesRequest(BaseModel):
    phonemes: str = Field(description=f"At most {MAX_PHONEMES} symbols of Kokoro's alphabet.")
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
    body: PhonemesRequest, service: SpeechServiceDep, settings: SettingsDep, request: Request
) -> Response:
    """Speak phonemes given in Kokoro's alphabet (symbols outside it are dropped)."""
    if len(body.phonemes) > MAX_PHONEMES:
        raise APIError(
            413,
            f"'phonemes' is {len(body.phonemes)} symbols long; the limit is {MAX_PHONEMES}.",
            param="phonemes",
            code="input_too_long",
        )
    voice = intake.resolve_voice(service.voices, body.voice or settings.default_voice)
    cleaned = service.vocabulary.clean(sanitize_text(body.phonemes))
    if service.vocabulary.is_silent(cleaned):
        raise APIError(
            400,
            "'phonemes' holds no symbol the model can speak.",
            param="phonemes",
            code="nothing_to_speak",
        )
    pacing = Pacing(listener=False, expected_audio_s=len(cleaned) * SPEECH_SECONDS_PER_PHONEME)
    async with admitted(service, settings.request_timeout_s, "phoneme request", request, pacing):
        return await complete_file(
            service.stream_phonemes(cleaned, voice, body.speed, pacing),
            body.response_format,
            settings,
            param="phonemes",
        )


class WordTimestampModel(BaseModel):
    word: str
    start_time: float
    end_time: float


class CaptionedSpeechResponse(BaseModel):
    audio: str = Field(description="The whole audio file, base64.")
    audio_format: str
    timestamps: list[WordTimestampModel]


CAPTIONED_MAX_AUDIO_S = 1800.0
"""Most audio one captioned response holds: it travels as base64 inside one JSON
body, which is built in memory (longer texts: stream, or split them)."""


@router.post("/captioned_speech", responses=_ERRORS)
async def captioned_speech_route(
    body: SpeechRequest, service: SpeechServiceDep, settings: SettingsDep, request: Request
) -> CaptionedSpeechResponse:
    """The speech request's audio (complete, base64) with a start and end time, in
    seconds, for every word, from the model's own predicted durations."""
    job = build_job(body, service, settings)
    try:
        pieces = captioned_chunks(service, job)
    except CaptionsUnavailableError as e:
        raise APIError(501, str(e), code="captions_unavailable") from e
    timed: list[CaptionedChunk] = []
    file = spooled_file()
    with file:
        encoder = StreamingEncoder(body.response_format, streaming=False, file=file)
        limit = settings.request_timeout_s
        pacing = pacing_for(job, listener=False)
        async with admitted(service, limit, "captioned speech request", request, pacing):
            await encode_whole(
                _audio_of(service.run_chunks(pieces, pacing=pacing), timed, service),
                encoder,
                min(settings.max_file_audio_s, CAPTIONED_MAX_AUDIO_S),
            )
        check_spoken(encoder, "input")
        file.seek(0)
        audio = base64.b64encode(file.read()).decode()
    return CaptionedSpeechResponse(
        audio=audio,
        audio_format=body.response_format,
        timestamps=[
            WordTimestampModel(word=s.word, start_time=s.start_time, end_time=s.end_time)
            for s in caption_timestamps(service, job, timed)
        ],
    )


async def _audio_of(
    chunks: AsyncGenerator[CaptionedChunk, None],
    timed: list[CaptionedChunk],
    service: SpeechService,
) -> AsyncGenerator[Audio, None]:
    """Each chunk's audio, to be encoded; its symbols and durations are kept in
    ``timed`` without the audio."""
    async with aclosing(chunks):
        async for chunk in chunks:
            service.count_audio(chunk.audio)
            timed.append(replace(chunk, audio=_NO_AUDIO))
            yield chunk.audio


_NO_AUDIO = np.zeros(0, dtype=np.float32)

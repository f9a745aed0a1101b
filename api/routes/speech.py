from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import numpy as np
from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from api.audio.wav import to_pcm16, wav_file
from api.deps import SettingsDep, SpeechServiceDep
from api.errors import APIError
from api.routes.models import check_model
from api.routes.voices import resolve_voice
from api.schemas import ErrorBody, ResponseFormat, SpeechRequest
from api.speech import SpeechJob, SpeechService

logger = logging.getLogger(__name__)
router = APIRouter(tags=["speech"])

SUPPORTED_FORMATS: dict[str, str] = {"wav": "audio/wav", "pcm": "audio/pcm"}


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
    return text


def check_format(response_format: ResponseFormat) -> str:
    if response_format not in SUPPORTED_FORMATS:
        raise APIError(
            400,
            f"response_format '{response_format}' is not available in this build yet; "
            f"use one of: {', '.join(SUPPORTED_FORMATS)}.",
            param="response_format",
            code="unsupported_format",
        )
    return response_format


async def _pcm_stream(service: SpeechService, job: SpeechJob) -> AsyncIterator[bytes]:
    async for audio in service.stream(job):
        yield to_pcm16(audio)


_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody} for status in (400, 404, 413)
}


@router.post(
    "/v1/audio/speech",
    responses={200: {"content": {mime: {} for mime in SUPPORTED_FORMATS.values()}}, **_ERRORS},
    response_class=Response,
)
async def create_speech(
    body: SpeechRequest, service: SpeechServiceDep, settings: SettingsDep
) -> Response:
    """Speak ``input``; OpenAI's ``POST /v1/audio/speech``."""
    check_model(body.model)
    text = check_input(body.input, settings.max_input_chars)
    voice = resolve_voice(service.voices, body.voice_name or settings.default_voice)
    response_format = check_format(body.response_format)
    job = SpeechJob(text=text, voice=voice, speed=body.speed)
    media_type = SUPPORTED_FORMATS[response_format]
    if response_format == "pcm":
        return StreamingResponse(_pcm_stream(service, job), media_type=media_type)
    chunks = [audio async for audio in service.stream(job)]
    if not chunks:
        raise APIError(400, "'input' contains nothing that can be spoken.", param="input")
    return Response(wav_file(np.concatenate(chunks)), media_type=media_type)

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status
from pydantic import BaseModel, Field

from api import intake
from api.deps import SettingsDep, SpeechServiceDep
from api.errors import APIError
from api.schemas import ErrorBody, SkippedVoiceFile, VoiceInfo, VoiceList
from api.text.g2p import missing_reader
from api.voices.formats import pt_bytes
from api.voices.store import (
    ProtectedVoiceError,
    UnknownVoiceError,
    Voice,
    VoiceError,
    VoiceExistsError,
)

router = APIRouter(tags=["voices"])

UPLOAD_OVERHEAD_BYTES = 64 * 1024
"""Room in an upload's body (whose limit follows KOKORO_MAX_VOICE_FILE_BYTES, not
KOKORO_MAX_BODY_BYTES) for the multipart framing and form fields around the file."""


def voice_info(voice: Voice) -> VoiceInfo:
    return VoiceInfo(
        id=voice.id,
        name=voice.name,
        language=voice.language,
        gender=voice.gender,
        source=voice.source,
        spec=voice.spec,
        quality=voice.official.overall_grade if voice.official else None,
        target_quality=voice.official.target_quality if voice.official else None,
        requires=missing_reader(voice.language),
    )


def _store_error(e: Exception, param: str) -> APIError:
    if isinstance(e, VoiceExistsError):
        return APIError(409, str(e), param=param, code="voice_exists")
    if isinstance(e, ProtectedVoiceError):
        return APIError(403, str(e), param=param, code="voice_protected")
    if isinstance(e, UnknownVoiceError):
        return APIError(404, str(e), param=param, code="voice_not_found")
    return APIError(400, str(e), param=param, code="invalid_voice")


_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 403, 404, 409, 413)
}


@router.get("/v1/audio/voices")
async def list_voices(service: SpeechServiceDep) -> VoiceList:
    """Every voice by id, the OpenAI voice names with the voice each stands for, and the
    files of the voices directory that could not be loaded."""
    store = service.voices
    return VoiceList(
        voices=[voice_info(voice) for voice in store.all()],
        openai_voices=store.openai_voices,
        skipped_files=[
            SkippedVoiceFile(file=name, reason=reason) for name, reason in store.skipped.items()
        ],
    )


class CombineRequest(BaseModel):
    voices: str = Field(
        min_length=1, max_length=1000, description="A blend such as 'af_heart(2)+am_michael(1)'."
    )
    name: str | None = Field(
        default=None, description="Save the blend under this name ([a-z0-9_-], at most 64)."
    )
    overwrite: bool = Field(default=False, description="Replace a saved voice of that name.")


@router.post(
    "/v1/audio/voices/combine",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **_ERRORS},
)
async def combine_voices(body: CombineRequest, service: SpeechServiceDep) -> Response:
    """Blend voices into one pack, returned as a PyTorch ``.pt`` file; with ``name``,
    also save it as a voice that is listed, usable and kept across restarts."""
    voice = await asyncio.to_thread(intake.resolve_voice, service.voices, body.voices, "voices")
    filename = voice.id if voice.source != "mix" else "mix"
    if body.name is not None:
        try:
            voice = await asyncio.to_thread(
                service.voices.save_mix, body.name, body.voices, overwrite=body.overwrite
            )
        except (VoiceError, ProtectedVoiceError, VoiceExistsError) as e:
            raise _store_error(e, "name") from e
        filename = voice.id
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}.pt"',
        "X-Voice-Spec": voice.spec or voice.id,
    }
    data = await asyncio.to_thread(pt_bytes, voice.pack)
    return Response(data, media_type="application/octet-stream", headers=headers)


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise APIError(
            413,
            f"The voice file is larger than the limit of {limit} bytes.",
            param="file",
            code="file_too_large",
        )
    return data


@router.post("/v1/audio/voices", status_code=status.HTTP_201_CREATED, responses=_ERRORS)
async def upload_voice(
    service: SpeechServiceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="A .pt, .pth, .npy, .npz or .bin voice file.")],
    name: Annotated[str | None, Form(description="Name for a single-voice file.")] = None,
    overwrite: Annotated[bool, Form()] = False,
) -> VoiceList:
    """Import a voice pack file; its voices are saved and listed as ``imported``."""
    data = await _read_limited(file, settings.max_voice_file_bytes)
    filename = file.filename or "upload.bin"
    try:
        voices = await asyncio.to_thread(
            service.voices.import_packs,
            data,
            filename,
            name=name or None,
            origin=f"upload:{filename}",
            overwrite=overwrite,
        )
    except (VoiceError, ProtectedVoiceError, VoiceExistsError) as e:
        raise _store_error(e, "name" if name else "file") from e
    return VoiceList(voices=[voice_info(voice) for voice in voices])


@router.delete("/v1/audio/voices/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def delete_voice(name: str, service: SpeechServiceDep) -> Response:
    """Delete a saved mix or imported voice; built-in voices are protected."""
    try:
        await asyncio.to_thread(service.voices.delete, name)
    except (UnknownVoiceError, ProtectedVoiceError) as e:
        raise _store_error(e, "name") from e
    return Response(status_code=status.HTTP_204_NO_CONTENT)

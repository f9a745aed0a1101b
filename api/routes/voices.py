from __future__ import annotations

from fastapi import APIRouter

from api.deps import SpeechServiceDep
from api.errors import APIError
from api.schemas import VoiceInfo, VoiceList
from api.voices.store import UnknownVoiceError, Voice, VoiceStore

router = APIRouter(tags=["voices"])


def resolve_voice(store: VoiceStore, name: str) -> Voice:
    """The voice called ``name``, or a 404 naming it and its closest matches."""
    try:
        return store.get(name)
    except UnknownVoiceError as e:
        raise APIError(404, str(e), param="voice", code="voice_not_found") from e


@router.get("/v1/audio/voices")
async def list_voices(service: SpeechServiceDep) -> VoiceList:
    return VoiceList(
        voices=[
            VoiceInfo(
                id=voice.id,
                name=voice.name,
                language=voice.language,
                gender=voice.gender,
                source=voice.source,
            )
            for voice in service.voices.all()
        ]
    )

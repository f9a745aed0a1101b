"""FastAPI dependencies as named aliases; tests swap them with ``dependency_overrides``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.settings import Settings
from api.speech import SpeechService


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_speech_service(request: Request) -> SpeechService:
    service: SpeechService = request.app.state.speech
    return service


SettingsDep = Annotated[Settings, Depends(get_settings)]
SpeechServiceDep = Annotated[SpeechService, Depends(get_speech_service)]

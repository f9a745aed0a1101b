from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import SettingsDep, SpeechServiceDep
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(request: Request, service: SpeechServiceDep, settings: SettingsDep) -> Health:
    """Liveness and readiness: answers once the model is loaded and warmed up."""
    return Health(
        backend=service.backend.name,
        device=service.backend.device,
        model_sha256=request.app.state.model_sha256,
        voices=len(service.voices.ids()),
        api_key_required=bool(settings.api_keys),
    )

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SpeechServiceDep
from api.errors import APIError
from api.schemas import ACCEPTED_MODELS, ErrorBody, ModelCard, ModelList
from api.speech import SpeechService

router = APIRouter(tags=["models"])


def check_model(model_id: str) -> str:
    """Raise a 404 in OpenAI's shape unless ``model_id`` is one we serve."""
    if model_id not in ACCEPTED_MODELS:
        raise APIError(
            404,
            f"The model '{model_id}' does not exist; use one of {', '.join(ACCEPTED_MODELS)}.",
            param="model",
            code="model_not_found",
        )
    return model_id


def _card(model_id: str, service: SpeechService) -> ModelCard:
    return ModelCard(id=model_id, backend=service.backend.name, device=service.backend.device)


@router.get("/v1/models")
async def list_models(service: SpeechServiceDep) -> ModelList:
    return ModelList(data=[_card(model_id, service) for model_id in ACCEPTED_MODELS])


@router.get("/v1/models/{model_id}", responses={404: {"model": ErrorBody}})
async def get_model(model_id: str, service: SpeechServiceDep) -> ModelCard:
    return _card(check_model(model_id), service)
